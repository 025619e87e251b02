// Verifies Latchkey's own JWT access tokens (signature against the published keys, issuer, expiry) and
// judges them by the one validity rule. Used by userinfo, introspection and the Graph API.
import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { User } from '../directory/users.js';
import type { KeySet } from './keys.js';
import type { RefusalCode } from './errors.js';
import { accessTokenFacts } from './credential-facts.js';
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

/** The validity rule for a user access token (D8): undefined when its user and chain are still good. */
export function whyAccessTokenInvalid(user: User | undefined, claims: AccessTokenClaims): RefusalCode | undefined {
  return whyInvalid(user, accessTokenFacts(claims));
}
