// The WebAuthn checks of src/methods/fido2/webauthn.ts (by @simplewebauthn/server) without a server: each
// refusal comes back with its own reason (user not present, cross-origin and top origin, a client value
// quoting a library word), and an attestation statement is verified and reported as such (`none` is not); with a
// server: an enforced attestation in the Fido2 policy asks for one and refuses a registration without it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { decodeAttestationObject } from '@simplewebauthn/server/helpers';
import { DEMO } from '../src/directory/seed.js';
import { createUser } from '../src/directory/users.js';
import { Fido2Error, beginRegistration, fido2, finishRegistration, relyingParty } from '../src/methods/fido2/index.js';
import { methodsPolicyFor, readMethodsPolicy, rememberMethodsPolicy, writeMethodsPolicy } from '../src/methods/policy.js';
import type { MethodRow } from '../src/methods/types.js';
import { WebAuthnError, type WebAuthnFailure, verifyAssertion, verifyRegistration } from '../src/methods/fido2/webauthn.js';
import { SoftAuthenticator, cbor } from './helpers/passkey.js';

type Cbor = Parameters<typeof cbor>[0];
import { startTestServer, type TestServer } from './helpers/server.js';

const ORIGIN = 'http://localhost:3000';
const exp = (challenge: string) => ({ challenge, origins: [ORIGIN], rpId: 'localhost' });
const options = (challenge: string) => ({ rp: { id: 'localhost' }, user: { id: 'dXNlcg' }, challenge });
const challenge = () => crypto.randomBytes(32).toString('base64url');

async function reason(p: Promise<unknown>): Promise<WebAuthnFailure | 'accepted'> {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    if (e instanceof WebAuthnError) return e.reason;
    throw e;
  }
}

/** The credential with its client data's JSON changed by `f`. */
function withClientData<T extends { response: { clientDataJSON: string } }>(c: T, f: (d: Record<string, unknown>) => void): T {
  const d = JSON.parse(Buffer.from(c.response.clientDataJSON, 'base64url').toString()) as Record<string, unknown>;
  f(d);
  return { ...c, response: { ...c.response, clientDataJSON: Buffer.from(JSON.stringify(d)).toString('base64url') } };
}

/** The credential with a packed self-attestation signed by `signer` (the credential's own key, or another). */
function packedSelf<T extends { response: { clientDataJSON: string; attestationObject: string } }>(cred: T, signer: crypto.KeyObject): T {
  const authData = decodeAttestationObject(Buffer.from(cred.response.attestationObject, 'base64url')).get('authData');
  const clientHash = crypto.createHash('sha256').update(Buffer.from(cred.response.clientDataJSON, 'base64url')).digest();
  const sig = crypto.sign('sha256', Buffer.concat([authData, clientHash]), signer);
  const attStmt: Cbor = new Map<Cbor, Cbor>([['alg', -7], ['sig', sig]]);
  const attestationObject = cbor(new Map<Cbor, Cbor>([['fmt', 'packed'], ['attStmt', attStmt], ['authData', authData]])).toString('base64url');
  return { ...cred, response: { ...cred.response, attestationObject } };
}

describe('WebAuthn checks (@simplewebauthn/server)', () => {
  test('a registration with attestation none: accepted, not attested, its AAGUID and COSE key kept', async () => {
    const c = challenge();
    const auth = new SoftAuthenticator(ORIGIN, { synced: true });
    const v = await verifyRegistration(auth.create(options(c)), exp(c));
    assert.deepEqual([v.fmt, v.attested, v.alg, v.aaguid, v.backupEligible, v.backedUp], ['none', false, -7, '01020304-0506-0708-0102-030405060708', true, true]);
    assert.equal(v.publicKey, auth.keys.get(v.credentialId)!.cose.toString('base64url'));
  });

  test('a packed self-attestation verifies and is attested; a bad statement signature is refused', async () => {
    const c = challenge();
    const auth = new SoftAuthenticator(ORIGIN);
    const cred = auth.create(options(c));
    const v = await verifyRegistration(packedSelf(cred, auth.keys.get(cred.id)!.privateKey), exp(c));
    assert.deepEqual([v.fmt, v.attested], ['packed', true]);
    const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    assert.equal(await reason(verifyRegistration(packedSelf(cred, other), exp(c))), 'signature');
  });

  test('each refusal has its reason: presence, verification, origin, cross-origin, type, challenge, RP id', async () => {
    const c = challenge();
    const auth = new SoftAuthenticator(ORIGIN);
    const reg = await verifyRegistration(auth.create(options(c)), exp(c));
    const stored = { publicKey: reg.publicKey };
    const cases: [string, () => unknown, WebAuthnFailure][] = [
      ['registration without presence', () => verifyRegistration(auth.create(options(c), { flags: 0x04 }), exp(c)), 'user_presence'],
      ['registration without verification', () => verifyRegistration(auth.create(options(c), { flags: 0x01 }), exp(c)), 'user_verification'],
      ['registration from another origin', () => verifyRegistration(auth.create(options(c), { origin: 'https://evil.example' }), exp(c)), 'origin'],
      ['registration cross-origin', () => verifyRegistration(withClientData(auth.create(options(c)), (d) => (d.crossOrigin = true)), exp(c)), 'origin'],
      ['registration with a get answer', () => verifyRegistration(auth.create(options(c), { type: 'webauthn.get' }), exp(c)), 'type'],
      ['registration for another challenge', () => verifyRegistration(auth.create(options(c)), exp(challenge())), 'challenge'],
      ['registration for another RP id', () => verifyRegistration(auth.create(options(c), { rpId: 'evil.example' }), exp(c)), 'rp_id'],
      ['registration against an empty challenge', () => verifyRegistration(auth.create(options('')), exp('')), 'challenge'],
      ['assertion without presence', () => verifyAssertion(auth.get({ rpId: 'localhost', challenge: c }, { credentialId: reg.credentialId, flags: 0x04 }), exp(c), stored), 'user_presence'],
      ['assertion cross-origin', () => verifyAssertion(withClientData(auth.get({ rpId: 'localhost', challenge: c }, { credentialId: reg.credentialId }), (d) => (d.crossOrigin = true)), exp(c), stored), 'origin'],
      ['assertion with a top origin', () => verifyAssertion(withClientData(auth.get({ rpId: 'localhost', challenge: c }, { credentialId: reg.credentialId }), (d) => (d.topOrigin = 'https://evil.example')), exp(c), stored), 'origin'],
      ['assertion whose origin names a challenge', () => verifyAssertion(auth.get({ rpId: 'localhost', challenge: c }, { credentialId: reg.credentialId, origin: 'https://challenge.example' }), exp(c), stored), 'origin'],
      ['assertion without a signature', () => verifyAssertion({ ...auth.get({ rpId: 'localhost', challenge: c }, { credentialId: reg.credentialId }), response: {} }, exp(c), stored), 'malformed'],
    ];
    for (const [what, run, expected] of cases) assert.equal(await reason(run() as Promise<unknown>), expected, what);
    // and the good assertion verifies, with its counter
    const ok = await verifyAssertion(auth.get({ rpId: 'localhost', challenge: c }, { credentialId: reg.credentialId, counter: 7 }), exp(c), stored);
    assert.deepEqual(ok, { counter: 7, backedUp: false });
  });
});

describe('attestation enforced by the Fido2 policy (sqlite)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite');
  });
  after(async () => {
    await server?.close();
  });

  test('registration asks for direct attestation and refuses none; a verified statement registers, attested', async () => {
    const db = server.store.db;
    const stored = await readMethodsPolicy(db, server.tenantId);
    const doc = structuredClone(stored.doc);
    doc.configurations.Fido2.isAttestationEnforced = true;
    rememberMethodsPolicy(db, server.tenantId, (await writeMethodsPolicy(db, server.tenantId, doc, stored.version, Date.now()))!);
    try {
      const user = await createUser(db, { tenantId: server.tenantId, upn: `attested@${server.tenantDomain}`, displayName: 'Attested', password: DEMO.demoPassword });
      const rp = relyingParty({ webauthnRpId: '', webauthnOrigins: '' }, server.origin, 'test');
      const policy = await methodsPolicyFor(db, user);
      const auth = new SoftAuthenticator(server.origin);
      const none = await beginRegistration({ db, secrets: server.secrets }, user, rp);
      assert.equal(none.options.attestation, 'direct');
      const refused = await db
        .transaction()
        .execute((trx) => finishRegistration(trx, user, none.pendingId, auth.create(none.options), rp, policy, 'None'))
        .then(() => 'accepted', (e: unknown) => (e instanceof Fido2Error ? e.reason : String(e)));
      assert.equal(refused, 'attestation_enforced');
      const r = await beginRegistration({ db, secrets: server.secrets }, user, rp);
      const cred = auth.create(r.options);
      const row: MethodRow = await db.transaction().execute((trx) => finishRegistration(trx, user, r.pendingId, packedSelf(cred, auth.keys.get(cred.id)!.privateKey), rp, policy, 'Packed'));
      assert.equal(fido2.toGraph(row).attestationLevel, 'attested');
    } finally {
      const now = await readMethodsPolicy(db, server.tenantId);
      rememberMethodsPolicy(db, server.tenantId, (await writeMethodsPolicy(db, server.tenantId, stored.doc, now.version, Date.now()))!);
    }
  });
});
