// ESLint flat config: typescript-eslint's recommended rules with type information, so that promises
// that are neither awaited nor handled (no-floating-promises) or passed where a plain callback is
// expected (no-misused-promises) fail the lint step of `npm test`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', '.test-ca/', 'coverage/', 'portal/dist/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        // The .js/.mjs files (this config, scripts/test.mjs) are outside tsconfig.json; they get
        // TypeScript's default project so the type-aware rules can run on them too.
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/test return promises that the runner itself awaits and reports;
          // awaiting them in the test files would serialise suites for nothing.
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'suite', 'test', 'it'] }],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      // Node.js globals used by the plain-JavaScript scripts (kept inline rather than adding `globals`).
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
);
