// The one validity rule (spec §2): whether a browser session or refresh-token chain is still usable.
// Every path calls this function: an existing session at authorize, refresh, userinfo, introspection.
// Times are Latchkey's own milliseconds (D5). Its inputs come from one builder: src/protocol/credential-facts.ts.
import type { User } from '../directory/users.js';
import type { RefusalCode } from './errors.js';

export interface CredentialFacts {
  kind: 'session' | 'refresh_token' | 'access_token';
  /** original issue time in ms (a refresh-token chain keeps it through rotation) */
  issuedAt: number;
  /** the first factor was a password */
  passwordBased: boolean;
  /** issued to a confidential client (rule 4) */
  confidentialClient?: boolean;
  /**
   * Rule 6: when the credential's MFA was satisfied, in ms; for a refresh-token chain its original issue
   * time when its `amr` holds `mfa`. Read by mfaCounts(), compared with `mfaRememberedValidFrom`.
   */
  mfaAt?: number;
  /** Rule 5: the expiry, in ms, of the Temporary Access Pass the credential came from. */
  tapExpiresAt?: number;
}

/** undefined when usable, else the refusal that names why not. */
export function whyInvalid(user: User | undefined, c: CredentialFacts, now = Date.now()): RefusalCode | undefined {
  if (!user || user.account_enabled !== 1) return 'user_disabled'; // rule 1
  if (c.issuedAt < user.sign_in_sessions_valid_from) return 'sessions_revoked'; // rule 2
  if (user.disabled_at !== null && c.issuedAt < user.disabled_at) return 'sessions_revoked'; // rule 2, D6
  if (c.passwordBased && c.issuedAt < user.last_password_change_at) return 'password_changed'; // rule 3
  if (user.admin_reset_at !== null && c.issuedAt < user.admin_reset_at) {
    // rule 4: non-password-based refresh tokens and confidential-client tokens die too; sessions survive
    if (c.kind !== 'session' || c.confidentialClient) return 'password_changed';
  }
  if (c.tapExpiresAt !== undefined && now >= c.tapExpiresAt) return 'tap_expired'; // rule 5
  return undefined;
}

/**
 * Rule 6, for a request that needs MFA: a refresh token's MFA counts only if its chain began with MFA at
 * or after mfaRememberedValidFrom ("Revoke MFA sessions"); a browser session's MFA always counts.
 */
export function mfaCounts(user: User, c: CredentialFacts): boolean {
  if (c.mfaAt === undefined) return false;
  if (c.kind === 'session') return true;
  return c.mfaAt >= user.mfa_remembered_valid_from;
}
