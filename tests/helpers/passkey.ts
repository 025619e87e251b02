// A software FIDO2 authenticator for tests without a browser: it answers WebAuthn options (JSON form) with
// the credentials a browser would post (PublicKeyCredential.toJSON()), ES256 keys, attestation `none`,
// and lets a test bend any part (origin, RP id, challenge, counter, flags, attestation object).
import crypto from 'node:crypto';
import type { User } from '../../src/directory/users.js';
import { beginRegistration, finishRegistration, relyingParty } from '../../src/methods/fido2/index.js';
import { methodsPolicyFor } from '../../src/methods/policy.js';
import type { TestServer } from './server.js';

type Cbor = number | Uint8Array | string | Cbor[] | Map<Cbor, Cbor>;

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  if (n < 65536) return Buffer.from([(major << 5) | 25, n >> 8, n & 255]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

/** CBOR encoding of the few types WebAuthn uses. */
export function cbor(v: Cbor): Buffer {
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') return Buffer.concat([head(3, Buffer.byteLength(v)), Buffer.from(v)]);
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), Buffer.from(v)]);
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(cbor)]);
  return Buffer.concat([head(5, v.size), ...[...v].flatMap(([k, x]) => [cbor(k), cbor(x)])]);
}

const b64u = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
export const VIRTUAL_AAGUID = '01020304-0506-0708-0102-030405060708';

export interface Bend {
  origin?: string;
  rpId?: string;
  challenge?: string;
  type?: string;
  counter?: number;
  /** authenticator-data flags (default: user present and verified) */
  flags?: number;
  credentialId?: string;
}

interface Key {
  privateKey: crypto.KeyObject;
  cose: Buffer;
  userHandle: string;
  counter: number;
}

export class SoftAuthenticator {
  readonly keys = new Map<string, Key>();
  constructor(readonly origin: string, readonly opts: { synced?: boolean } = {}) {}

  private authData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter >>> 0);
    return Buffer.concat([crypto.createHash('sha256').update(rpId).digest(), Buffer.from([flags]), c, attested ?? Buffer.alloc(0)]);
  }

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** navigator.credentials.create(): a new discoverable ES256 credential. */
  create(options: { rp: { id: string }; user: { id: string }; challenge: string }, bend: Bend = {}) {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
    const id = crypto.randomBytes(32);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(id.length);
    const attested = Buffer.concat([Buffer.from(VIRTUAL_AAGUID.replace(/-/g, ''), 'hex'), len, id, cose]);
    const backup = this.opts.synced ? 0x18 : 0;
    const authData = this.authData(bend.rpId ?? options.rp.id, (bend.flags ?? 0x05) | 0x40 | backup, bend.counter ?? 0, attested);
    const attestationObject = cbor(new Map<Cbor, Cbor>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    this.keys.set(b64u(id), { privateKey, cose, userHandle: options.user.id, counter: bend.counter ?? 0 });
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: { clientDataJSON: b64u(this.clientData(bend.type ?? 'webauthn.create', bend.challenge ?? options.challenge, bend.origin ?? this.origin)), attestationObject: b64u(attestationObject), transports: ['internal'] },
    };
  }

  /** navigator.credentials.get(): an assertion of one credential (the first, or `bend.credentialId`). */
  get(options: { rpId: string; challenge: string }, bend: Bend = {}) {
    const id = bend.credentialId ?? [...this.keys.keys()][0]!;
    const key = this.keys.get(id);
    const counter = bend.counter ?? (key ? ++key.counter : 1);
    const authData = this.authData(bend.rpId ?? options.rpId, bend.flags ?? 0x05 | (this.opts.synced ? 0x18 : 0), counter);
    const clientDataJSON = this.clientData(bend.type ?? 'webauthn.get', bend.challenge ?? options.challenge, bend.origin ?? this.origin);
    const signer = key?.privateKey ?? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const signature = crypto.sign('sha256', Buffer.concat([authData, crypto.createHash('sha256').update(clientDataJSON).digest()]), signer);
    return {
      id,
      rawId: id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: { clientDataJSON: b64u(clientDataJSON), authenticatorData: b64u(authData), signature: b64u(signature), ...(key ? { userHandle: key.userHandle } : {}) },
    };
  }
}

/** The WebAuthn options a page carries in its passkey form's `data-options` (HTML-escaped JSON). */
export function pageOptions<T = { challenge: string; rpId: string; allowCredentials: { id: string }[] }>(html: string): T {
  const raw = /data-options="([^"]*)"/.exec(html)?.[1];
  if (raw === undefined) throw new Error(`no passkey form on the page: ${html.slice(0, 300)}`);
  return JSON.parse(raw.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as T;
}

/** Registers a passkey for the user through the method's own ceremony (as My Security Info does); returns its credential id. */
export async function givePasskey(server: TestServer, user: User, auth: SoftAuthenticator, opts: { counter?: number; name?: string } = {}): Promise<string> {
  const rp = relyingParty({ webauthnRpId: '', webauthnOrigins: '' }, server.origin, 'test');
  const { pendingId, options } = await beginRegistration({ db: server.store.db, secrets: server.secrets }, user, rp);
  const att = auth.create(options, { counter: opts.counter ?? 0 });
  const policy = await methodsPolicyFor(server.store.db, user);
  await server.store.db.transaction().execute((trx) => finishRegistration(trx, user, pendingId, att, rp, policy, opts.name ?? 'Test key'));
  return att.id;
}
