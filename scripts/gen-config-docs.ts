// `npm run docs:config`: writes docs/configuration.md from the settings in src/config/index.ts.
// tests/config.test.ts fails when the committed file differs from what this would write.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configurationMarkdown } from '../src/config/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'docs', 'configuration.md');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, configurationMarkdown());
console.log(`wrote ${path.relative(root, out)}`);
