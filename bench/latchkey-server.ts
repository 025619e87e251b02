// Latchkey as it starts for real (startServer: SQLite store, migrations, seed with the demo tenant,
// encrypted signing key), over plain HTTP on loopback (tls=off; publicUrl names an https origin only
// because configuration requires it; the bench hits http://127.0.0.1:<port>), logs at warn.
// Refresh tokens are minted with the running engine's models for alice and the demo native app.
// For the revoke-sessions scenario it makes users holding N minted refresh tokens and calls the admin
// action directly (plan, apply, each timed); for password-signin it makes the users who sign in and
// times raw argon2id verifies in this same process; for mfa-signin it also makes users who must give a
// TOTP code after their password; for passkey-signin, users with a passkey.
// Run by bench/run.ts (BENCH_DATA_DIR: a fresh folder it removes afterwards); prints one JSON line
// ({benchReady, port, pid, ...}) on stdout when it listens.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Secret, TOTP } from 'otpauth';
import type { ActionContext } from '../src/admin/action.js';
import * as addApplicationPassword from '../src/admin/actions/add-application-password.js';
import * as createApplication from '../src/admin/actions/create-application.js';
import * as createServicePrincipal from '../src/admin/actions/create-service-principal.js';
import * as revokeSessions from '../src/admin/actions/revoke-sessions.js';
import type { Actor } from '../src/admin/actor.js';
import { loadConfig } from '../src/config/index.js';
import { GRAPH_APP_ID, grantPermission } from '../src/directory/apps.js';
import { DEMO } from '../src/directory/seed.js';
import { type User, createUser, findUserById, findUserByUpn } from '../src/directory/users.js';
import { currentScope } from '../src/storage/scope.js';
import { beginRegistration, finishRegistration, relyingParty } from '../src/methods/fido2/index.js';
import { checkLocked, recordSuccess } from '../src/methods/password/lockout.js';
import { methodsPolicyFor } from '../src/methods/policy.js';
import { PERIOD_S, verifySoftwareOath } from '../src/methods/software-oath/index.js';
import { startServer } from '../src/server.js';
import { SoftAuthenticator } from '../tests/helpers/passkey.js';
import { argon2Verifies, benchHash, mintRefreshTokens, serveParent, SIGNIN_PASSWORD } from './child.js';
import { CACHE_LOAD, CLIENT_SECRET, type Command, type MfaSetup, type PasskeySetup, type RevokeReset, type RevokeSetup, type RevokeTiming, type SigninSetup } from './protocol.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

// On the parent's request (npm run bench -- --profile), count the SQL statements run (the store keeps
// prepared statements by their text, so it is their runs that are counted, not their preparation) to show
// how many a grant or a sign-in costs. The counting wrappers are in place only while counting: measured
// and profiled runs run better-sqlite3 untouched.
const sqlCounts = new Map<string, number>();
type StatementMethod = (this: { source: string }, ...args: unknown[]) => unknown;
const statementProto = (() => {
  const probe = new SqliteDatabase(':memory:');
  try {
    return Object.getPrototypeOf(probe.prepare('select 1')) as Record<'run' | 'get' | 'all' | 'iterate', StatementMethod>;
  } finally {
    probe.close();
  }
})();
const RUNS = ['run', 'get', 'all', 'iterate'] as const;
const originalRuns = Object.fromEntries(RUNS.map((m) => [m, statementProto[m]])) as Record<(typeof RUNS)[number], StatementMethod>;
function countSql(on: boolean) {
  for (const m of RUNS) {
    const original = originalRuns[m];
    statementProto[m] = on
      ? function (this: { source: string }, ...args: unknown[]) {
          // the outbox deliverer's poll and the sweeper run on their own timers, not in any request (as
          // tests/statement-counts.test.ts counts); a cache's loads are counted apart
          const aside = currentScope()?.aside;
          if (aside === 'background') return original.apply(this, args);
          const key = aside === 'cache load' ? CACHE_LOAD + this.source : this.source;
          sqlCounts.set(key, (sqlCounts.get(key) ?? 0) + 1);
          return original.apply(this, args);
        }
      : original;
  }
}

/** `select users where id`, `insert oidc_models`: a statement's verb, table and compared columns. */
function sqlShape(sql: string): string {
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? '?';
  const table = /\b(?:from|into|update)\s+"(\w+)"/i.exec(sql)?.[1] ?? '?';
  const where = /\bwhere\b(.*)$/is.exec(sql)?.[1] ?? '';
  const cols = [...where.matchAll(/"(\w+)"\s*(?:=|<=|>=|<|>|is|in)/gi)].map((m) => m[1]);
  return `${verb} ${table}${cols.length ? ` where ${cols.join(', ')}` : ''}`;
}

const ownDir = !process.env.BENCH_DATA_DIR;
const dataDir = process.env.BENCH_DATA_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'));
const port = await freePort();
const config = loadConfig(
  {},
  {
    dataDir,
    port,
    host: '127.0.0.1',
    tls: 'off',
    publicUrl: `https://localhost:${port}`,
    logLevel: 'warn',
    bootstrapAdminPassword: 'Bench-Admin-Password-1',
    // D18: the password benchmark measures sign-in without MFA
    securityDefaults: false,
    automationClientSecret: CLIENT_SECRET,
  },
);
const server = await startServer(config);

/**
 * A refresh token's original issue time may be whole seconds, the user's stamps are milliseconds: mint
 * only once a whole second after the user's stamps, or the validity rule would call every token stale.
 */
async function waitPastStamps(user: User): Promise<void> {
  const stamp = Math.max(user.last_password_change_at, user.sign_in_sessions_valid_from);
  while (Math.floor(Date.now() / 1000) * 1000 < stamp) await new Promise((r) => setTimeout(r, 50));
}

const alice = await findUserByUpn(server.store.db, server.tenantId, `alice@${server.tenantDomain}`);
if (!alice) throw new Error('the demo user alice is missing (LATCHKEY_DEMO off?)');
await waitPastStamps(alice);

// --- revoke-sessions: the admin action called as the Graph route calls it (plan, then apply), with a
// full preview (the preview an admin screen shows) or lean (ctx.lean: no grant listing, as Graph runs it) ---
const db = server.store.db;
const actionCtx: ActionContext = { db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
const benchActor: Actor = { kind: 'system', id: 'system', displayName: 'bench' };
/** each revoke-sessions user's stamps at setup, which revoke-reset puts back */
const stampsAtSetup = new Map<string, Pick<User, 'sign_in_sessions_valid_from' | 'mfa_remembered_valid_from'>>();
let benchUsers = 0;
const msSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

async function revokeSetup(n: number): Promise<RevokeSetup> {
  // a user of their own per N (not alice: the refresh scenario's tokens are hers)
  const user = await createUser(db, { tenantId: server.tenantId, upn: `revoke-bench-${++benchUsers}@${server.tenantDomain}`, displayName: `Revoke bench ${n}` });
  await waitPastStamps(user);
  if (n < 2) throw new Error('revoke-setup needs n ≥ 2 (a guard token and a control token)');
  const tokens = await mintRefreshTokens(server.provider, DEMO.nativeAppId, user.id, n);
  stampsAtSetup.set(user.id, { sign_in_sessions_valid_from: user.sign_in_sessions_valid_from, mfa_remembered_valid_from: user.mfa_remembered_valid_from });
  return { userId: user.id, guard: tokens[0]!, control: tokens[n - 1]! };
}

async function revokeDirect(userId: string, lean: boolean): Promise<RevokeTiming> {
  const ctx = lean ? { ...actionCtx, lean: true } : actionCtx;
  const t0 = process.hrtime.bigint();
  const plan = await revokeSessions.plan(ctx, benchActor, userId);
  const planMs = msSince(t0);
  const t1 = process.hrtime.bigint();
  const result = await revokeSessions.apply(ctx, plan);
  const applyMs = msSince(t1);
  return { planMs, applyMs, previewEnding: plan.preview.ending.length, ended: result.ended.length };
}

async function liveRefreshRows(userId: string): Promise<number> {
  const now = Date.now();
  const row = await db
    .selectFrom('oidc_models')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('model', '=', 'RefreshToken')
    .where('account_id', '=', userId)
    .where('consumed_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function revokeReset(userId: string): Promise<RevokeReset> {
  const before = stampsAtSetup.get(userId);
  const user = await findUserById(db, userId);
  if (!before || !user) throw new Error(`revoke-reset: ${userId} is not a revoke-sessions user`);
  const stamped = user.sign_in_sessions_valid_from > before.sign_in_sessions_valid_from;
  await db.updateTable('users').set(before).where('id', '=', userId).execute();
  return { stamped, liveRows: await liveRefreshRows(userId) };
}

// --- password-signin: the users who sign in, and the raw argon2id rate at the same parameters ---


async function signinSetup(users: number): Promise<SigninSetup> {
  const upns: string[] = [];
  for (let i = 0; i < users; i++) {
    const upn = `signin-bench-${++benchUsers}@${server.tenantDomain}`;
    await createUser(db, { tenantId: server.tenantId, upn, displayName: `Sign-in bench ${i + 1}`, password: SIGNIN_PASSWORD });
    upns.push(upn);
  }
  return { upns, password: SIGNIN_PASSWORD };
}

// --- mfa-signin: users who must give a TOTP code after their password ---
/** where the bench's sign-ins come from */
const LOOPBACK = '127.0.0.1';

/**
 * `n` users sharing one password hash (hashed once: hashing each would take minutes), per-user MFA
 * enforced (as Set per-user MFA leaves a user who has a method), each with an active software OATH method
 * of its own seed, and a successful sign-in from loopback on record: its location is familiar, as the
 * password-only users' is after the warm-up (an MFA user signs in only a few times in a run, and a first
 * success writes the location). The method rows are those beginEnrollment and confirmEnrollment leave
 * (confirmed with a code two steps ago); the seed is sealed under the row's id as they seal it
 * (`oath:<id>`, which the product's verifier checks below). Made directly rather than through them: they
 * draw a QR code each (~6 ms).
 */
async function mfaSetup(n: number): Promise<MfaSetup> {
  const t0 = process.hrtime.bigint();
  const passwordHash = await benchHash(SIGNIN_PASSWORD);
  const now = Date.now();
  const confirmedAt = now - 2 * PERIOD_S * 1000;
  const users: MfaSetup['users'] = [];
  const made: User[] = [];
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < n; i++) {
      const upn = `mfa-bench-${++benchUsers}@${server.tenantDomain}`;
      const user = await createUser(trx, { tenantId: server.tenantId, upn, displayName: `MFA bench ${i + 1}`, passwordHash });
      await trx.updateTable('users').set({ per_user_mfa_state: 'enforced' }).where('id', '=', user.id).execute();
      const seed = new Secret({ size: 20 }).base32;
      const id = crypto.randomUUID();
      await trx
        .insertInto('auth_methods')
        .values({ id, tenant_id: user.tenant_id, user_id: user.id, type: 'softwareOath', status: 'active', display_name: 'Authenticator app', secret: server.secrets.encrypt(seed, `oath:${id}`), state: '{}', last_step: Math.floor(confirmedAt / 1000 / PERIOD_S), used_at: null, created_at: confirmedAt, last_used_at: confirmedAt, expires_at: null })
        .execute();
      await recordSuccess(trx, user.id, LOOPBACK, confirmedAt, await checkLocked(trx, user.id, LOOPBACK, confirmedAt));
      users.push({ upn, seed });
      made.push({ ...user, per_user_mfa_state: 'enforced' });
    }
  });
  // the product's own verifier takes a code of the step before this one (a sign-in's code is of a later
  // step, still new): the seed is sealed as it expects, and the method is the user's active one
  for (const i of new Set([0, n - 1])) {
    const at = Date.now() - PERIOD_S * 1000;
    const code = new TOTP({ secret: Secret.fromBase32(users[i]!.seed), digits: 6, period: PERIOD_S, algorithm: 'SHA1' }).generate({ timestamp: at });
    const r = await verifySoftwareOath({ db, secrets: server.secrets }, made[i]!, code, at);
    if (!r.ok) throw new Error(`mfa-setup: the product does not verify a bench user's TOTP code (${r.reason})`);
  }
  return { users, password: SIGNIN_PASSWORD, periodS: PERIOD_S, setupMs: msSince(t0) };
}

// --- passkey-signin: users who sign in with a passkey ---
/**
 * `n` users sharing one password hash (as mfa-setup), each with a passkey registered through the FIDO2
 * method's own ceremony, as My Security Info registers one (and tests/helpers/passkey.ts's givePasskey):
 * beginRegistration (a pending row with the challenge) → a software authenticator's answer (ES256, `none`
 * attestation, counter 0) → finishRegistration under the user's methods policy. The authenticator's key
 * goes to the load generator, which signs each assertion with it and counts.
 */
async function passkeySetup(n: number): Promise<PasskeySetup> {
  const t0 = process.hrtime.bigint();
  const passwordHash = await benchHash(SIGNIN_PASSWORD);
  const origin = new URL(server.config.publicUrl).origin;
  const rp = relyingParty(server.config, origin, '');
  const users: PasskeySetup['users'] = [];
  for (let i = 0; i < n; i++) {
    const upn = `passkey-bench-${++benchUsers}@${server.tenantDomain}`;
    const user = await createUser(db, { tenantId: server.tenantId, upn, displayName: `Passkey bench ${i + 1}`, passwordHash });
    const auth = new SoftAuthenticator(origin);
    const { pendingId, options } = await beginRegistration({ db, secrets: server.secrets }, user, rp);
    const attestation = auth.create(options);
    const policy = await methodsPolicyFor(db, user);
    await db.transaction().execute((trx) => finishRegistration(trx, user, pendingId, attestation, rp, policy, 'Bench passkey'));
    const key = auth.keys.get(attestation.id)!;
    users.push({ upn, credentialId: attestation.id, privateKey: key.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64url'), cose: key.cose.toString('base64url'), userHandle: key.userHandle, counter: key.counter });
  }
  return { origin, users, setupMs: msSince(t0) };
}

/**
 * graph-app scenario: an application made as Graph's POST /applications, POST /servicePrincipals and
 * addPassword make one (without its service principal an app gets no token: AADSTS7000229).
 */
async function graphAppSetup(): Promise<{ clientId: string; secret: string }> {
  const operator: Actor = { kind: 'system', id: 'system', displayName: 'bench' };
  const made = await createApplication.apply(actionCtx, await createApplication.plan(actionCtx, operator, { displayName: 'Bench Graph-created app' }));
  await createServicePrincipal.apply(actionCtx, await createServicePrincipal.plan(actionCtx, operator, { appId: made.value.id }));
  const pw = await addApplicationPassword.apply(actionCtx, await addApplicationPassword.plan(actionCtx, operator, made.value.objectId, {}));
  await grantPermission(db, made.value.id, GRAPH_APP_ID, 'application', ['User.Read.All']);
  return { clientId: made.value.id, secret: pw.value.secretText! };
}

function extra(msg: Command): Promise<unknown> {
  switch (msg.cmd) {
    case 'graph-app-setup':
      return graphAppSetup();
    case 'revoke-setup':
      return revokeSetup(msg.n);
    case 'revoke-direct':
      return revokeDirect(msg.userId, msg.lean);
    case 'revoke-reset':
      return revokeReset(msg.userId);
    case 'signin-setup':
      return signinSetup(msg.users);
    case 'argon2':
      return argon2Verifies(SIGNIN_PASSWORD, msg.n, msg.concurrency);
    case 'mfa-setup':
      return mfaSetup(msg.users);
    case 'passkey-setup':
      return passkeySetup(msg.users);
    default:
      return Promise.reject(new Error(`unknown command ${msg.cmd}`));
  }
}

serveParent({
  info: {
    name: 'latchkey',
    port,
    tokenUrl: `http://127.0.0.1:${port}/${server.tenantId}/oauth2/v2.0/token`,
    issuer: server.issuer,
    refreshClientId: DEMO.nativeAppId,
    ccClientId: DEMO.automationAppId,
    ccClientSecret: CLIENT_SECRET,
    tenantId: server.tenantId,
  },
  extra,
  mint: (n) => mintRefreshTokens(server.provider, DEMO.nativeAppId, alice.id, n),
  counters(on) {
    const out: Record<string, number> = {};
    for (const [key, n] of sqlCounts) {
      const cached = key.startsWith(CACHE_LOAD);
      const shape = cached ? CACHE_LOAD + sqlShape(key.slice(CACHE_LOAD.length)) : sqlShape(key);
      out[shape] = (out[shape] ?? 0) + n;
    }
    sqlCounts.clear();
    countSql(on);
    return out;
  },
  async close() {
    await server.close();
    if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
  },
});
