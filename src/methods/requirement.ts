// When MFA is required (spec §8, D18): per-user MFA enabled or enforced, security defaults on, an app
// or API registration with `requireMfa`, or a forced password change "with MFA". One answer for the
// sign-in pages, authorize (step-up) and refresh (rule 6).
import type { User } from '../directory/users.js';
import type { Db } from '../storage/db.js';

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
    .where((eb) => eb.or([...(ids.length ? [eb('id', 'in', ids)] : []), ...(uris.length ? [eb('id', 'in', eb.selectFrom('app_identifier_uris').select('app_id').where('uri', 'in', uris))] : [])]))
    .executeTakeFirst();
  return !!row;
}

export function mfaRequiredFor(user: User, settings: { security_defaults: number }, appRequiresMfa: boolean): boolean {
  return perUserMfaOn(user) || settings.security_defaults === 1 || appRequiresMfa || user.force_change_password_mfa === 1;
}
