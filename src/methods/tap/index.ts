// Temporary Access Pass (spec §6): one per user, 10–43,200 minutes, optional start, one-time or
// multi-use, 8–48 characters from an alphabet without look-alikes. The value is returned once, at
// creation, and kept only as a keyed hash (D14). A one-time pass is consumed by a conditional update,
// so under any concurrency exactly one sign-in succeeds.
import crypto from 'node:crypto';
import type { Secrets } from '../../crypto/secrets.js';
import type { User } from '../../directory/users.js';
import type { Db } from '../../storage/db.js';
import { type UserMethodsPolicy, methodEnabledFor } from '../policy.js';
import { listMethodsOfType, parseState } from '../store.js';
import type { MethodDeps, MethodRow, MethodStrategy, VerifyResult } from '../types.js';

/** spec §6's outer bounds; the tenant's own bounds and defaults are the policy's TAP configuration (§7) */
export const TAP_LIMITS = { minLifetimeMinutes: 10, maxLifetimeMinutes: 43_200, minLength: 8, maxLength: 48 } as const;
/** no 0/O, 1/l/I: a pass is read out over the phone */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

export interface TapState {
  startAt: number;
  lifetimeMinutes: number;
  isUsableOnce: boolean;
}

export type TapUsability = 'EnabledByPolicy' | 'DisabledByPolicy' | 'Expired' | 'NotYetValid' | 'OneTimeUsed';

export function tapExpiresAt(s: TapState): number {
  return s.startAt + s.lifetimeMinutes * 60_000;
}

/** spec §6: a TAP is usable only while the TAP method is enabled for its user in the policy (§7). */
export function tapUsability(row: MethodRow, now: number, policy: UserMethodsPolicy): TapUsability {
  const s = parseState<TapState>(row);
  if (!methodEnabledFor(policy, 'temporaryAccessPass')) return 'DisabledByPolicy';
  if (now < s.startAt) return 'NotYetValid';
  if (now >= tapExpiresAt(s)) return 'Expired';
  if (s.isUsableOnce && row.used_at !== null) return 'OneTimeUsed';
  return 'EnabledByPolicy';
}

export const temporaryAccessPass = {
  type: 'temporaryAccessPass',
  odataType: '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
  collection: 'temporaryAccessPassMethods',
  firstFactor: true,
  satisfiesMfa: true,
  amr: ['otp', 'mfa'], // D22, unverified: Entra documents no amr value for a TAP; `mfa` plus the closest (a passcode)
  logName: 'Temporary Access Pass',
  preferredRank: 1,
  onRequireReregister: 'keep',
  adminMayCreate: true,
  adminMayDelete: true,
  toGraph(row: MethodRow | undefined, _user: User, now: number, policy: UserMethodsPolicy) {
    const s = row ? parseState<TapState>(row) : undefined;
    const reason = row ? tapUsability(row, now, policy) : undefined;
    return {
      '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
      id: row?.id,
      temporaryAccessPass: null,
      createdDateTime: row ? new Date(row.created_at).toISOString() : null,
      startDateTime: s ? new Date(s.startAt).toISOString() : null,
      lifetimeInMinutes: s?.lifetimeMinutes ?? null,
      isUsableOnce: s?.isUsableOnce ?? null,
      isUsable: reason === 'EnabledByPolicy',
      methodUsabilityReason: reason ?? null,
    };
  },
} as const satisfies MethodStrategy;

export function generateTapValue(length: number): string {
  const out: string[] = [];
  while (out.length < length) {
    const b = crypto.randomBytes(length * 2);
    for (const x of b) {
      // rejection sampling: no modulo bias
      if (x < 256 - (256 % ALPHABET.length)) out.push(ALPHABET[x % ALPHABET.length]!);
      if (out.length === length) break;
    }
  }
  return out.join('');
}

function hashTap(secrets: Secrets, userId: string, value: string): string {
  return secrets.lookupHash(value, `tap:${userId}`);
}

/** Writes a new TAP row, replacing any other (spec §6: one per user). Call inside the action's transaction. */
export async function insertTap(db: Db, secrets: Secrets, user: User, value: string, s: TapState, now: number, id: string = crypto.randomUUID()): Promise<MethodRow> {
  await db.deleteFrom('auth_methods').where('user_id', '=', user.id).where('type', '=', 'temporaryAccessPass').execute();
  const row = { id, tenant_id: user.tenant_id, user_id: user.id, type: 'temporaryAccessPass', status: 'active' as const, display_name: 'Temporary Access Pass', secret: hashTap(secrets, user.id, value), state: JSON.stringify(s), last_step: null, used_at: null, created_at: now, last_used_at: null, expires_at: null, credential_id: null };
  await db.insertInto('auth_methods').values(row).execute();
  return row;
}

/** The user's TAP, if any. */
export async function findTap(db: Db, userId: string): Promise<MethodRow | undefined> {
  return (await listMethodsOfType(db, userId, 'temporaryAccessPass'))[0];
}

/** Checks a typed pass; a one-time pass is consumed here, atomically. */
export async function verifyTap(deps: MethodDeps, user: User, input: string, policy: UserMethodsPolicy, now = Date.now()): Promise<VerifyResult> {
  const row = await findTap(deps.db, user.id);
  if (!row) return { ok: false, reason: 'none' };
  const value = input.trim();
  const a = Buffer.from(hashTap(deps.secrets, user.id, value));
  const b = Buffer.from(row.secret ?? '');
  const matches = value.length > 0 && value.length <= TAP_LIMITS.maxLength && a.length === b.length && crypto.timingSafeEqual(a, b);
  const usability = tapUsability(row, now, policy);
  if (!matches) return { ok: false, reason: 'wrong', methodId: row.id };
  if (usability === 'DisabledByPolicy') return { ok: false, reason: 'disabled_by_policy', methodId: row.id };
  if (usability === 'NotYetValid') return { ok: false, reason: 'not_yet_valid', methodId: row.id };
  if (usability === 'Expired') return { ok: false, reason: 'expired', methodId: row.id };
  if (usability === 'OneTimeUsed') return { ok: false, reason: 'used', methodId: row.id };
  const s = parseState<TapState>(row);
  if (s.isUsableOnce) {
    const r = await deps.db.updateTable('auth_methods').set({ used_at: now, last_used_at: now }).where('id', '=', row.id).where('used_at', 'is', null).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return { ok: false, reason: 'used', methodId: row.id };
  } else {
    await deps.db.updateTable('auth_methods').set({ last_used_at: now }).where('id', '=', row.id).execute();
  }
  return { ok: true, methodId: row.id, expiresAt: tapExpiresAt(s) };
}
