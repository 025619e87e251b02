// Command line for operators: `npm run cli -- <command>`. Admin commands are thin callers of the same
// action files as the Graph API (src/admin/actions), acting as the local operator; `--dry-run` prints the
// preview (what would change, what dies, what survives) and writes nothing.
//   keys rotate                        add a new token-signing key (used from the next start)
//   sweep                              delete expired rows now
//   revoke-sessions <user> [--dry-run] Revoke sessions
//   reset-password <user> [--dry-run]  Reset password: a generated password, shown once, forced change
//   disable <user> [--dry-run]         Disable account
//   enable <user> [--dry-run]          Enable account
//   delete-user <user> [--dry-run]     Delete user
//   require-reregister-mfa <user> [--dry-run]  Require re-register MFA (no Graph API for it)
//   revoke-mfa-sessions <user> [--dry-run]     Revoke MFA sessions (no Graph API for it)
//   create-tap <user> [--dry-run]      Add a Temporary Access Pass (60 min, multi-use), shown once
import { ConfigError, loadConfig } from './config/index.js';
import { Secrets } from './crypto/secrets.js';
import { type ActionContext, ActionError, type ApplyResult, type Plan } from './admin/action.js';
import type { Actor } from './admin/actor.js';
import * as createTap from './admin/actions/create-tap.js';
import * as deleteUser from './admin/actions/delete-user.js';
import * as disableAccount from './admin/actions/disable-account.js';
import * as enableAccount from './admin/actions/enable-account.js';
import * as resetPassword from './admin/actions/reset-password.js';
import * as requireReregisterMfa from './admin/actions/require-reregister-mfa.js';
import * as revokeMfaSessions from './admin/actions/revoke-mfa-sessions.js';
import * as revokeSessions from './admin/actions/revoke-sessions.js';
import { loadTenant } from './directory/tenant.js';
import { rotateSigningKey } from './protocol/keys.js';
import { openStore } from './storage/db.js';
import { sweepExpired } from './storage/oidc-adapter.js';

const USAGE = 'usage: npm run cli -- keys rotate | sweep | revoke-sessions|reset-password|disable|enable|delete-user|require-reregister-mfa|revoke-mfa-sessions|create-tap <user id or UPN> [--dry-run]';

interface ActionModule {
  plan(ctx: ActionContext, actor: Actor, target: string): Promise<Plan>;
  apply(ctx: ActionContext, plan: Plan): Promise<ApplyResult>;
}

const ACTIONS: Record<string, ActionModule> = {
  'revoke-sessions': revokeSessions,
  'reset-password': resetPassword as unknown as ActionModule,
  disable: disableAccount,
  enable: enableAccount,
  'delete-user': deleteUser,
  'require-reregister-mfa': requireReregisterMfa as unknown as ActionModule,
  'revoke-mfa-sessions': revokeMfaSessions,
  'create-tap': createTap as unknown as ActionModule,
};

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const dryRun = argv.includes('--dry-run');
    const args = argv.filter((a) => a !== '--dry-run');
    const cmd = args.join(' ');
    const secrets = Secrets.load(config.masterKey, config.dataDir);
    if (cmd === 'keys rotate') {
      const kid = await rotateSigningKey(store.db, secrets);
      console.log(`new signing key ${kid}; restart Latchkey to sign with it (the previous key stays published until its tokens expire)`);
      return 0;
    }
    if (cmd === 'sweep') {
      console.log(`${await sweepExpired(store.db)} expired rows deleted`);
      return 0;
    }
    const action = args[0] ? ACTIONS[args[0]] : undefined;
    if (!action || args.length !== 2) {
      console.error(USAGE);
      return 2;
    }
    const tenant = await loadTenant(store.db);
    if (!tenant) throw new Error('no tenant yet: start Latchkey once first');
    const ctx: ActionContext = { db: store.db, secrets, tenantId: tenant.id, config };
    const actor: Actor = { kind: 'system', id: 'system', displayName: 'Latchkey command line' };
    const plan = await action.plan(ctx, actor, args[1]!);
    console.log(JSON.stringify(plan.preview, null, 2));
    if (dryRun) return 0;
    const result = await action.apply(ctx, plan);
    console.log(`applied at ${new Date(result.appliedAt).toISOString()}; ${result.ended.length} sessions and grants ended`);
    if (result.secret) console.log(`${args[0] === 'create-tap' ? 'Temporary Access Pass' : 'new password'} (shown once): ${result.secret}`);
    return 0;
  } catch (e) {
    if (e instanceof ActionError) {
      console.error(`refused (${e.code}): ${e.message}`);
      return 3;
    }
    throw e;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`latchkey: ${e instanceof ConfigError ? 'configuration error: ' : ''}${e instanceof Error ? e.message : String(e)}`);
    process.exit(e instanceof ConfigError ? 2 : 1);
  },
);
