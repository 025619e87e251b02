// Software OATH (RFC 6238 TOTP; any authenticator app): enroll with a QR code and a first code, verify
// with a ±1 step window, and never accept a time step twice (a phished code cannot be replayed).
// The seed is sealed with the master key (D14); Graph's secretKey is always null.
import crypto from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { User } from '../../directory/users.js';
import type { MethodDeps, MethodRow, MethodStrategy, VerifyResult } from '../types.js';
import { listMethodsOfType } from '../store.js';

export const PERIOD_S = 30;
/** spec §4: at most 5 OATH tokens or apps per user */
export const MAX_OATH_PER_USER = 5;
/** an enrollment must be confirmed with a first code within this time */
const PENDING_TTL_MS = 10 * 60_000;

export const softwareOath = {
  type: 'softwareOath',
  odataType: '#microsoft.graph.softwareOathAuthenticationMethod',
  collection: 'softwareOathMethods',
  firstFactor: false,
  satisfiesMfa: true,
  amr: ['otp', 'mfa'], // D22
  logName: 'Mobile app verification code',
  preferredRank: 4,
  onRequireReregister: 'delete',
  adminMayCreate: false,
  adminMayDelete: true,
  toGraph(row: MethodRow | undefined) {
    return {
      '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethod',
      id: row?.id,
      secretKey: null,
      createdDateTime: row ? new Date(row.created_at).toISOString() : null,
    };
  },
} as const satisfies MethodStrategy;

function totpFor(seedBase32: string, label: string, issuer: string): TOTP {
  return new TOTP({ issuer, label, algorithm: 'SHA1', digits: 6, period: PERIOD_S, secret: Secret.fromBase32(seedBase32) });
}

export interface PendingEnrollment {
  id: string;
  /** otpauth:// URI for the authenticator app */
  uri: string;
  /** the seed in Base32, for typing it in by hand */
  secret: string;
  /** a data: URL of the QR code */
  qr: string;
}

/** Starts an enrollment: a pending row holding the sealed seed, confirmed later with a first code. */
export async function beginEnrollment(deps: MethodDeps, user: User, issuer: string, now = Date.now()): Promise<PendingEnrollment | 'limit_reached'> {
  const existing = await listMethodsOfType(deps.db, user.id, 'softwareOath');
  if (existing.length >= MAX_OATH_PER_USER) return 'limit_reached';
  const seed = new Secret({ size: 20 }).base32;
  const id = crypto.randomUUID();
  await deps.db.deleteFrom('auth_methods').where('user_id', '=', user.id).where('status', '=', 'pending').where('expires_at', '<=', now).execute();
  await deps.db
    .insertInto('auth_methods')
    .values({ id, tenant_id: user.tenant_id, user_id: user.id, type: 'softwareOath', status: 'pending', display_name: 'Authenticator app', secret: deps.secrets.encrypt(seed, `oath:${id}`), state: '{}', last_step: null, used_at: null, created_at: now, last_used_at: null, expires_at: now + PENDING_TTL_MS })
    .execute();
  const uri = totpFor(seed, user.upn, issuer).toString();
  return { id, uri, secret: seed, qr: await QRCode.toDataURL(uri, { margin: 1, width: 200 }) };
}

/** The time step a code matches within ±1 step, or undefined. */
function matchingStep(seed: string, code: string, now: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totpFor(seed, 'x', 'x').validate({ token: code, timestamp: now, window: 1 });
  return delta === null ? undefined : Math.floor(now / 1000 / PERIOD_S) + delta;
}

/**
 * Checks a code against one row and, when it matches, takes its time step with a conditional update:
 * under any concurrency one step is accepted once.
 */
async function acceptOnRow(deps: MethodDeps, row: MethodRow, code: string, now: number, confirm: boolean): Promise<'ok' | 'wrong' | 'replayed'> {
  const seed = deps.secrets.decrypt(row.secret!, `oath:${row.id}`);
  const step = matchingStep(seed, code, now);
  if (step === undefined) return 'wrong';
  let q = deps.db
    .updateTable('auth_methods')
    .set(confirm ? { last_step: step, last_used_at: now, status: 'active', expires_at: null, created_at: now } : { last_step: step, last_used_at: now })
    .where('id', '=', row.id)
    .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]));
  if (confirm) q = q.where('status', '=', 'pending');
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) === 1 ? 'ok' : 'replayed';
}

/** Confirms a pending enrollment with its first code; the method then exists. */
export async function confirmEnrollment(deps: MethodDeps, pending: MethodRow, code: string, now = Date.now()): Promise<'ok' | 'wrong' | 'replayed'> {
  return acceptOnRow(deps, pending, code.trim(), now, true);
}

/** Verifies a code against each of the user's software OATH methods. */
/** Checks a code against the user's authenticator apps (`active`: the user's active methods when already read). */
export async function verifySoftwareOath(deps: MethodDeps, user: User, input: string, now = Date.now(), active?: readonly MethodRow[]): Promise<VerifyResult> {
  const rows = active ? active.filter((m) => m.type === 'softwareOath') : await listMethodsOfType(deps.db, user.id, 'softwareOath');
  if (!rows.length) return { ok: false, reason: 'none' };
  const code = input.trim();
  let replayed: string | undefined;
  for (const row of rows) {
    const r = await acceptOnRow(deps, row, code, now, false);
    if (r === 'ok') return { ok: true, methodId: row.id };
    if (r === 'replayed') replayed = row.id;
  }
  return replayed ? { ok: false, reason: 'replayed', methodId: replayed } : { ok: false, reason: 'wrong' };
}

/** The QR code and key of a pending enrollment, to show it again. */
export async function enrollmentView(deps: MethodDeps, pending: MethodRow, user: User, issuer: string): Promise<{ qr: string; secret: string }> {
  const seed = deps.secrets.decrypt(pending.secret!, `oath:${pending.id}`);
  const uri = totpFor(seed, user.upn, issuer).toString();
  return { qr: await QRCode.toDataURL(uri, { margin: 1, width: 200 }), secret: seed };
}
