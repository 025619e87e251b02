// Command line for operators: `npm run cli -- <command>`. Every admin action of the registry
// (src/admin/registry.ts) is a command named like its file (reset-password, revoke-sessions, ...), a thin
// caller acting as the local operator: it prints the preview (plan()), asks before a destructive apply
// unless --yes, then applies exactly that plan. `--dry-run` prints the preview and writes nothing;
// `--json` prints one JSON document for scripts. `<command> --help` describes each command.
// Exit codes: 0 done, 1 unexpected error, 2 usage or configuration error, 3 refused by the action,
// 4 not confirmed.
import { ConfigError, loadConfig } from './config/index.js';
import { Secrets } from './crypto/secrets.js';
import { type ActionContext, ActionError, type ApplyResult, type CredentialLine, type Preview } from './admin/action.js';
import type { Actor } from './admin/actor.js';
import { ACTIONS, type InputField, type RegisteredAction } from './admin/registry.js';
import { EXTRA_HELP, playbook, sessionsList } from './cli-playbook.js';
import { APPS_HELP, runApps } from './cli-apps.js';
import { CliSetupError, CliUsageError as UsageError, checkArguments, checkStdinValue, checkStoredData, confirm, escapeControls, optionValue, say } from './cli-kit.js';
import { currentTotpCodes } from './demo/totp.js';
import { loadTenant } from './directory/tenant.js';
import { rotateSigningKey } from './protocol/keys.js';
import { openStore } from './storage/db.js';
import { sweepExpired } from './storage/oidc-adapter.js';

const EXIT = { ok: 0, error: 1, usage: 2, refused: 3, notConfirmed: 4 } as const;

/** Older command names kept working. */
const ALIASES: Record<string, string> = { disable: 'disable-account', enable: 'enable-account' };

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const BY_COMMAND = new Map(Object.values(ACTIONS).map((a) => [a.command, a]));

const COMMON_ACTION_OPTIONS = [
  ['--dry-run', 'print the preview and change nothing'],
  ['--yes', 'apply without asking (needed when stdin is not a terminal)'],
  ['--json', 'print one JSON document ({preview} or {preview, result}) instead of text'],
  ['--help', 'this help'],
] as const;

/** An action's own options: one per input property; a secret is read from stdin (`--new-password-stdin`). */
function optionsOf(action: RegisteredAction): { flag: string; field: string; f: InputField }[] {
  return Object.entries(action.input).map(([field, f]) => ({ flag: `--${kebab(field)}${f.secret ? '-stdin' : ''}`, field, f }));
}

function actionHelp(action: RegisteredAction): string {
  const lines = [`usage: npm run cli -- ${action.command} <user id or UPN> [options]`, '', `${action.summary}.${action.destructive ? ' Destructive: asks for confirmation unless --yes.' : ''}${action.readOnly ? ' A read: prints a table (--json: one JSON document) and changes nothing.' : ''}`, '', 'options:'];
  for (const o of optionsOf(action)) {
    const arg = o.f.secret ? o.flag : o.f.type === 'boolean' ? `${o.flag} | --no-${o.flag.slice(2)}` : `${o.flag} <${o.f.values ? o.f.values.join('|') : o.f.type}>`;
    const description = o.f.secret ? `${o.f.description} Read from the first line of stdin (never from the command line, where other users and the shell history see it); needs --yes.` : o.f.description;
    lines.push(arg.length > 30 ? `  ${arg}\n  ${''.padEnd(30)} ${description}` : `  ${arg.padEnd(30)} ${description}`);
  }
  for (const [flag, what] of COMMON_ACTION_OPTIONS) if (!action.readOnly || flag === '--json' || flag === '--help') lines.push(`  ${flag.padEnd(30)} ${flag === '--json' && action.readOnly ? 'print one JSON document ({target, value}) instead of the table' : what}`);
  return lines.join('\n');
}

const HELP: Record<string, string> = {
  'keys rotate': 'usage: npm run cli -- keys rotate [--json]\n\nAdds a new token-signing key, used from the next start; the previous key stays published until its tokens expire.\n\noptions:\n  --json    print {"kid"} as JSON instead of text\n  --help    this help',
  sweep: 'usage: npm run cli -- sweep [--json]\n\nDeletes expired rows now (engine rows, sign-in flows, idle sessions, expired admin plans...).\n\noptions:\n  --json    print {"deletedRows"} as JSON instead of text\n  --help    this help',
  'users list': 'usage: npm run cli -- users list [--json]\n\nLists the users: user principal name, display name, enabled, directory roles.',
  ...APPS_HELP,
  'demo totp': [
    'usage: npm run cli -- demo totp <user> [--json]',
    '',
    "Prints the code the user's authenticator app shows now (alice means alice@{tenant domain}), for trying Latchkey without a phone.",
    '',
    'With security defaults on, a demo user registers an authenticator app at first sign-in ("More information',
    'required"): type the code printed here for the app being set up; later sign-ins ask for the code again.',
    'It reads the seed sealed with the master key, so it works only where the database and master key are,',
    'and only while the demo is on (LATCHKEY_DEMO): whoever runs it passes the user\'s second factor.',
  ].join('\n'),
  ...EXTRA_HELP,
};

function overview(): string {
  const lines = ['usage: npm run cli -- <command> [options]     (<command> --help for its options)', '', 'commands:'];
  for (const [cmd, text] of Object.entries(HELP)) lines.push(`  ${cmd.padEnd(30)} ${text.split('\n')[2]}`);
  for (const a of Object.values(ACTIONS)) lines.push(`  ${`${a.command} <user>`.padEnd(30)} ${a.summary}`);
  lines.push('', 'Admin commands act as the local operator ("system"), are audited, and print the preview first.');
  return lines.join('\n');
}

/** Parses an action's arguments: one positional (the user), the common flags, the action's own options. */
function parseActionArgs(action: RegisteredAction, args: string[]): { user: string; dryRun: boolean; yes: boolean; json: boolean; input: Record<string, unknown>; fromStdin?: string } {
  const out: ReturnType<typeof parseActionArgs> = { user: '', dryRun: false, yes: false, json: false, input: {} };
  const opts = optionsOf(action);
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--dry-run') out.dryRun = true;
    else if (a === '--yes' || a === '-y') out.yes = true;
    else if (a === '--json') out.json = true;
    else if (a.startsWith('--')) {
      const negated = a.startsWith('--no-') ? `--${a.slice(5)}` : undefined;
      const o = opts.find((x) => x.flag === a || (negated && x.flag === negated && x.f.type === 'boolean'));
      if (!o) throw new UsageError(`unknown option ${a} for ${action.command}`);
      if (o.f.secret) {
        if (out.fromStdin) throw new UsageError('only one value can be read from stdin');
        out.fromStdin = o.field;
      } else if (o.f.type === 'boolean') out.input[o.field] = negated === undefined;
      else {
        const v = optionValue(args, i++);
        out.input[o.field] = o.f.type === 'integer' && /^-?\d+$/.test(v) ? Number(v) : v;
      }
    } else positional.push(a);
  }
  if (positional.length !== 1) throw new UsageError(`${action.command} takes exactly one user (id or UPN)`);
  // stdin carries the secret, so it cannot also answer the confirmation prompt
  if (out.fromStdin && !out.yes && !out.dryRun) throw new UsageError(`a value read from stdin needs --yes (or --dry-run): stdin cannot also answer the confirmation`);
  out.user = positional[0]!;
  return out;
}

function lineText(l: CredentialLine): string {
  return `  ${l.kind.padEnd(8)} ${l.app}  ${l.device}${l.ip ? `  ${l.ip}` : ''}  last used ${l.lastUsedAt}${l.refusal ? `  (next use refused: ${l.refusal})` : ''}`;
}

function previewText(p: Preview): string {
  const lines = [`${p.action} for ${p.target.displayName} <${p.target.userPrincipalName}> (${p.target.id})`, '', 'changes:'];
  for (const c of p.changes) lines.push(`  ${c.property}: ${c.oldValue ?? '(none)'} -> ${c.newValue ?? '(none)'}`);
  if (p.methods) lines.push('', 'authentication methods:', ...p.methods.map((m) => `  ${m.type.padEnd(24)} ${m.id}  ${m.fate}`));
  lines.push('', `ends (${p.ending.length}):`, ...(p.ending.length ? p.ending.map(lineText) : ['  nothing']));
  lines.push(`survives (${p.surviving.length}):`, ...(p.surviving.length ? p.surviving.map(lineText) : ['  nothing']));
  if (p.accessTokensLiveUntil.length) lines.push('access tokens already issued stay usable until they expire:', ...p.accessTokensLiveUntil.map((a) => `  ${a.app} until ${a.until}`));
  lines.push(`next sign-in: ${p.nextSignIn}`);
  if (p.warnings.length) lines.push('warnings:', ...p.warnings.map((w) => `  - ${w}`));
  return lines.join('\n');
}

/** A read-only action's answer (View authentication methods policy): one row per method. */
function methodsPolicyText(p: Preview): string {
  const rows = [['METHOD', 'ENABLED', 'WHY'], ...(p.methodsPolicy ?? []).map((m) => [m.displayName, m.enabled ? 'yes' : 'no', m.reasonText])];
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return [`authentication methods policy for ${p.target.displayName} <${p.target.userPrincipalName}> (${p.target.id})`, '', ...rows.map((r) => `${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]!}`)].join('\n');
}

function resultJson(action: RegisteredAction, r: ApplyResult) {
  return { appliedDateTime: new Date(r.appliedAt).toISOString(), endedCount: r.endedCount, ended: r.ended, ...(r.secret !== undefined ? { [action.secret.property]: r.secret } : {}) };
}

async function firstLineOfStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('a value to read from stdin was asked for, but stdin is a terminal: pipe it in');
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n') || text.length > 4096) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** Runs `fn` on the store of an existing tenant; refuses (exit 2) before creating anything when there is none. */
async function withStore<T>(fn: (ctx: ActionContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  checkStoredData(config);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const tenant = await loadTenant(store.db);
    if (!tenant) throw new CliSetupError('no tenant yet: start Latchkey once first');
    const secrets = Secrets.load(config.masterKey, config.dataDir);
    return await fn({ db: store.db, secrets, tenantId: tenant.id, config });
  } finally {
    await store.close();
  }
}

async function runAction(action: RegisteredAction, args: string[]): Promise<number> {
  const opts = parseActionArgs(action, args);
  if (opts.fromStdin) opts.input[opts.fromStdin] = checkStdinValue(await firstLineOfStdin(), optionsOf(action).find((o) => o.field === opts.fromStdin)!.flag);
  return withStore(async (ctx) => {
    const actor: Actor = { kind: 'system', id: 'system', displayName: 'Latchkey command line' };
    const plan = await action.plan(ctx, actor, opts.user, action.parseInput(opts.input));
    if (action.readOnly) {
      if (opts.json) console.log(JSON.stringify({ target: plan.preview.target, value: plan.preview.methodsPolicy ?? [] }, null, 2));
      else say(methodsPolicyText(plan.preview));
      return EXIT.ok;
    }
    if (!opts.json) say(previewText(plan.preview));
    if (opts.dryRun) {
      if (opts.json) console.log(JSON.stringify({ preview: plan.preview }, null, 2));
      else say('\n(dry run: nothing was changed)');
      return EXIT.ok;
    }
    if (action.destructive && !opts.yes) {
      if (!process.stdin.isTTY) {
        console.error(`not applied: ${action.command} is destructive; pass --yes to apply without a prompt (stdin is not a terminal, so none can be shown)`);
        return EXIT.notConfirmed;
      }
      // with --json the preview is not on stdout yet: show it with the question, so that the answer is informed
      if (!(await confirm(`\nApply ${action.command} to ${escapeControls(plan.preview.target.userPrincipalName)}? [y/N] `, opts.json ? previewText(plan.preview) : undefined))) {
        console.error('not applied');
        return EXIT.notConfirmed;
      }
    }
    const result = await action.apply(ctx, plan);
    if (opts.json) {
      console.log(JSON.stringify({ preview: plan.preview, result: resultJson(action, result) }, null, 2));
    } else {
      say(`\napplied at ${new Date(result.appliedAt).toISOString()}; ${result.endedCount} sessions and grants ended`);
      if (result.secret) say(`${action.secret.label} (shown once): ${result.secret}`);
    }
    return EXIT.ok;
  });
}

async function usersList(json: boolean): Promise<number> {
  return withStore(async (ctx) => {
    const users = await ctx.db.selectFrom('users').select(['id', 'upn', 'display_name', 'account_enabled']).where('tenant_id', '=', ctx.tenantId).orderBy('upn_lower').execute();
    const roles = await ctx.db.selectFrom('user_roles').innerJoin('users', 'users.id', 'user_roles.user_id').select(['user_roles.user_id', 'user_roles.role']).where('users.tenant_id', '=', ctx.tenantId).orderBy('user_roles.role').execute();
    const rows = users.map((u) => ({ id: u.id, userPrincipalName: u.upn, displayName: u.display_name, accountEnabled: u.account_enabled === 1, roles: roles.filter((r) => r.user_id === u.id).map((r) => r.role) }));
    if (json) {
      console.log(JSON.stringify(rows, null, 2));
      return EXIT.ok;
    }
    const table = [['USER PRINCIPAL NAME', 'DISPLAY NAME', 'ENABLED', 'ROLES'], ...rows.map((r) => [r.userPrincipalName, r.displayName, r.accountEnabled ? 'yes' : 'no', r.roles.join(', ') || '-'])];
    const widths = [0, 1, 2].map((i) => Math.max(...table.map((t) => t[i]!.length)));
    for (const t of table) say(t.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  '));
    return EXIT.ok;
  });
}

async function demoTotp(user: string, json: boolean): Promise<number> {
  return withStore(async (ctx) => {
    if (!ctx.config.demo) throw new UsageError('demo totp works only while the demo is on (LATCHKEY_DEMO=true)');
    const tenant = (await loadTenant(ctx.db))!;
    const codes = await currentTotpCodes(ctx.db, ctx.secrets, tenant, user);
    if (!codes) throw new ActionError('not_found', `no user ${user} in ${tenant.domain}`);
    if (json) {
      console.log(JSON.stringify(codes, null, 2));
      return EXIT.ok;
    }
    if (!codes.length) {
      say(`${user} has no authenticator app yet: sign in, and run this again on the "More information required" page`);
      return EXIT.ok;
    }
    for (const c of codes) say(`${c.code}  (${c.status === 'pending' ? 'the app being set up' : 'authenticator app'} ${c.methodId}; next code in ${c.secondsLeft} s)`);
    return EXIT.ok;
  });
}

/** `sessions end <user> <id>` / `grants end <user> <id>`: the end-session / end-grant actions in verb-noun order. */
function endOneArgs(argv: string[]): string[] | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const kind = words[0] === 'sessions' ? 'session' : words[0] === 'grants' ? 'grant' : undefined;
  if (!kind || words[1] !== 'end' || words.length !== 4 || argv.includes('--help') || argv.includes('-h')) return undefined;
  return [`end-${kind}`, words[2]!, `--${kind}-id`, words[3]!, ...argv.filter((a) => a.startsWith('-'))];
}

/** `args` without the first occurrence of each of `words` (the command's own words). */
function without(args: readonly string[], ...words: (string | undefined)[]): string[] {
  const out = [...args];
  for (const w of words) if (w !== undefined && out.includes(w)) out.splice(out.indexOf(w), 1);
  return out;
}

/** The arguments of a command whose only option is --json: `count` positionals, `what` naming them in the error. */
function jsonAndPositionals(command: string, args: readonly string[], count: number, what: string): { json: boolean; positional: string[] } {
  for (const a of args) if (a.startsWith('-') && a !== '--json') throw new UsageError(`unknown option ${a} for ${command}`);
  const positional = args.filter((a) => !a.startsWith('-'));
  if (positional.length !== count) throw new UsageError(`${command} takes ${what}`);
  return { json: args.includes('--json'), positional };
}

/** keys rotate and sweep: writes that remove nothing anyone uses, so no confirmation; --json for scripts. */
async function maintenance(command: 'keys rotate' | 'sweep', args: readonly string[]): Promise<number> {
  const { json } = jsonAndPositionals(command, args, 0, 'no argument (only --json)');
  return withStore(async (ctx) => {
    if (command === 'sweep') {
      const deletedRows = await sweepExpired(ctx.db);
      if (json) console.log(JSON.stringify({ deletedRows }, null, 2));
      else say(`${deletedRows} expired rows deleted`);
    } else {
      const kid = await rotateSigningKey(ctx.db, ctx.secrets);
      if (json) console.log(JSON.stringify({ kid }, null, 2));
      else say(`new signing key ${kid}; restart Latchkey to sign with it (the previous key stays published until its tokens expire)`);
    }
    return EXIT.ok;
  });
}

async function dispatch(argv: string[]): Promise<number> {
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  // `help <command>` is `<command> --help`
  if (argv[0] === 'help' && argv.length > 1 && !wantsHelp) return dispatch([...argv.slice(1), '--help']);
  argv = endOneArgs(argv) ?? argv;
  const words = argv.filter((a) => !a.startsWith('-'));
  const first = words[0] === undefined ? undefined : (ALIASES[words[0]] ?? words[0]);
  const action = first ? BY_COMMAND.get(first) : undefined;
  const two = words.slice(0, 2).join(' ');
  if (!argv.length || first === 'help' || (wantsHelp && !action && !HELP[two] && !(first && HELP[first]))) {
    console.log(overview());
    return EXIT.ok;
  }
  if (action) {
    if (wantsHelp) return (console.log(actionHelp(action)), EXIT.ok);
    return await runAction(action, without(argv, words[0]));
  }
  if (wantsHelp) return (console.log(HELP[two] ?? HELP[first!]), EXIT.ok);
  const rest = without(argv, words[0], words[1]);
  if (two === 'sessions list' || two === 'grants list') return await withStore((ctx) => sessionsList(ctx, two === 'sessions list' ? 'sessions' : 'grants', rest));
  // endOneArgs rewrote every well-formed one
  if (two === 'sessions end' || two === 'grants end') throw new UsageError(`${two} takes exactly a user and a ${two === 'sessions end' ? 'session' : 'grant'} id`);
  if (first === 'playbook') return await withStore((ctx) => playbook(ctx, without(argv, words[0])));
  if (two === 'users list') return await usersList(jsonAndPositionals('users list', rest, 0, 'no argument (only --json)').json);
  if (words[0] === 'apps' && words[1] !== undefined) {
    await runApps(words[1], rest, (fn) => withStore(fn));
    return EXIT.ok;
  }
  if (two === 'demo totp') {
    const { json, positional } = jsonAndPositionals('demo totp', rest, 1, 'exactly one user (UPN, or a name such as alice)');
    return await demoTotp(positional[0]!, json);
  }
  if (two === 'keys rotate') return await maintenance('keys rotate', rest);
  if (first === 'sweep') return await maintenance('sweep', without(argv, words[0]));
  const group = Object.keys(HELP).filter((c) => c.split(' ')[0] === words[0] && c.includes(' '));
  throw new UsageError(`unknown command: ${escapeControls(two || argv[0]!)}${group.length ? ` (the ${words[0]} commands: ${group.join(', ')})` : ''}`);
}

async function main(argv: string[]): Promise<number> {
  try {
    checkArguments(argv);
    return await dispatch(argv);
  } catch (e) {
    // one line each: what was wrong, never a stack trace
    if (e instanceof UsageError) {
      console.error(`latchkey: ${escapeControls(e.message)} (see --help)`);
      return EXIT.usage;
    }
    if (e instanceof CliSetupError) {
      console.error(`latchkey: ${escapeControls(e.message)}`);
      return EXIT.usage;
    }
    if (e instanceof ActionError) {
      console.error(`refused (${e.code}): ${escapeControls(e.message)}`);
      return EXIT.refused;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`latchkey: ${e instanceof ConfigError ? 'configuration error: ' : ''}${escapeControls(e instanceof Error ? e.message : String(e))}`);
    process.exit(e instanceof ConfigError ? EXIT.usage : EXIT.error);
  },
);
