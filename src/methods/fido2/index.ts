// FIDO2 passkeys (spec §4: first factor and MFA alone, phishing-resistant; device-bound or synced).
// Registration: a pending row holds the one-time challenge (5 minutes), confirmed by the browser's
// attestation; sign-in: an assertion for the flow's one-time challenge, found by its credential id (also
// without a user name: discoverable credentials), its signature counter moved forward by a conditional
// update (a counter not above a stored non-zero one is refused: a cloned authenticator; 0 after 0 is
// accepted, as synced passkeys send 0). The relying party id and origins come from configuration. The
// WebAuthn checks themselves are @simplewebauthn/server's (webauthn.ts).
import crypto from 'node:crypto';
import type { Config } from '../../config/index.js';
import type { User } from '../../directory/users.js';
import type { Db } from '../../storage/db.js';
import type { MethodConfig, UserMethodsPolicy } from '../policy.js';
import { methodsPolicyFor } from '../policy.js';
import { listMethodsOfType, parseState } from '../store.js';
import type { MethodDeps, MethodRow, MethodStrategy } from '../types.js';
import { COSE_ALGORITHMS, type Expected, WebAuthnError, type WebAuthnFailure, newChallenge, parseAssertion, verifyAssertion, verifyRegistration } from './webauthn.js';

/** spec §8: a challenge, at registration or sign-in, is good for this long */
export const CHALLENGE_TTL_MS = 5 * 60_000;

export interface Fido2State {
  publicKey: string;
  alg: number;
  aaguid: string;
  backupEligible: boolean;
  backedUp: boolean;
  transports: string[];
  fmt: string;
  /** an attestation statement (not `none`) was verified at registration */
  attested?: boolean;
}

export const fido2 = {
  type: 'fido2',
  odataType: '#microsoft.graph.fido2AuthenticationMethod',
  collection: 'fido2Methods',
  firstFactor: true,
  satisfiesMfa: true,
  // D22, unverified: Entra documents no amr value for a passkey; `mfa` plus the closest (proof of a key)
  amr: ['rsa', 'mfa'],
  logName: 'FIDO2 security key',
  preferredRank: 2,
  onRequireReregister: 'keep',
  adminMayCreate: false,
  adminMayDelete: true,
  toGraph(row: MethodRow | undefined) {
    const s = row ? parseState<Partial<Fido2State>>(row) : undefined;
    return {
      '@odata.type': '#microsoft.graph.fido2AuthenticationMethod',
      id: row?.id,
      displayName: row?.display_name ?? null,
      createdDateTime: row ? new Date(row.created_at).toISOString() : null,
      aaGuid: s?.aaguid ?? null,
      // no metadata service here: the model is not known from the AAGUID
      model: null,
      attestationCertificates: [],
      attestationLevel: s?.attested ? 'attested' : 'notAttested',
      passkeyType: s ? (s.backupEligible ? 'synced' : 'deviceBound') : null,
    };
  },
} as const satisfies MethodStrategy;

/** The relying party: its id (a host name) and the origins whose ceremonies are accepted. */
export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

export function relyingParty(config: Pick<Config, 'webauthnRpId' | 'webauthnOrigins'>, origin: string, name: string): RelyingParty {
  const origins = config.webauthnOrigins ? config.webauthnOrigins.split(',').map((o) => o.trim()).filter(Boolean) : [origin];
  return { id: config.webauthnRpId || new URL(origin).hostname, name: name || 'Latchkey', origins };
}

/** The WebAuthn user handle of a user: its id's bytes. */
export function userHandleOf(userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url');
}

export type Fido2Failure = WebAuthnFailure | 'unknown_credential' | 'counter' | 'expired' | 'duplicate' | 'key_restricted' | 'attestation_enforced';

export class Fido2Error extends Error {
  override name = 'Fido2Error';
  constructor(readonly reason: Fido2Failure, message: string, readonly methodId?: string) {
    super(message);
  }
}

/** What the user is told for each refusal (the log gets the detailed message). */
export const FIDO2_MESSAGES: Record<Fido2Failure, string> = {
  malformed: "We couldn't read the passkey's answer. Try again.",
  type: "We couldn't read the passkey's answer. Try again.",
  challenge: 'That passkey request has expired or was already used. Try again.',
  origin: "That passkey answer was made for another website. Make sure you're on the right site and try again.",
  rp_id: "That passkey answer was made for another website. Make sure you're on the right site and try again.",
  user_presence: 'Your device did not confirm that you were present. Try again.',
  user_verification: 'Your device did not verify you (PIN or biometrics). Try again.',
  algorithm: "This passkey uses a key type we don't support. Use another passkey.",
  signature: "We couldn't verify that passkey. Try again.",
  unknown_credential: "We don't recognize that passkey. Use another passkey or sign in another way.",
  counter: "This passkey's answer looks like a copy of an earlier one. Sign in another way and tell your administrator.",
  expired: 'The set-up expired. Start again.',
  duplicate: 'That passkey is already registered.',
  key_restricted: "Your organization doesn't allow this kind of passkey.",
  attestation_enforced: "Your organization requires passkeys whose maker can be verified, and this one didn't provide that. Use a security key your organization supports.",
};

/** Options for navigator.credentials.create(), in WebAuthn's JSON form. */
export function creationOptions(rp: RelyingParty, user: User, challenge: string, existing: readonly MethodRow[], attestation: 'none' | 'direct' = 'none') {
  return {
    rp: { id: rp.id, name: rp.name },
    user: { id: userHandleOf(user.id), name: user.upn, displayName: user.display_name || user.upn },
    challenge,
    pubKeyCredParams: COSE_ALGORITHMS.map((alg) => ({ type: 'public-key', alg })),
    timeout: CHALLENGE_TTL_MS,
    attestation,
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    excludeCredentials: existing.filter((m) => m.credential_id).map((m) => ({ type: 'public-key', id: m.credential_id!, transports: parseState<Fido2State>(m).transports })),
  };
}

/** Options for navigator.credentials.get(): the user's passkeys, or none (discoverable credentials). */
export function requestOptions(rp: RelyingParty, challenge: string, mine: readonly MethodRow[] = []) {
  return {
    challenge,
    rpId: rp.id,
    timeout: CHALLENGE_TTL_MS,
    userVerification: 'required',
    allowCredentials: mine.filter((m) => m.credential_id).map((m) => ({ type: 'public-key', id: m.credential_id!, transports: parseState<Fido2State>(m).transports })),
  };
}

/**
 * Starts a registration: a pending row holding the challenge; returns its id and the creation options
 * (asking for the authenticator's attestation when the Fido2 policy enforces it).
 */
export async function beginRegistration(deps: MethodDeps, user: User, rp: RelyingParty, now = Date.now()) {
  const challenge = newChallenge();
  const id = crypto.randomUUID();
  await deps.db.deleteFrom('auth_methods').where('user_id', '=', user.id).where('status', '=', 'pending').where('expires_at', '<=', now).execute();
  await deps.db
    .insertInto('auth_methods')
    .values({ id, tenant_id: user.tenant_id, user_id: user.id, type: 'fido2', status: 'pending', display_name: 'Passkey', secret: null, state: JSON.stringify({ challenge }), last_step: null, used_at: null, created_at: now, last_used_at: null, expires_at: now + CHALLENGE_TTL_MS, credential_id: null })
    .execute();
  const existing = await listMethodsOfType(deps.db, user.id, 'fido2');
  const enforced = (await methodsPolicyFor(deps.db, user)).policy.doc.configurations.Fido2.isAttestationEnforced === true;
  return { pendingId: id, options: creationOptions(rp, user, challenge, existing, enforced ? 'direct' : 'none') };
}

/**
 * spec §7: the Fido2 configuration's key restrictions (by AAGUID) and attestation enforcement: when
 * enforced, a registration needs a verified attestation statement (not `none`). No trust anchors are
 * configured (no FIDO metadata service): a statement is verified against its own certificates, and
 * against the library's built-in roots for Apple and Android only.
 */
function checkRestrictions(config: MethodConfig, aaguid: string, attested: boolean): void {
  if (config.isAttestationEnforced === true && !attested) throw new Fido2Error('attestation_enforced', 'the Fido2 policy enforces attestation, and the registration has none');
  const kr = config.keyRestrictions as { isEnforced?: boolean; enforcementType?: string; aaGuids?: string[] } | undefined;
  if (!kr?.isEnforced) return;
  const listed = (kr.aaGuids ?? []).some((g) => g.toLowerCase() === aaguid.toLowerCase());
  if ((kr.enforcementType === 'allow' && !listed) || (kr.enforcementType === 'block' && listed)) throw new Fido2Error('key_restricted', `AAGUID ${aaguid} is not allowed by the Fido2 key restrictions`);
}

/**
 * Finishes a registration inside the caller's transaction: consumes the pending row (one-time, unexpired),
 * verifies the attestation, and makes the pending row the method. Throws Fido2Error; the caller's
 * transaction then writes nothing (the challenge is spent only when the registration succeeds).
 */
export async function finishRegistration(trx: Db, user: User, pendingId: string, response: unknown, rp: RelyingParty, policy: UserMethodsPolicy, displayName: string, now = Date.now()): Promise<MethodRow> {
  const pending = (await trx.selectFrom('auth_methods').selectAll().where('id', '=', pendingId).where('user_id', '=', user.id).where('type', '=', 'fido2').where('status', '=', 'pending').where('expires_at', '>', now).executeTakeFirst()) as MethodRow | undefined;
  if (!pending) throw new Fido2Error('expired', 'no pending passkey registration (expired or used)');
  const { challenge } = parseState<{ challenge: string }>(pending);
  const exp: Expected = { challenge, origins: rp.origins, rpId: rp.id };
  const v = await wrapAsync(() => verifyRegistration(response, exp));
  checkRestrictions(policy.policy.doc.configurations.Fido2, v.aaguid, v.attested);
  const taken = await trx.selectFrom('auth_methods').select('id').where('tenant_id', '=', user.tenant_id).where('credential_id', '=', v.credentialId).executeTakeFirst();
  if (taken) throw new Fido2Error('duplicate', 'the credential id is already registered');
  const state: Fido2State = { publicKey: v.publicKey, alg: v.alg, aaguid: v.aaguid, backupEligible: v.backupEligible, backedUp: v.backedUp, transports: v.transports, fmt: v.fmt, attested: v.attested };
  const name = displayName.trim().slice(0, 64) || 'Passkey';
  const r = await trx
    .updateTable('auth_methods')
    .set({ status: 'active', expires_at: null, created_at: now, display_name: name, state: JSON.stringify(state), credential_id: v.credentialId, last_step: v.counter })
    .where('id', '=', pending.id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new Fido2Error('expired', 'the pending registration was used meanwhile');
  return { ...pending, status: 'active', expires_at: null, created_at: now, display_name: name, state: JSON.stringify(state), credential_id: v.credentialId, last_step: v.counter };
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WebAuthnError) throw new Fido2Error(e.reason, e.message);
    throw e;
  }
}

async function wrapAsync<T>(fn: () => Promise<T>, methodId?: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof WebAuthnError) throw new Fido2Error(e.reason, e.message, methodId);
    throw e;
  }
}

/** The passkey an assertion names, in this tenant (and of this user, when the user is known). */
export async function findPasskey(db: Db, tenantId: string, response: unknown, userId?: string): Promise<MethodRow> {
  const a = wrap(() => parseAssertion(response));
  const row = (await db.selectFrom('auth_methods').selectAll().where('tenant_id', '=', tenantId).where('credential_id', '=', a.credentialId).where('type', '=', 'fido2').where('status', '=', 'active').executeTakeFirst()) as MethodRow | undefined;
  if (!row || (userId !== undefined && row.user_id !== userId)) throw new Fido2Error('unknown_credential', `unknown credential id ${a.credentialId.slice(0, 24)}`);
  // a discoverable credential names its user: it must be the passkey's owner
  if (a.userHandle !== undefined && a.userHandle !== userHandleOf(row.user_id)) throw new Fido2Error('unknown_credential', 'the user handle is not the credential owner', row.id);
  return row;
}

/**
 * Verifies an assertion against a passkey and moves its signature counter forward; throws Fido2Error.
 * Call only with a challenge already taken from the flow (one-time).
 */
export async function verifyPasskey(db: Db, row: MethodRow, response: unknown, challenge: string, rp: RelyingParty, policy: UserMethodsPolicy, now = Date.now()): Promise<void> {
  const s = parseState<Fido2State>(row);
  const v = await wrapAsync(() => verifyAssertion(response, { challenge, origins: rp.origins, rpId: rp.id }, s), row.id);
  try {
    // attestation enforcement governs registration; a passkey registered before it was on still signs in
    checkRestrictions({ ...policy.policy.doc.configurations.Fido2, isAttestationEnforced: false }, s.aaguid, s.attested === true);
  } catch (e) {
    throw new Fido2Error((e as Fido2Error).reason, (e as Error).message, row.id);
  }
  const c = v.counter;
  const r = await db
    .updateTable('auth_methods')
    .set({ last_step: c, last_used_at: now })
    .where('id', '=', row.id)
    .where('status', '=', 'active')
    .where((eb) => eb.or([eb('last_step', 'is', null), c === 0 ? eb('last_step', '=', 0) : eb('last_step', '<', c)]))
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new Fido2Error('counter', `signature counter ${c} is not above the stored ${row.last_step ?? 0}`, row.id);
}
