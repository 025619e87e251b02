// Verifies Latchkey's own JWT access tokens (signature against the published keys, issuer, expiry) and
// judges them by the one validity rule. Used by userinfo, introspection and the Graph API.
import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { User } from '../directory/users.js';
import type { KeySet } from './keys.js';
import type { RefusalCode } from './errors.js';
import { ACCESS_TOKEN_GRANT_CLAIM, accessTokenFacts } from './credential-facts.js';
import type { Db } from '../storage/db.js';
import { whyInvalid } from './validity.js';

const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi']);

export interface AccessTokenClaims extends JWTPayload {
  oid?: string;
  tid?: string;
  azp?: string;
  idtyp?: string;
  scp?: string;
  roles?: string[];
  amr?: string[];
  name?: string;
  preferred_username?: string;
}

export type AccessTokenVerifier = (token: string) => Promise<AccessTokenClaims | undefined>;

export function createAccessTokenVerifier(keys: KeySet, issuer: string): AccessTokenVerifier {
  const publicKeys = keys.privateJwks.map((k) => Object.fromEntries(Object.entries(k).filter(([n]) => !PRIVATE_MEMBERS.has(n)))) as JWK[];
  const keySet = createLocalJWKSet({ keys: publicKeys });
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keySet, { issuer, algorithms: ['RS256'] });
      return payload as AccessTokenClaims;
    } catch {
      return undefined;
    }
  };
}

/**
 * Whether the grant a user access token came from still exists: a grant revoked for a replayed code
 * (D20), a reused refresh token (D2), or ended by an admin (D25) takes its access tokens with it at
 * Latchkey's own routes. One indexed query (oidc_models_grant); a token without the claim passes.
 */
export async function accessTokenGrantExists(db: Db, claims: AccessTokenClaims): Promise<boolean> {
  const grantId = claims[ACCESS_TOKEN_GRANT_CLAIM];
  if (typeof grantId !== 'string') return true;
  const row = await db
    .selectFrom('oidc_models')
    .select('grant_id')
    .where('grant_id', '=', grantId)
    .where('model', '=', 'Grant')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', Date.now())]))
    .executeTakeFirst();
  return !!row;
}

/**
 * Whether Latchkey's own routes (userinfo, introspection, Graph) refuse a verified user access token: the
 * validity rule (D8) on its user, then its grant must still exist. undefined when usable.
 */
export async function whyAccessTokenInvalid(db: Db, user: User | undefined, claims: AccessTokenClaims): Promise<RefusalCode | undefined> {
  const why = whyInvalid(user, accessTokenFacts(claims));
  if (why) return why;
  return (await accessTokenGrantExists(db, claims)) ? undefined : 'refresh_token_invalid';
}
