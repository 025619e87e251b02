// The source tree's shape, checked from the sources themselves with the TypeScript compiler: no file under
// src/ over 500 lines, no function over 150 lines, no import cycle between the folders of src/, and the
// validity rule (whyInvalid) fed only by the one builder of its inputs (src/protocol/credential-facts.ts),
// and one AsyncLocalStorage.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const src = path.join(root, 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

const files = sourceFiles(src).map((p) => {
  const text = fs.readFileSync(p, 'utf8');
  return { rel: path.relative(root, p), text, ast: ts.createSourceFile(p, text, ts.ScriptTarget.Latest, true) };
});

const MAX_FILE_LINES = 500;
const MAX_FUNCTION_LINES = 150;

// Known offenders outside src/protocol and src/http, being split by their owners: remove an entry when
// its file is split. Nothing under src/protocol or src/http may be listed.
const LONG_FILES_ALLOWED = new Set<string>([
]);
const LONG_FUNCTIONS_ALLOWED = new Set<string>([
  'src/demo/portal.ts:registerDemo',
  'src/storage/migrations.ts:migrations', // one list of migration steps
]);
// Folder edges that close a cycle today, outside src/protocol and src/http: remove when the owner breaks it.
const CYCLE_EDGES_ALLOWED = new Set<string>([
  'events -> admin', // src/events/audit.ts names the Actor type of src/admin/actor.ts
]);
// Callers of whyInvalid outside src/protocol and src/http that do not use the builder yet.
const VALIDITY_CALLERS_ALLOWED = new Set<string>([
]);

/** An allow-list entry that no longer matches an offender must go. */
function assertStillNeeded(allowed: Set<string>, found: Set<string>, what: string): void {
  for (const entry of allowed) assert.ok(found.has(entry), `${entry} is no longer ${what}: remove it from the allow-list`);
}

function ownedByProtocolOrHttp(rel: string): boolean {
  return rel.startsWith('src/protocol/') || rel.startsWith('src/http/');
}

function functionName(node: ts.Node): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name && ts.isIdentifier(named.name)) return named.name.text;
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return '<anonymous>';
}

describe('source structure', () => {
  test('the allow-lists name nothing under src/protocol or src/http', () => {
    for (const entry of [...LONG_FILES_ALLOWED, ...LONG_FUNCTIONS_ALLOWED, ...VALIDITY_CALLERS_ALLOWED]) assert.ok(!ownedByProtocolOrHttp(entry), entry);
    for (const edge of CYCLE_EDGES_ALLOWED) assert.ok(!/\b(protocol|http)\b/.test(edge), edge);
  });

  test(`no file under src/ is over ${MAX_FILE_LINES} lines`, () => {
    const offenders = files.filter((f) => f.text.split('\n').length > MAX_FILE_LINES);
    assert.deepEqual(offenders.filter((f) => !LONG_FILES_ALLOWED.has(f.rel)).map((f) => `${f.rel}: ${f.text.split('\n').length} lines`), []);
    assertStillNeeded(LONG_FILES_ALLOWED, new Set(offenders.map((f) => f.rel)), 'too long');
  });

  test(`no function under src/ is over ${MAX_FUNCTION_LINES} lines`, () => {
    const long: string[] = [];
    const found = new Set<string>();
    for (const f of files) {
      const visit = (node: ts.Node) => {
        if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isConstructorDeclaration(node)) {
          const start = f.ast.getLineAndCharacterOfPosition(node.getStart(f.ast)).line;
          const end = f.ast.getLineAndCharacterOfPosition(node.getEnd()).line;
          const name = `${f.rel}:${functionName(node)}`;
          if (end - start + 1 > MAX_FUNCTION_LINES) found.add(name);
          if (end - start + 1 > MAX_FUNCTION_LINES && !LONG_FUNCTIONS_ALLOWED.has(name)) long.push(`${name} (line ${start + 1}): ${end - start + 1} lines`);
        }
        ts.forEachChild(node, visit);
      };
      visit(f.ast);
    }
    assert.deepEqual(long, []);
    assertStillNeeded(LONG_FUNCTIONS_ALLOWED, found, 'too long');
  });

  test('no import cycle between the folders of src/', () => {
    const folderOf = (abs: string) => path.relative(src, abs).split(path.sep)[0]!;
    const edges = new Map<string, Set<string>>();
    for (const f of files) {
      const from = path.relative('src', f.rel).split(path.sep);
      if (from.length < 2) continue; // entry points at src/ itself
      for (const stmt of f.ast.statements) {
        const spec = (ts.isImportDeclaration(stmt) || ts.isExportDeclaration(stmt)) && stmt.moduleSpecifier && ts.isStringLiteral(stmt.moduleSpecifier) ? stmt.moduleSpecifier.text : undefined;
        if (!spec?.startsWith('.')) continue;
        const target = path.resolve(root, path.dirname(f.rel), spec);
        if (!target.startsWith(src + path.sep)) continue;
        const to = folderOf(target);
        if (to === from[0] || to.endsWith('.js') || to.endsWith('.ts')) continue;
        if (CYCLE_EDGES_ALLOWED.has(`${from[0]} -> ${to}`)) continue;
        if (!edges.has(from[0]!)) edges.set(from[0]!, new Set());
        edges.get(from[0]!)!.add(to);
      }
    }
    // depth-first search for a back edge
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const walk = (node: string, trail: string[]) => {
      state.set(node, 'open');
      for (const next of edges.get(node) ?? []) {
        if (state.get(next) === 'open') cycles.push([...trail.slice(trail.indexOf(next)), node, next].join(' -> '));
        else if (!state.has(next)) walk(next, trail.concat(node));
      }
      state.set(node, 'done');
    };
    for (const node of edges.keys()) if (!state.has(node)) walk(node, []);
    assert.deepEqual(cycles, []);
  });

  test('whyInvalid is called only with facts from the builder (src/protocol/credential-facts.ts)', () => {
    const bad: string[] = [];
    for (const f of files) {
      if (f.rel === 'src/protocol/validity.ts' || VALIDITY_CALLERS_ALLOWED.has(f.rel)) continue;
      const importsBuilder = f.rel === 'src/protocol/credential-facts.ts' || f.ast.statements.some((s) => ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier) && /credential-facts\.js$/.test(s.moduleSpecifier.text));
      const visit = (node: ts.Node) => {
        if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'whyInvalid') {
          const line = f.ast.getLineAndCharacterOfPosition(node.getStart(f.ast)).line + 1;
          if (!importsBuilder) bad.push(`${f.rel}:${line}: calls whyInvalid without importing the builder`);
          const facts = node.arguments[1];
          if (facts && (ts.isObjectLiteralExpression(facts) || ts.isIdentifier(facts))) bad.push(`${f.rel}:${line}: facts are not built by the builder (${facts.getText(f.ast).slice(0, 40)})`);
        }
        ts.forEachChild(node, visit);
      };
      visit(f.ast);
    }
    assert.deepEqual(bad, []);
  });

  test('one AsyncLocalStorage under src/ (src/storage/scope.ts): Node 20 pays for each on every promise', () => {
    const made: string[] = [];
    for (const f of files) {
      const visit = (node: ts.Node) => {
        if (ts.isNewExpression(node) && node.expression.getText(f.ast) === 'AsyncLocalStorage') made.push(`${f.rel}:${f.ast.getLineAndCharacterOfPosition(node.getStart(f.ast)).line + 1}`);
        ts.forEachChild(node, visit);
      };
      visit(f.ast);
    }
    assert.deepEqual(made.map((m) => m.replace(/:\d+$/, '')), ['src/storage/scope.ts'], made.join('\n'));
  });
});
