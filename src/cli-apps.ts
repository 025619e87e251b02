// The command line's `apps` commands (called by src/cli.ts): list the app registrations, create one
// (display name, redirect URIs by platform; with its service principal, as Entra's portal registers one), add a
// client secret (printed once). The writes are the same admin actions as Graph's POST /applications,
// POST /servicePrincipals and addPassword, acting as the local operator, audited.
// A server running on the same SQLite file sees a change within its cache's 5 seconds (another process
// wrote it); on PostgreSQL at once.
import type { ActionContext } from './admin/action.js';
import type { Actor } from './admin/actor.js';
import * as addPassword from './admin/actions/add-application-password.js';
import * as createApplication from './admin/actions/create-application.js';
import * as createServicePrincipal from './admin/actions/create-service-principal.js';
import { loadApplication } from './admin/applications.js';
import { appFromRow } from './directory/apps.js';
import { FIRST_PARTY_APP_IDS } from './directory/first-party.js';
import { CliUsageError, optionValue, parseIsoDateTime, say } from './cli-kit.js';

export const APPS_HELP: Record<string, string> = {
  'apps list': 'usage: npm run cli -- apps list [--json]\n\nLists the app registrations: appId (client id), object id, display name, redirect URIs by platform, client secrets.',
  'apps create': [
    'usage: npm run cli -- apps create <display name> [options]',
    '',
    'Registers an application with its service principal, and prints its appId (client id), object id and service principal id.',
    'It is Graph POST /applications, then POST /servicePrincipals (without a service principal the app gets no token).',
    '',
    'options (each URI option may be repeated):',
    '  --web-redirect-uri <uri>            a web (confidential) redirect URI: HTTPS, or http://localhost',
    '  --spa-redirect-uri <uri>            a single-page app redirect URI: HTTPS, or http://localhost',
    '  --public-client-redirect-uri <uri>  a mobile or desktop redirect URI: http://localhost, HTTPS or a custom scheme',
    '  --identifier-uri <uri>              an identifier URI (api://...) when the app is an API',
    '  --allow-public-client-flows         isFallbackPublicClient: the device-code flow without a secret',
    '  --dry-run                           print the preview and change nothing',
    '  --json                              print one JSON document ({preview} or {preview, result})',
    '  --help                              this help',
  ].join('\n'),
  'apps add-secret': [
    'usage: npm run cli -- apps add-secret <appId or object id> [options]',
    '',
    'Adds a client secret to an application (as Graph addPassword does) and prints it once: it is stored only as a hash.',
    '',
    'options:',
    '  --display-name <name>               a description of the secret',
    '  --end-date-time <ISO 8601 time>     when it expires, e.g. 2027-01-31 or 2027-01-31T00:00:00Z (default: in two years)',
    '  --dry-run                           print the preview and change nothing',
    '  --json                              print one JSON document ({preview} or {preview, result})',
    '  --help                              this help',
  ].join('\n'),
};

const OPERATOR: Actor = { kind: 'system', id: 'system', displayName: 'Latchkey command line' };

interface Parsed {
  positional: string[];
  values: Record<string, string[]>;
  flags: Set<string>;
}

function parse(args: string[], valued: readonly string[], flags: readonly string[]): Parsed {
  const out: Parsed = { positional: [], values: {}, flags: new Set() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (valued.includes(a)) (out.values[a] ??= []).push(optionValue(args, i++));
    else if (flags.includes(a)) out.flags.add(a);
    else if (a.startsWith('-')) throw new CliUsageError(`unknown option ${a}`);
    else out.positional.push(a);
  }
  return out;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function list(ctx: ActionContext, json: boolean): Promise<void> {
  const rows = await ctx.db.selectFrom('apps').selectAll().where('tenant_id', '=', ctx.tenantId).where('kind', '=', 'application').where('id', 'not in', FIRST_PARTY_APP_IDS).orderBy('display_name').execute();
  const secrets = await ctx.db.selectFrom('app_secrets').select('app_id').execute();
  const apps = rows.map(appFromRow).map((a) => ({ appId: a.id, id: a.objectId, displayName: a.displayName, web: a.webRedirectUris, spa: a.spaRedirectUris, publicClient: a.publicClientRedirectUris, identifierUris: a.identifierUris, secrets: secrets.filter((s) => s.app_id === a.id).length }));
  if (json) return console.log(JSON.stringify(apps, null, 2));
  const table = [['APP ID (CLIENT ID)', 'OBJECT ID', 'DISPLAY NAME', 'REDIRECT URIS', 'SECRETS'], ...apps.map((a) => [a.appId, a.id, a.displayName, [...a.web.map((u) => `web ${u}`), ...a.spa.map((u) => `spa ${u}`), ...a.publicClient.map((u) => `publicClient ${u}`)].join(', ') || '-', String(a.secrets)])];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...table.map((t) => t[i]!.length)));
  for (const t of table) say(t.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c)).join('  '));
}

function previewText(p: { action: string; target: { displayName: string }; changes: { property: string; oldValue: string | null; newValue: string | null }[]; warnings: string[] }): string {
  return [`${p.action} for ${p.target.displayName}`, ...p.changes.map((c) => `  ${c.property}: ${c.oldValue ?? '(none)'} -> ${c.newValue ?? '(none)'}`), ...p.warnings.map((w) => `  note: ${w}`)].join('\n');
}

async function create(ctx: ActionContext, args: string[]): Promise<void> {
  const o = parse(args, ['--web-redirect-uri', '--spa-redirect-uri', '--public-client-redirect-uri', '--identifier-uri'], ['--allow-public-client-flows', '--dry-run', '--json']);
  if (o.positional.length !== 1) throw new CliUsageError('apps create takes exactly one display name (quote it when it has spaces)');
  const plan = await createApplication.plan(ctx, OPERATOR, {
    displayName: o.positional[0]!,
    webRedirectUris: o.values['--web-redirect-uri'] ?? [],
    spaRedirectUris: o.values['--spa-redirect-uri'] ?? [],
    publicClientRedirectUris: o.values['--public-client-redirect-uri'] ?? [],
    identifierUris: o.values['--identifier-uri'] ?? [],
    isFallbackPublicClient: o.flags.has('--allow-public-client-flows'),
  });
  const json = o.flags.has('--json');
  if (!json) say(previewText(plan.preview));
  if (o.flags.has('--dry-run')) return json ? console.log(JSON.stringify({ preview: plan.preview }, null, 2)) : say('\n(dry run: nothing was changed)');
  const { value: app } = await createApplication.apply(ctx, plan);
  // and its service principal, as Entra's portal registers an app: without one it gets no token (AADSTS7000229)
  const { value: sp } = await createServicePrincipal.apply(ctx, await createServicePrincipal.plan(ctx, OPERATOR, { appId: app.id }));
  if (json) return console.log(JSON.stringify({ preview: plan.preview, result: { appId: app.id, id: app.objectId, displayName: app.displayName, servicePrincipalId: sp.id } }, null, 2));
  say(`\ncreated: appId (client id) ${app.id}, object id ${app.objectId}, service principal ${sp.id}`);
}

async function addSecret(ctx: ActionContext, args: string[]): Promise<void> {
  const o = parse(args, ['--display-name', '--end-date-time'], ['--dry-run', '--json']);
  if (o.positional.length !== 1 || !GUID.test(o.positional[0]!)) throw new CliUsageError('apps add-secret takes exactly one application: its appId (client id) or object id');
  const id = o.positional[0]!;
  const end = o.values['--end-date-time']?.[0];
  const endMs = end === undefined ? undefined : parseIsoDateTime(end, '--end-date-time');
  // by appId first (what operators hold), else by object id
  const byAppId = await loadApplication(ctx.db, ctx.tenantId, id, true).then(() => true, () => false);
  const plan = await addPassword.plan(ctx, OPERATOR, id, { displayName: o.values['--display-name']?.[0] ?? null, endDateTime: endMs }, byAppId);
  const json = o.flags.has('--json');
  if (!json) say(previewText(plan.preview));
  if (o.flags.has('--dry-run')) return json ? console.log(JSON.stringify({ preview: plan.preview }, null, 2)) : say('\n(dry run: nothing was changed)');
  const { value: c } = await addPassword.apply(ctx, plan);
  const result = { keyId: c.keyId, hint: c.hint, displayName: c.displayName, endDateTime: c.endDateTime === null ? null : new Date(c.endDateTime).toISOString(), secretText: c.secretText };
  if (json) return console.log(JSON.stringify({ preview: plan.preview, result }, null, 2));
  say(`\nclient secret (shown once, store it now): ${c.secretText}\nkeyId ${c.keyId}, expires ${result.endDateTime}`);
}

/** Runs `apps <sub> ...args` with a store (the caller opens and closes it). */
export async function runApps(sub: string, args: string[], withStore: (fn: (ctx: ActionContext) => Promise<void>) => Promise<void>): Promise<void> {
  if (!['list', 'create', 'add-secret'].includes(sub)) throw new CliUsageError(`unknown command: apps ${sub} (the apps commands: apps list, apps create, apps add-secret)`);
  if (sub === 'list' && args.some((a) => a !== '--json')) throw new CliUsageError(`apps list takes only --json`);
  await withStore(async (ctx) => {
    if (sub === 'list') return list(ctx, args.includes('--json'));
    if (sub === 'create') return create(ctx, args);
    return addSecret(ctx, args);
  });
}
