// What the command line's files (src/cli.ts, src/cli-apps.ts, src/cli-playbook.ts) share: the usage error
// (exit 2), the checks every argument passes before anything runs (no empty value, no control character),
// an option's value, strict ISO 8601 dates, text output with control characters escaped (names come from
// the directory, which Graph callers write), and the confirmation prompt.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline/promises';

/** Bad input on the command line: one line on stderr, exit 2, nothing read or written. */
export class CliUsageError extends Error {}

/** The stored data is not there (no database, no tenant, no master key): exit 2, nothing created. */
export class CliSetupError extends Error {}

// C0 and C1 control characters and DEL; a newline or a tab in an argument is one too
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** `s` with every control character written as `\xNN`, so that a terminal shows it instead of obeying it. */
export function escapeControls(s: string, keepNewlines = false): string {
  return s.replace(CONTROL, (c) => (keepNewlines && c === '\n' ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Prints human-readable text: lines as given, any control character inside them escaped. */
export function say(text: string): void {
  console.log(escapeControls(text, true));
}

/** Refuses an empty argument and an argument with a control character, naming it. */
export function checkArguments(argv: readonly string[]): void {
  argv.forEach((a, i) => {
    const prev = argv[i - 1];
    const what = prev?.startsWith('--') ? `the value of ${prev}` : `argument ${i + 1}${prev ? ` (after ${escapeControls(prev)})` : ''}`;
    if (!a.trim()) throw new CliUsageError(`${what} is empty`);
    if (a.match(CONTROL)) throw new CliUsageError(`${what} "${escapeControls(a)}" contains a control character`);
  });
}

/** The value after an option: present, and not another option (`--steps --dry-run` would eat the --dry-run). */
export function optionValue(args: readonly string[], i: number): string {
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new CliUsageError(`${args[i]} needs a value`);
  return v;
}

/** A value read from stdin (a password): not empty, no control character; the value itself is never shown. */
export function checkStdinValue(value: string, flag: string): string {
  if (!value) throw new CliUsageError(`${flag}: nothing was read from stdin (pipe the value in, ending with a newline)`);
  if (value.match(CONTROL)) throw new CliUsageError(`${flag}: the value read from stdin contains a control character`);
  return value;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

/** An ISO 8601 date (midnight UTC) or date and time with its zone, as a time in ms; a day that does not exist is refused. */
export function parseIsoDateTime(value: string, flag: string): number {
  const m = ISO.exec(value);
  const bad = () => new CliUsageError(`${flag} ${value} is not a date and time (ISO 8601 with its zone, e.g. 2027-01-31 or 2027-01-31T00:00:00Z)`);
  if (!m) throw bad();
  const [year, month, day, hour = 0, minute = 0, second = 0, , offH = 0, offM = 0] = [m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9]].map((x) => (x === undefined ? undefined : Number(x)));
  const date = new Date(Date.UTC(year!, month! - 1, day!));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month! - 1 || date.getUTCDate() !== day) throw bad();
  if (hour > 23 || minute > 59 || second > 59 || offH > 23 || offM > 59) throw bad();
  const ms = Date.parse(m[4] === undefined ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(ms)) throw bad();
  return ms;
}

/**
 * Asks on the terminal (stderr) and reads the answer: true for y or yes. End of input (Ctrl+D) or Ctrl+C is a no.
 * The caller has checked that stdin is a terminal; `preview` is shown first when stdout carries JSON instead.
 */
export async function confirm(question: string, preview?: string): Promise<boolean> {
  if (preview !== undefined) console.error(escapeControls(preview, true));
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^(y|yes)$/i.test((await rl.question(question)).trim());
  } catch (e) {
    if ((e as Error).name === 'AbortError') return false;
    throw e;
  } finally {
    rl.close();
  }
}

/**
 * Refuses to open a store that is not there, before opening it: opening creates an empty SQLite database,
 * and loading the master key creates a new one, in a folder that held neither (a mistyped LATCHKEY_DATA_DIR).
 */
export function checkStoredData(config: { databaseUrl: string; dataDir: string; masterKey: string }): void {
  const where = path.resolve(config.dataDir);
  if (!config.databaseUrl && !fs.existsSync(path.join(where, 'latchkey.sqlite'))) throw new CliSetupError(`no Latchkey database in ${where}: start Latchkey once first, or set LATCHKEY_DATA_DIR (or LATCHKEY_DATABASE_URL) to where it keeps its data`);
  if (!config.masterKey && !fs.existsSync(path.join(where, 'master.key'))) throw new CliSetupError(`no master key: neither LATCHKEY_MASTER_KEY nor ${path.join(where, 'master.key')} is set; use the server's`);
}
