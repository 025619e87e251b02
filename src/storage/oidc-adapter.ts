// The engine's storage adapter (oidc-provider's Adapter contract) on Latchkey's store. Rows are keyed by
// a keyed hash of the model id and carry the payload encrypted (spec D14); the user, grant and session
// columns are plain and indexed so that "everything of this user" is one indexed query.
import type { CompiledQuery } from 'kysely';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Secrets } from '../crypto/secrets.js';
import type { Db } from './db.js';
import { changed, statement } from './statements.js';

export interface ClientSource {
  clientMetadata(clientId: string): Promise<AdapterPayload | undefined>;
}

export function adapterFactory(db: Db, secrets: Secrets, clients: ClientSource): (name: string) => Adapter {
  return (name: string) => (name === 'Client' ? new ClientAdapter(clients) : new StoreAdapter(name, db, secrets));
}

class ClientAdapter implements Adapter {
  constructor(private readonly clients: ClientSource) {}
  find(id: string) {
    return this.clients.clientMetadata(id);
  }
  upsert(): Promise<undefined> {
    return Promise.reject(new Error('clients are app registrations; they are not written through the engine'));
  }
  findByUid() {
    return Promise.resolve(undefined);
  }
  findByUserCode() {
    return Promise.resolve(undefined);
  }
  consume() {
    return Promise.resolve(undefined);
  }
  destroy() {
    return Promise.resolve(undefined);
  }
  revokeByGrantId() {
    return Promise.resolve(undefined);
  }
}

// The statements every token request runs (src/storage/statements.ts).
const extendGrant = statement((db, expiresAt: number, grantIdHash: string, below: number) =>
  db.updateTable('oidc_models').set({ expires_at: expiresAt }).where('model', '=', 'Grant').where('id_hash', '=', grantIdHash).where('expires_at', '<', below),
);
/** An interaction ends with every sign-in: its row goes when the sign-in gets its code. */
const destroyRow = statement((db, model: string, idHash: string) => db.deleteFrom('oidc_models').where('model', '=', model).where('id_hash', '=', idHash));
const upsertRow = statement(
  (
    db,
    model: string,
    idHash: string,
    payload: string,
    accountId: string | null,
    grantId: string | null,
    sessionUid: string | null,
    uidHash: string | null,
    userCodeHash: string | null,
    clientId: string | null,
    expiresAt: number | null,
    createdAt: number,
  ) => {
    const row = { payload, account_id: accountId, grant_id: grantId, session_uid: sessionUid, uid_hash: uidHash, user_code_hash: userCodeHash, client_id: clientId, expires_at: expiresAt };
    // created_at is written once, when the row is made (an update keeps it)
    return db
      .insertInto('oidc_models')
      .values({ model, id_hash: idHash, consumed_at: null, created_at: createdAt, ...row })
      .onConflict((oc) => oc.columns(['model', 'id_hash']).doUpdateSet(row));
  },
  { batchable: true },
);
const loadBy = (column: 'id_hash' | 'uid_hash' | 'user_code_hash') =>
  statement((db, model: string, value: string) => db.selectFrom('oidc_models').select(['id_hash', 'payload', 'expires_at', 'consumed_at']).where('model', '=', model).where(column, '=', value));
const LOAD = { id_hash: loadBy('id_hash'), uid_hash: loadBy('uid_hash'), user_code_hash: loadBy('user_code_hash') };
const consumeRow = statement((db, now: number, model: string, idHash: string) =>
  db.updateTable('oidc_models').set({ consumed_at: now }).where('model', '=', model).where('id_hash', '=', idHash).where('consumed_at', 'is', null),
);

/**
 * A Grant's expiry as last read, by grant id: a Grant is only ever extended (or deleted, when an update of
 * it changes nothing anyway), so a remembered expiry is never later than the stored one, and a rotation
 * whose refresh token ends before it need not write. Bounded; the oldest entries go first.
 */
const grantExpiry = new Map<string, number>();
const GRANT_EXPIRY_ENTRIES = 10_000;
function rememberGrantExpiry(grantId: string, expiresAt: number) {
  grantExpiry.delete(grantId);
  if (grantExpiry.size >= GRANT_EXPIRY_ENTRIES) grantExpiry.delete(grantExpiry.keys().next().value!);
  grantExpiry.set(grantId, expiresAt);
}

/** how far a Grant outlives its newest refresh token: it is extended a week at a time as its chain slides */
export const GRANT_SLACK_MS = 7 * 86_400_000;

export class StoreAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly db: Db,
    private readonly secrets: Secrets,
  ) {}

  private key(id: string) {
    return this.secrets.lookupHash(id, `oidc:${this.model}:id`);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<undefined> {
    const idHash = this.key(id);
    if (this.model === 'RefreshToken' && !payload.rotations && Number.isInteger(payload.iiat)) {
      // A new chain: record its original issue time to the millisecond (spec D5). The engine copies
      // `iiat` unchanged through rotation, so the chain keeps it.
      payload.iiat = Date.now() / 1000;
    }
    const row = {
      payload: this.secrets.encrypt(JSON.stringify(payload), `oidc:${this.model}:${idHash}`),
      account_id: payload.accountId ?? null,
      grant_id: this.model === 'Grant' ? id : (payload.grantId ?? null),
      session_uid: (this.model === 'Session' ? payload.uid : payload.sessionUid) ?? null,
      uid_hash: payload.uid ? this.secrets.lookupHash(payload.uid, `oidc:${this.model}:uid`) : null,
      user_code_hash: payload.userCode ? this.secrets.lookupHash(payload.userCode, `oidc:${this.model}:userCode`) : null,
      client_id: payload.clientId ?? null,
      expires_at: expiresIn ? Date.now() + expiresIn * 1000 : null,
    };
    if (this.model === 'RefreshToken' && payload.rotations && payload.grantId && expiresIn) {
      // A public client's chain slides with each rotation (spec §3); its Grant must outlive the newest
      // refresh token, so it is extended, a week at a time (most rotations write nothing here).
      const rtExpires = Date.now() + expiresIn * 1000;
      const grantId = String(payload.grantId);
      // the engine loaded the Grant in this request: most rotations know it already outlives the token
      if ((grantExpiry.get(grantId) ?? 0) < rtExpires) {
        await extendGrant(this.db, rtExpires + GRANT_SLACK_MS, this.secrets.lookupHash(grantId, 'oidc:Grant:id'), rtExpires);
        grantExpiry.delete(grantId);
      }
    }
    await upsertRow(this.db, this.model, idHash, row.payload, row.account_id, row.grant_id, row.session_uid, row.uid_hash, row.user_code_hash, row.client_id, row.expires_at, Date.now());
    return undefined;
  }

  private async load(where: 'id_hash' | 'uid_hash' | 'user_code_hash', value: string): Promise<AdapterPayload | undefined> {
    const row = (await LOAD[where](this.db, this.model, value)).rows[0];
    if (!row) return undefined;
    // An expired refresh token is still handed to the engine (until swept), which refuses it as expired:
    // AADSTS700082, not "unknown" (spec D9). Every other model past its expiry does not exist.
    if (row.expires_at !== null && row.expires_at <= Date.now() && this.model !== 'RefreshToken') return undefined;
    const payload = JSON.parse(this.secrets.decrypt(row.payload, `oidc:${this.model}:${row.id_hash}`)) as AdapterPayload;
    if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
    if (this.model === 'Grant' && row.expires_at !== null && typeof payload.jti === 'string') rememberGrantExpiry(payload.jti, row.expires_at);
    // the row's expiry is the truth for a Grant (extended as its chain slides)
    if (this.model === 'Grant' && row.expires_at !== null && typeof payload.exp === 'number') payload.exp = Math.floor(row.expires_at / 1000);
    return payload;
  }

  find(id: string) {
    return this.load('id_hash', this.key(id));
  }

  findByUid(uid: string) {
    return this.load('uid_hash', this.secrets.lookupHash(uid, `oidc:${this.model}:uid`));
  }

  findByUserCode(userCode: string) {
    return this.load('user_code_hash', this.secrets.lookupHash(userCode, `oidc:${this.model}:userCode`));
  }

  /**
   * Single use under any concurrency (RFC 6749 §4.1.2, spec D2/D20): only the request whose UPDATE flips
   * consumed_at wins. A loser found the token unconsumed and raced to use it: a replay, so the whole grant
   * dies (as the engine does for a sequential replay) and the request is refused.
   */
  async consume(id: string): Promise<undefined> {
    const idHash = this.key(id);
    if (changed(await consumeRow(this.db, Date.now(), this.model, idHash)) === 1) return undefined;
    const row = await this.db.selectFrom('oidc_models').select('grant_id').where('model', '=', this.model).where('id_hash', '=', idHash).executeTakeFirst();
    if (row?.grant_id) await this.db.deleteFrom('oidc_models').where('grant_id', '=', row.grant_id).execute();
    throw new errors.InvalidGrant(`${this.model === 'RefreshToken' ? 'refresh token' : this.model === 'DeviceCode' ? 'device code' : 'authorization code'} already consumed`);
  }

  async destroy(id: string): Promise<undefined> {
    await destroyRow(this.db, this.model, this.key(id));
    return undefined;
  }

  async revokeByGrantId(grantId: string): Promise<undefined> {
    await this.db.deleteFrom('oidc_models').where('grant_id', '=', grantId).where('model', '=', this.model).execute();
    return undefined;
  }
}

/**
 * Takes the engine's interaction `uid` once: its row is deleted, and only the request whose delete removed
 * it may finish the sign-in (a sign-in finished in place, src/protocol/authorization-in-place.ts): the
 * guard of that sign-in's `writeTogether`.
 */
export function takeInteraction(db: Db, secrets: Secrets, uid: string): CompiledQuery {
  return destroyRow.bind(db, 'Interaction', secrets.lookupHash(uid, 'oidc:Interaction:id'));
}

/**
 * RFC 8628 §3.5: records a poll of a device code at the token endpoint, in one conditional update (safe
 * under concurrent polls). False when the previous recorded poll was less than `intervalMs` ago: the
 * client must slow down (that poll is not recorded). An unknown device code is left to the engine.
 */
export async function recordDeviceCodePoll(db: Db, secrets: Secrets, deviceCode: string, intervalMs: number, now = Date.now()): Promise<boolean> {
  const idHash = secrets.lookupHash(deviceCode, 'oidc:DeviceCode:id');
  const res = await db
    .updateTable('oidc_models')
    .set({ last_polled_at: now })
    .where('model', '=', 'DeviceCode')
    .where('id_hash', '=', idHash)
    .where((eb) => eb.or([eb('last_polled_at', 'is', null), eb('last_polled_at', '<=', now - intervalMs)]))
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 1) return true;
  const row = await db.selectFrom('oidc_models').select('id_hash').where('model', '=', 'DeviceCode').where('id_hash', '=', idHash).executeTakeFirst();
  return !row;
}

/** Deletes expired engine rows and sign-in flows; returns how many rows went. */
/** Deletes expired engine rows, sign-in flows, stale counters and old Graph operations; returns how many rows went. */
export interface SweepLimits {
  /** a browser-session record unused this long is gone (the longest session lifetime) */
  sessionIdleMs: number;
  /** lockout counters untouched this long are forgotten (spec §9) */
  lockoutIdleMs: number;
  /** a location with no successful sign-in this long is no longer familiar (D12) */
  familiarMs: number;
  /** a Graph operation's status is kept this long after its last change (D17) */
  operationMs: number;
}

const DEFAULT_LIMITS: SweepLimits = { sessionIdleMs: 90 * 86_400_000, lockoutIdleMs: 86_400_000, familiarMs: 30 * 86_400_000, operationMs: 7 * 86_400_000 };

export async function sweepExpired(db: Db, now = Date.now(), limits: SweepLimits = DEFAULT_LIMITS): Promise<number> {
  const counts = await Promise.all([
    db.deleteFrom('oidc_models').where('expires_at', '<=', now).executeTakeFirst(),
    db.deleteFrom('signin_flows').where('expires_at', '<=', now).executeTakeFirst(),
    db.deleteFrom('signin_sessions').where('last_used_at', '<', now - limits.sessionIdleMs).executeTakeFirst(),
    db
      .deleteFrom('signin_lockouts')
      .where('updated_at', '<', now - limits.lockoutIdleMs)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .executeTakeFirst(),
    db.deleteFrom('familiar_locations').where('last_success_at', '<', now - limits.familiarMs).executeTakeFirst(),
    db.deleteFrom('admin_plans').where('expires_at', '<=', now).executeTakeFirst(),
    db.deleteFrom('graph_operations').where('updated_at', '<', now - limits.operationMs).executeTakeFirst(),
    // wrong device-code user codes: a window is one minute (src/protocol/device-code-attempts.ts)
    db.deleteFrom('device_code_attempts').where('window_start', '<=', now - 60_000).executeTakeFirst(),
  ]);
  return counts.reduce((n, r) => n + Number(r.numDeletedRows), 0);
}

/** Decrypted engine payloads of one model for one account (admin previews read sessions and grants). */
export async function payloadsOfAccount(db: Db, secrets: Secrets, model: string, accountId: string, opts: { liveOnly?: boolean; createdSince?: number } = {}): Promise<(AdapterPayload & { consumedAt: number | null })[]> {
  let q = db.selectFrom('oidc_models').select(['id_hash', 'payload', 'consumed_at', 'expires_at']).where('model', '=', model).where('account_id', '=', accountId);
  if (opts.createdSince !== undefined) q = q.where('created_at', '>=', opts.createdSince);
  if (opts.liveOnly) q = q.where('consumed_at', 'is', null).where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', Date.now())]));
  return decrypted(secrets, model, await q.execute());
}

/** The payloads of one model belonging to these grants (their refresh tokens, say). */
export async function payloadsOfGrants(db: Db, secrets: Secrets, model: string, grantIds: string[], opts: { liveOnly?: boolean } = {}): Promise<(AdapterPayload & { consumedAt: number | null })[]> {
  if (!grantIds.length) return [];
  let q = db.selectFrom('oidc_models').select(['id_hash', 'payload', 'consumed_at', 'expires_at']).where('grant_id', 'in', grantIds).where('model', '=', model);
  if (opts.liveOnly) q = q.where('consumed_at', 'is', null).where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', Date.now())]));
  return decrypted(secrets, model, await q.execute());
}

function decrypted(secrets: Secrets, model: string, rows: { id_hash: string; payload: string; consumed_at: number | null }[]): (AdapterPayload & { consumedAt: number | null })[] {
  return rows.map((r) => ({ ...(JSON.parse(secrets.decrypt(r.payload, `oidc:${model}:${r.id_hash}`)) as AdapterPayload), consumedAt: r.consumed_at }));
}
