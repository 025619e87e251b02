// When a sign-in needs MFA (spec §8, D18), and the "Don't ask again for N days" cookie of per-user MFA
// (rule 6: it counts only when set at or after the user's mfaRememberedValidFrom stamp).
import crypto from 'node:crypto';
import type { Secrets } from '../crypto/secrets.js';
import type { User } from '../directory/users.js';
import type { TenantSettings } from '../directory/settings.js';
import type { Db } from '../storage/db.js';

export const REMEMBER_MFA_COOKIE = '__Host-lk_mfa_remember';

export function perUserMfaOn(user: User): boolean {
  return user.per_user_mfa_state === 'enabled' || user.per_user_mfa_state === 'enforced';
}

/** Whether the client app, or an API the request names, requires MFA (a Latchkey app setting, spec §8). */
export async function appsRequireMfa(db: Db, clientId: string | undefined, resources: readonly string[]): Promise<boolean> {
  const ids = [clientId ?? ''].filter((a) => a && !a.includes('\0'));
  const uris = resources.filter((r) => r && !r.includes('\0'));
  if (!ids.length && !uris.length) return false;
  const row = await db
    .selectFrom('apps')
    .select('id')
    .where('require_mfa', '=', 1)
    .where((eb) => eb.or([...(ids.length ? [eb('id', 'in', ids)] : []), ...(uris.length ? [eb('identifier_uri', 'in', uris)] : [])]))
    .executeTakeFirst();
  return !!row;
}

export function mfaRequiredFor(user: User, settings: TenantSettings, appRequiresMfa: boolean): boolean {
  return perUserMfaOn(user) || settings.security_defaults === 1 || appRequiresMfa || user.force_change_password_mfa === 1;
}

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
