// Token-signing keys: RS256 like Entra, created on first start, stored encrypted with the master key (D14).
// Rotation adds a new key that signs from the next start on; retired keys stay published until every
// token they signed has expired.
import crypto from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Secrets } from '../crypto/secrets.js';
import type { Db } from '../storage/db.js';

export interface KeySet {
  /** private JWKs, the signing key first */
  privateJwks: JWK[];
}

async function createKey(db: Db, secrets: Secrets, now: number): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const priv = await exportJWK(privateKey);
  const pub = await exportJWK(publicKey);
  const kid = crypto.createHash('sha256').update(pub.n ?? '').digest('base64url').slice(0, 27);
  const full = { ...priv, kid, alg: 'RS256', use: 'sig' };
  await db
    .insertInto('signing_keys')
    .values({
      kid,
      alg: 'RS256',
      private_jwk: secrets.encrypt(JSON.stringify(full), `signing-key:${kid}`),
      public_jwk: JSON.stringify({ ...pub, kid, alg: 'RS256', use: 'sig' }),
      created_at: now,
      retired_at: null,
    })
    .execute();
  return kid;
}

/** Loads the published keys, creating the first one if there is none. */
export async function loadSigningKeys(db: Db, secrets: Secrets, maxTokenLifetimeMs: number, now = Date.now()): Promise<KeySet> {
  let rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').execute();
  if (!rows.some((r) => r.retired_at === null)) {
    await createKey(db, secrets, now);
    rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').execute();
  }
  const active = rows.filter((r) => r.retired_at === null);
  // a retired key stays published until the tokens it signed have expired
  const retired = rows.filter((r) => r.retired_at !== null && r.retired_at + maxTokenLifetimeMs > now);
  return {
    privateJwks: [...active, ...retired].map((r) => JSON.parse(secrets.decrypt(r.private_jwk, `signing-key:${r.kid}`)) as JWK),
  };
}

/** Adds a new signing key and retires the current one (published until its tokens expire). */
export async function rotateSigningKey(db: Db, secrets: Secrets, now = Date.now()): Promise<string> {
  return db.transaction().execute(async (trx) => {
    await trx.updateTable('signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute();
    return createKey(trx, secrets, now + 1);
  });
}
