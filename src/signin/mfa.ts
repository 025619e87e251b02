// The "Don't ask again for N days" cookie of per-user MFA
// (rule 6: it counts only when set at or after the user's mfaRememberedValidFrom stamp).
import crypto from 'node:crypto';
import type { Secrets } from '../crypto/secrets.js';
import type { User } from '../directory/users.js';
import type { TenantSettings } from '../directory/settings.js';
import { perUserMfaOn } from '../methods/requirement.js';

export const REMEMBER_MFA_COOKIE = '__Host-lk_mfa_remember';

/** The remember-MFA cookie: `{userId}.{setAtMs}.{mac}` under a server key; no secret in it. */
export function rememberCookieValue(secrets: Secrets, userId: string, setAt: number): string {
  const mac = secrets.lookupHash(`${userId}.${setAt}`, 'remember-mfa');
  return `${userId}.${setAt}.${mac}`;
}

/** The time the cookie was set, when it is this user's, genuine, unexpired and not revoked. */
export function rememberedMfaAt(secrets: Secrets, cookie: string | undefined, user: User, settings: TenantSettings, now = Date.now()): number | undefined {
  if (!cookie || !perUserMfaOn(user)) return undefined;
  const [userId, at, mac] = cookie.split('.');
  if (userId !== user.id || !at || !mac || !/^\d{1,15}$/.test(at)) return undefined;
  const expected = secrets.lookupHash(`${userId}.${at}`, 'remember-mfa');
  const a = Buffer.from(mac);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) return undefined;
  const setAt = Number(at);
  if (setAt < user.mfa_remembered_valid_from) return undefined; // Revoke MFA sessions
  if (now > setAt + settings.remember_mfa_days * 86_400_000) return undefined;
  return setAt;
}
