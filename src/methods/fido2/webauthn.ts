// WebAuthn Level 3 relying-party checks (https://www.w3.org/TR/webauthn-3/ §7.1 registration, §7.2
// authentication) with node:crypto: client data (type, one-time challenge, origin), authenticator data
// (RP id hash, user present and verified, backup flags, signature counter), attested credential data
// with its COSE key (ES256, RS256, EdDSA), and the assertion signature. Attestation statements are not
// verified: registrations ask for `none`, and an authenticator's statement, when one comes anyway, is
// kept as not attested. The JSON shapes are the browser's PublicKeyCredential.toJSON().
import crypto from 'node:crypto';
import { type CborValue, decodeCbor, decodeCborExact } from './cbor.js';

export type WebAuthnFailure =
  | 'malformed' // not a credential in WebAuthn's JSON shape, bad base64url, bad CBOR, bad authenticator data
  | 'type' // clientData.type is not the ceremony's
  | 'challenge' // not this flow's challenge (another flow's, a used or an expired one)
  | 'origin' // an origin that is not allowed
  | 'rp_id' // authenticator data for another relying party
  | 'user_presence'
  | 'user_verification'
  | 'algorithm' // a COSE key type or algorithm not supported
  | 'signature';

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

/** COSE algorithms offered at registration, in order of preference. */
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

interface ClientData {
  type: string;
  challenge: string;
  origin: string;
  crossOrigin?: boolean;
}

/** §7.1 steps 5–10 / §7.2 steps 10–14: the client data of this ceremony. */
function checkClientData(raw: Buffer, type: 'webauthn.create' | 'webauthn.get', exp: Expected): void {
  let c: ClientData;
  try {
    c = JSON.parse(raw.toString('utf8')) as ClientData;
  } catch {
    throw new WebAuthnError('malformed', 'clientDataJSON is not JSON');
  }
  if (typeof c !== 'object' || c === null || typeof c.type !== 'string' || typeof c.challenge !== 'string' || typeof c.origin !== 'string') throw new WebAuthnError('malformed', 'clientDataJSON lacks type, challenge or origin');
  if (c.type !== type) throw new WebAuthnError('type', `clientData.type is ${c.type}, expected ${type}`);
  const a = Buffer.from(c.challenge);
  const b = Buffer.from(exp.challenge);
  if (!exp.challenge || a.length !== b.length || !crypto.timingSafeEqual(a, b)) throw new WebAuthnError('challenge', 'the challenge is not the one this sign-in issued');
  if (!exp.origins.includes(c.origin)) throw new WebAuthnError('origin', `origin ${c.origin} is not allowed`);
  if (c.crossOrigin === true) throw new WebAuthnError('origin', 'cross-origin ceremonies are not allowed');
}

export interface AuthenticatorData {
  flags: { up: boolean; uv: boolean; be: boolean; bs: boolean };
  counter: number;
  attested?: { aaguid: string; credentialId: Buffer; publicKey: Buffer };
}

function uuidOf(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** §6.1: authenticator data, checked against the RP id and the flags every ceremony here requires. */
export function parseAuthenticatorData(data: Buffer, rpId: string): AuthenticatorData {
  if (data.length < 37) throw new WebAuthnError('malformed', 'authenticator data is too short');
  const rpIdHash = crypto.createHash('sha256').update(rpId).digest();
  if (!crypto.timingSafeEqual(data.subarray(0, 32), rpIdHash)) throw new WebAuthnError('rp_id', 'authenticator data is for another relying party id');
  const f = data[32]!;
  const flags = { up: (f & 0x01) !== 0, uv: (f & 0x04) !== 0, be: (f & 0x08) !== 0, bs: (f & 0x10) !== 0 };
  if (flags.bs && !flags.be) throw new WebAuthnError('malformed', 'backup state without backup eligibility');
  if (!flags.up) throw new WebAuthnError('user_presence', 'the user was not present');
  // spec: user verification required (a passkey satisfies MFA alone only with it)
  if (!flags.uv) throw new WebAuthnError('user_verification', 'the user was not verified');
  const counter = data.readUInt32BE(33);
  let pos = 37;
  let attested: AuthenticatorData['attested'];
  if (f & 0x40) {
    if (data.length < pos + 18) throw new WebAuthnError('malformed', 'attested credential data is too short');
    const aaguid = uuidOf(data.subarray(pos, pos + 16));
    const len = data.readUInt16BE(pos + 16);
    pos += 18;
    if (len < 16 || len > 1023 || data.length < pos + len) throw new WebAuthnError('malformed', 'bad credential id length');
    const credentialId = Buffer.from(data.subarray(pos, pos + len));
    pos += len;
    const key = safeCbor(() => decodeCbor(data, pos));
    attested = { aaguid, credentialId, publicKey: Buffer.from(data.subarray(pos, key.end)) };
    pos = key.end;
  }
  if (f & 0x80) pos = safeCbor(() => decodeCbor(data, pos)).end;
  if (pos !== data.length) throw new WebAuthnError('malformed', 'trailing bytes in authenticator data');
  return { flags, counter, attested };
}

function safeCbor<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw e instanceof WebAuthnError ? e : new WebAuthnError('malformed', `bad CBOR: ${(e as Error).message}`);
  }
}

/** A COSE_Key (RFC 9053) as a Node public key, with its algorithm. */
export function coseToKey(cose: Uint8Array): { key: crypto.KeyObject; alg: number } {
  const m = safeCbor(() => decodeCborExact(cose));
  if (!(m instanceof Map)) throw new WebAuthnError('malformed', 'the public key is not a COSE key');
  const bytes = (label: number, size?: number): string => {
    const v = m.get(label);
    if (!(v instanceof Uint8Array) || (size !== undefined && v.length !== size)) throw new WebAuthnError('malformed', `COSE key parameter ${label} is missing or malformed`);
    return toB64url(v);
  };
  const kty = m.get(1) as CborValue;
  const alg = m.get(3) as CborValue;
  try {
    if (kty === 2 && alg === -7 && m.get(-1) === 1) return { alg, key: crypto.createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: bytes(-2, 32), y: bytes(-3, 32) }, format: 'jwk' }) };
    if (kty === 1 && alg === -8 && m.get(-1) === 6) return { alg, key: crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: bytes(-2, 32) }, format: 'jwk' }) };
    if (kty === 3 && alg === -257) {
      const key = crypto.createPublicKey({ key: { kty: 'RSA', n: bytes(-1), e: bytes(-2) }, format: 'jwk' });
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new WebAuthnError('algorithm', 'RSA keys shorter than 2048 bits are not accepted');
      return { alg, key };
    }
  } catch (e) {
    throw e instanceof WebAuthnError ? e : new WebAuthnError('malformed', 'the COSE key is not a valid public key');
  }
  throw new WebAuthnError('algorithm', `COSE key type ${String(kty)} with algorithm ${String(alg)} is not supported`);
}

function verifySignature(alg: number, key: crypto.KeyObject, data: Buffer, sig: Buffer): boolean {
  try {
    if (alg === -8) return crypto.verify(null, data, key, sig);
    if (alg === -7) return crypto.verify('sha256', data, { key, dsaEncoding: 'der' }, sig);
    return crypto.verify('sha256', data, key, sig);
  } catch {
    return false;
  }
}

/** A credential in the browser's JSON shape: its id and the response's fields, each checked to be a string. */
function credentialJson(raw: unknown, fields: readonly string[]): { id: string; response: Record<string, string>; transports: string[] } {
  const c = raw as { id?: unknown; rawId?: unknown; type?: unknown; response?: Record<string, unknown> } | null;
  if (typeof c !== 'object' || c === null || c.type !== 'public-key' || typeof c.id !== 'string' || typeof c.response !== 'object' || c.response === null) {
    throw new WebAuthnError('malformed', 'not a public-key credential');
  }
  fromB64url(c.id, 'id');
  if (c.rawId !== undefined && c.rawId !== c.id) throw new WebAuthnError('malformed', 'rawId differs from id');
  const response: Record<string, string> = {};
  for (const f of fields) {
    const v = c.response[f];
    if (typeof v !== 'string') throw new WebAuthnError('malformed', `response.${f} is missing`);
    response[f] = v;
  }
  const t = c.response.transports;
  const transports = Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string' && /^[a-z-]{1,16}$/.test(x)).slice(0, 8) : [];
  return { id: c.id, response, transports };
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
  transports: string[];
}

/** §7.1: a new credential made for this challenge, origin and RP id, with user verification. */
export function verifyRegistration(raw: unknown, exp: Expected): VerifiedRegistration {
  const cred = credentialJson(raw, ['clientDataJSON', 'attestationObject']);
  checkClientData(fromB64url(cred.response.clientDataJSON, 'clientDataJSON'), 'webauthn.create', exp);
  const att = safeCbor(() => decodeCborExact(fromB64url(cred.response.attestationObject, 'attestationObject')));
  if (!(att instanceof Map)) throw new WebAuthnError('malformed', 'the attestation object is not a map');
  const fmt = att.get('fmt');
  const authData = att.get('authData');
  const attStmt = att.get('attStmt');
  if (typeof fmt !== 'string' || !(authData instanceof Uint8Array) || !(attStmt instanceof Map)) throw new WebAuthnError('malformed', 'the attestation object lacks fmt, attStmt or authData');
  if (fmt === 'none' && attStmt.size !== 0) throw new WebAuthnError('malformed', "a 'none' attestation with a statement");
  const ad = parseAuthenticatorData(Buffer.from(authData), exp.rpId);
  if (!ad.attested) throw new WebAuthnError('malformed', 'no attested credential data');
  if (toB64url(ad.attested.credentialId) !== cred.id) throw new WebAuthnError('malformed', 'the credential id differs from the authenticator data');
  const { alg } = coseToKey(ad.attested.publicKey);
  return { credentialId: cred.id, publicKey: toB64url(ad.attested.publicKey), alg, counter: ad.counter, aaguid: ad.attested.aaguid, backupEligible: ad.flags.be, backedUp: ad.flags.bs, fmt, transports: cred.transports };
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

/** §7.2: an assertion of this credential for this challenge, origin and RP id, with user verification. */
export function verifyAssertion(raw: unknown, exp: Expected, credential: { publicKey: string }): VerifiedAssertion {
  const cred = credentialJson(raw, ['clientDataJSON', 'authenticatorData', 'signature']);
  const clientData = fromB64url(cred.response.clientDataJSON, 'clientDataJSON');
  checkClientData(clientData, 'webauthn.get', exp);
  const authData = fromB64url(cred.response.authenticatorData, 'authenticatorData');
  const ad = parseAuthenticatorData(authData, exp.rpId);
  const { key, alg } = coseToKey(fromB64url(credential.publicKey, 'stored public key'));
  const signed = Buffer.concat([authData, crypto.createHash('sha256').update(clientData).digest()]);
  if (!verifySignature(alg, key, signed, fromB64url(cred.response.signature, 'signature'))) throw new WebAuthnError('signature', 'the signature does not verify');
  return { counter: ad.counter, backedUp: ad.flags.bs };
}

/** A fresh challenge: 32 random bytes, base64url. */
export function newChallenge(): string {
  return crypto.randomBytes(32).toString('base64url');
}
