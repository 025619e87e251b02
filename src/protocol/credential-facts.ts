// The one builder of the validity rule's inputs (CredentialFacts, src/protocol/validity.ts): from a
// browser-session record, a refresh token with its client, or a verified access token. Every caller of
// whyInvalid gets its facts from here, so "issued when", "password-based" and "confidential client" mean
// the same thing on every path (a structure test holds this).
import { isConfidential, type ClientKind } from '../directory/apps.js';
import type { CredentialFacts } from './validity.js';
import { grantPasswordBased, grantTap } from './grants.js';

/** Private access-token claim: the token's issue time in ms (D5); `iat` has only whole seconds. */
export const ACCESS_TOKEN_ISSUED_MS_CLAIM = 'latchkey_iat_ms';
/** Private access-token claim: whether the grant's sign-in was password-based (spec §8), copied from the grant. */
export const ACCESS_TOKEN_PASSWORD_BASED_CLAIM = 'latchkey_pwd';
/** Private access-token claim: the id of the grant the token was issued from (its revocation is seen at once, D25). */
export const ACCESS_TOKEN_GRANT_CLAIM = 'latchkey_gid';

/**
 * An engine client, as far as the facts need it: its own properties (the engine keeps recognized metadata
 * camelCased and Latchkey's extra metadata under its own name). `metadata()` would rebuild the whole
 * snake_case record on every call, on the token path.
 */
export interface EngineClientLike {
  tokenEndpointAuthMethod?: string;
  latchkey_kind?: ClientKind;
  latchkey_pkce_optional?: boolean;
}

/**
 * The one definition of a confidential client (rule 4, D2, D3): an app registration of a confidential
 * kind (src/directory/apps.ts isConfidential); for an engine client, the kind it was made from.
 */
export function isConfidentialClient(client: EngineClientLike | { kind: ClientKind }): boolean {
  if ('kind' in client) return isConfidential(client);
  return client.latchkey_kind !== undefined ? isConfidential({ kind: client.latchkey_kind }) : client.tokenEndpointAuthMethod !== 'none';
}

/** A user access token's issue time in ms: our claim when present (signature already checked), else `iat`. */
export function accessTokenIssuedAtMs(claims: { iat?: number; [k: string]: unknown }): number {
  const ms = claims[ACCESS_TOKEN_ISSUED_MS_CLAIM];
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : (claims.iat ?? 0) * 1000;
}

/**
 * A refresh token's chain issue time in ms (D5). The storage adapter records a new chain's `iiat` as
 * fractional seconds (the engine's own is whole seconds, which made a sign-in in the same second as a
 * user change look issued before it); rounding undoes the float error.
 */
export function chainIssuedAtMs(t: { iiat?: number; iat?: number }): number {
  return Math.round((t.iiat ?? t.iat ?? 0) * 1000);
}

/** A browser session's facts, from its `signin_sessions` record. */
export function sessionFacts(row: { created_at: number; password_based: number; mfa_at?: number | null; tap_expires_at?: number | null }): CredentialFacts {
  return {
    kind: 'session',
    issuedAt: row.created_at,
    passwordBased: row.password_based === 1,
    ...(row.mfa_at != null ? { mfaAt: row.mfa_at } : {}),
    ...(row.tap_expires_at != null ? { tapExpiresAt: row.tap_expires_at } : {}),
  };
}

/**
 * A refresh token's facts: its chain's issue time, whether its grant's sign-in was password-based (stored
 * on the grant when it was made, src/protocol/grants.ts), and the client it was issued to.
 */
export function refreshTokenFacts(token: { iiat?: number; iat?: number; amr?: string[] }, grant: unknown, client: EngineClientLike | { kind: ClientKind } | undefined): CredentialFacts {
  const issuedAt = chainIssuedAtMs(token);
  const tap = grantTap(grant);
  return {
    kind: 'refresh_token',
    issuedAt,
    passwordBased: grantPasswordBased(grant),
    confidentialClient: client ? isConfidentialClient(client) : false,
    // rule 6: a chain's MFA is its sign-in's, at the chain's original issue time
    ...(token.amr?.includes('mfa') ? { mfaAt: issuedAt } : {}),
    ...(tap ? { tapExpiresAt: tap.expiresAt } : {}),
  };
}

/**
 * A verified user access token's facts (D8): its issue time in ms and the password-based fact its grant
 * had at issue (a token without the claim, from before it existed, counts as password-based).
 */
export function accessTokenFacts(claims: { iat?: number; [k: string]: unknown }): CredentialFacts {
  return { kind: 'access_token', issuedAt: accessTokenIssuedAtMs(claims), passwordBased: claims[ACCESS_TOKEN_PASSWORD_BASED_CLAIM] !== false };
}
