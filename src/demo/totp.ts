// `npm run cli -- demo totp <user>`: the code a user's authenticator app shows now, for trying Latchkey
// without a phone. With security defaults on (D18) a demo user registers an authenticator app at first
// sign-in ("More information required") and types its code at every later sign-in; this reads the seed
// sealed with the master key (D14), the app being set up included, and computes that code. Only while the
// demo is on (LATCHKEY_DEMO): anyone who can run it passes the user's second factor.
import { Secret, TOTP } from 'otpauth';
import type { Secrets } from '../crypto/secrets.js';
import { findUserByUpn } from '../directory/users.js';
import { PERIOD_S } from '../methods/software-oath/index.js';
import type { Db } from '../storage/db.js';

export interface DemoCode {
  methodId: string;
  /** `active`: a registered app; `pending`: the app being set up on a "More information required" page */
  status: 'active' | 'pending';
  code: string;
  /** seconds until the next code */
  secondsLeft: number;
}

/** `alice` means `alice@{tenant domain}`. */
export function demoUpn(user: string, tenantDomain: string): string {
  return user.includes('@') ? user : `${user}@${tenantDomain}`;
}

/** The current codes of the user's authenticator apps (software OATH), oldest first; undefined for an unknown user. */
export async function currentTotpCodes(db: Db, secrets: Secrets, tenant: { id: string; domain: string }, user: string, now = Date.now()): Promise<DemoCode[] | undefined> {
  const u = await findUserByUpn(db, tenant.id, demoUpn(user, tenant.domain));
  if (!u) return undefined;
  const rows = await db
    .selectFrom('auth_methods')
    .select(['id', 'status', 'secret', 'expires_at'])
    .where('user_id', '=', u.id)
    .where('type', '=', 'softwareOath')
    .where('status', 'in', ['active', 'pending'])
    .orderBy('created_at')
    .execute();
  const secondsLeft = PERIOD_S - (Math.floor(now / 1000) % PERIOD_S);
  return rows
    .filter((r) => r.secret && (r.status === 'active' || (r.expires_at ?? 0) > now))
    .map((r) => {
      const seed = secrets.decrypt(r.secret!, `oath:${r.id}`);
      const code = new TOTP({ secret: Secret.fromBase32(seed), digits: 6, period: PERIOD_S, algorithm: 'SHA1' }).generate({ timestamp: now });
      return { methodId: r.id, status: r.status as 'active' | 'pending', code, secondsLeft };
    });
}
