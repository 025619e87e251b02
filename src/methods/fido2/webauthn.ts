// WebAuthn relying-party checks (https://www.w3.org/TR/webauthn-3/ §7.1 registration, §7.2
// authentication) by @simplewebauthn/server: client data (type, one-time challenge, origin),
// authenticator data (RP id hash, user present and verified, backup flags), attested credential data with
// its COSE key, the attestation statement, and the assertion signature. This module keeps what the
// library leaves to the caller: the JSON shape of what the browser posted (checked before the library
// reads it), cross-origin ceremonies (refused), the credential id's bounds and its match with the
// authenticator data, RSA keys of at least 2048 bits, and the library's errors as one reason each. The
// signature counter rule is the caller's (fido2/index.ts moves it forward with a conditional update).
// The JSON shapes are the browser's PublicKeyCredential.toJSON().
import crypto from 'node:crypto';
import { type AuthenticationResponseJSON, type RegistrationResponseJSON, verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { cose, decodeCredentialPublicKey } from '@simplewebauthn/server/helpers';

export type WebAuthnFailure =
  | 'malformed' // not a credential in WebAuthn's JSON shape, bad base64url, bad CBOR, bad authenticator data
  | 'type' // clientData.type is not the ceremony's
  | 'challenge' // not this flow's challenge (another flow's, a used or an expired one)
  | 'origin' // an origin that is not allowed
  | 'rp_id' // authenticator data for another relying party
  | 'user_presence'
  | 'user_verification'
  | 'algorithm' // a COSE key type or algorithm not supported
  | 'signature'; // the assertion's signature, or an attestation statement, does not verify

export class WebAuthnError extends Error {
  override name = 'WebAuthnError';
  constructor(readonly reason: WebAuthnFailure, message: string) {
    super(message);
  }
}

/** What a ceremony must match: the challenge it issued, the allowed origins, the relying party id. */
export interface Expected {
  challenge: string;
  origins: readonly string[];
  rpId: string;
}

/** COSE algorithms offered at registration, in order of preference (EdDSA, ES256, RS256). */
export const COSE_ALGORITHMS = [-8, -7, -257] as const;

const B64URL = /^[A-Za-z0-9_-]*$/;
const MAX_FIELD = 64 * 1024;

export function fromB64url(s: unknown, what: string): Buffer {
  if (typeof s !== 'string' || s.length > MAX_FIELD || !B64URL.test(s)) throw new WebAuthnError('malformed', `${what} is not base64url`);
  return Buffer.from(s, 'base64url');
}

export function toB64url(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

/**
 * The library's errors, each as one reason. Matched on the library's own message prefixes (never on the
 * part quoting the client's values); anything else (bad CBOR, bad authenticator data, a backed-up
 * single-device credential, a TypeError on a broken structure) is `malformed`.
 */
const LIBRARY_ERRORS: [RegExp, WebAuthnFailure][] = [
  [/^Unexpected (registration|authentication) response type\b/, 'type'],
  [/^(Unexpected (registration|authentication) response challenge|Custom challenge verifier returned false)/, 'challenge'],
  [/^(Unexpected (registration|authentication) response origin|Detected cross-origin|Unexpected cross-origin|Unexpected top origin)/, 'origin'],
  [/^Unexpected RP ID hash/, 'rp_id'],
  [/^(User presence was required|User not present)/, 'user_presence'],
  [/^User verification (was )?required/, 'user_verification'],
  [/^(Unexpected public key alg|Credential public key was missing numeric alg)/, 'algorithm'],
];

function failureOf(e: unknown): WebAuthnError {
  if (e instanceof WebAuthnError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof Error && (e.name === 'UnexpectedRPIDHash' || e.name === 'PQCNotSupportedError')) return new WebAuthnError(e.name === 'UnexpectedRPIDHash' ? 'rp_id' : 'algorithm', message);
  const hit = LIBRARY_ERRORS.find(([re]) => re.test(message));
  return new WebAuthnError(hit ? hit[1] : 'malformed', message);
}

/** The library's verification, its errors as WebAuthnError. */
async function library<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw failureOf(e);
  }
}

/** A constant-time comparison of the challenge the client data carries with the flow's. */
function challengeIs(expected: string): (challenge: string) => boolean {
  return (challenge) => {
    const a = Buffer.from(challenge);
    const b = Buffer.from(expected);
    return expected.length > 0 && a.length === b.length && crypto.timingSafeEqual(a, b);
  };
}

/** The library accepts a cross-origin ceremony without a top origin; here a ceremony is never cross-origin. */
function refuseCrossOrigin(clientDataJSON: string): void {
  let c: unknown;
  try {
    c = JSON.parse(fromB64url(clientDataJSON, 'clientDataJSON').toString('utf8'));
  } catch (e) {
    throw e instanceof WebAuthnError ? e : new WebAuthnError('malformed', 'clientDataJSON is not JSON');
  }
  if (typeof c !== 'object' || c === null) throw new WebAuthnError('malformed', 'clientDataJSON is not an object');
  if ((c as { crossOrigin?: unknown }).crossOrigin === true) throw new WebAuthnError('origin', 'cross-origin ceremonies are not allowed');
}

/** A credential in the browser's JSON shape: its id and the response's fields, each checked to be a string. */
function credentialJson<F extends string>(raw: unknown, fields: readonly F[]): { id: string; response: Record<F, string>; transports: string[] } {
  const c = raw as { id?: unknown; rawId?: unknown; type?: unknown; response?: Record<string, unknown> } | null;
  if (typeof c !== 'object' || c === null || c.type !== 'public-key' || typeof c.id !== 'string' || typeof c.response !== 'object' || c.response === null) {
    throw new WebAuthnError('malformed', 'not a public-key credential');
  }
  fromB64url(c.id, 'id');
  if (c.rawId !== undefined && c.rawId !== c.id) throw new WebAuthnError('malformed', 'rawId differs from id');
  const response = {} as Record<F, string>;
  for (const f of fields) {
    const v = c.response[f];
    fromB64url(v, `response.${f}`);
    response[f] = v as string;
  }
  const t = c.response.transports;
  const transports = Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string' && /^[a-z-]{1,16}$/.test(x)).slice(0, 8) : [];
  return { id: c.id, response, transports };
}

/** RS256 keys shorter than 2048 bits are refused (the library verifies any modulus). */
function checkKey(key: cose.COSEPublicKey): void {
  if (!cose.isCOSEPublicKeyRSA(key)) return;
  const n = key.get(cose.COSEKEYS.n);
  if (!n || n.length < 256) throw new WebAuthnError('algorithm', 'RSA keys shorter than 2048 bits are not accepted');
}

export interface VerifiedRegistration {
  credentialId: string;
  /** the COSE key, base64url */
  publicKey: string;
  alg: number;
  counter: number;
  aaguid: string;
  backupEligible: boolean;
  backedUp: boolean;
  fmt: string;
  /** an attestation statement (not `none`) came and verified */
  attested: boolean;
  transports: string[];
}

/** §7.1: a new credential made for this challenge, origin and RP id, with user verification. */
export async function verifyRegistration(raw: unknown, exp: Expected): Promise<VerifiedRegistration> {
  const cred = credentialJson(raw, ['clientDataJSON', 'attestationObject']);
  refuseCrossOrigin(cred.response.clientDataJSON);
  const response: RegistrationResponseJSON = {
    id: cred.id,
    rawId: cred.id,
    type: 'public-key',
    clientExtensionResults: {},
    response: { clientDataJSON: cred.response.clientDataJSON, attestationObject: cred.response.attestationObject },
  };
  const v = await library(() =>
    verifyRegistrationResponse({ response, expectedChallenge: challengeIs(exp.challenge), expectedOrigin: [...exp.origins], expectedRPID: exp.rpId, requireUserPresence: true, requireUserVerification: true, supportedAlgorithmIDs: [...COSE_ALGORITHMS] }),
  );
  if (!v.verified) throw new WebAuthnError('signature', 'the attestation statement does not verify');
  const info = v.registrationInfo;
  const id = fromB64url(info.credential.id, 'credential id');
  if (id.length < 16 || id.length > 1023) throw new WebAuthnError('malformed', 'bad credential id length');
  if (info.credential.id !== cred.id) throw new WebAuthnError('malformed', 'the credential id differs from the authenticator data');
  const key = decodeCredentialPublicKey(info.credential.publicKey);
  const alg = key.get(cose.COSEKEYS.alg);
  if (alg === undefined) throw new WebAuthnError('algorithm', 'the public key has no algorithm');
  checkKey(key);
  return {
    credentialId: cred.id,
    publicKey: toB64url(info.credential.publicKey),
    alg,
    counter: info.credential.counter,
    aaguid: info.aaguid,
    backupEligible: info.credentialDeviceType === 'multiDevice',
    backedUp: info.credentialBackedUp,
    fmt: info.fmt,
    attested: info.fmt !== 'none',
    transports: cred.transports,
  };
}

export interface ParsedAssertion {
  credentialId: string;
  /** the user handle the authenticator returned (discoverable credentials), base64url */
  userHandle?: string;
}

/** The credential id and user handle of an assertion, before its signature is checked (to find the key). */
export function parseAssertion(raw: unknown): ParsedAssertion {
  const cred = credentialJson(raw, ['clientDataJSON', 'authenticatorData', 'signature']);
  const uh = (raw as { response: { userHandle?: unknown } }).response.userHandle;
  if (uh !== undefined && uh !== null) fromB64url(uh, 'userHandle');
  return { credentialId: cred.id, userHandle: typeof uh === 'string' && uh ? uh : undefined };
}

export interface VerifiedAssertion {
  counter: number;
  backedUp: boolean;
}

/**
 * §7.2: an assertion of this credential for this challenge, origin and RP id, with user verification.
 * The library is given a stored counter of 0, so it leaves the counter rule to the caller's conditional
 * update (atomic against two assertions at once).
 */
export async function verifyAssertion(raw: unknown, exp: Expected, credential: { publicKey: string }): Promise<VerifiedAssertion> {
  const cred = credentialJson(raw, ['clientDataJSON', 'authenticatorData', 'signature']);
  refuseCrossOrigin(cred.response.clientDataJSON);
  const uh = (raw as { response: { userHandle?: unknown } }).response.userHandle;
  const response: AuthenticationResponseJSON = {
    id: cred.id,
    rawId: cred.id,
    type: 'public-key',
    clientExtensionResults: {},
    response: { clientDataJSON: cred.response.clientDataJSON, authenticatorData: cred.response.authenticatorData, signature: cred.response.signature, ...(typeof uh === 'string' && uh ? { userHandle: uh } : {}) },
  };
  const publicKey = fromB64url(credential.publicKey, 'stored public key');
  const v = await library(() =>
    verifyAuthenticationResponse({ response, expectedChallenge: challengeIs(exp.challenge), expectedOrigin: [...exp.origins], expectedRPID: exp.rpId, credential: { id: cred.id, publicKey: new Uint8Array(publicKey), counter: 0 }, requireUserVerification: true }),
  );
  if (!v.verified) throw new WebAuthnError('signature', 'the signature does not verify');
  return { counter: v.authenticationInfo.newCounter, backedUp: v.authenticationInfo.credentialBackedUp };
}

/** A fresh challenge: 32 random bytes, base64url. */
export function newChallenge(): string {
  return crypto.randomBytes(32).toString('base64url');
}
