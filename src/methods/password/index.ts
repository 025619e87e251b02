// The password (spec §4, §9): argon2id, the first factor of most sign-ins. Verification goes through
// smart lockout: a locked counter refuses even the right password without checking it, and one attempt
// per user runs at a time so parallel guesses are all counted.
import { verifyPassword } from '../../crypto/secrets.js';
import type { User } from '../../directory/users.js';
import type { MethodDeps, MethodStrategy } from '../types.js';
import { type LockoutConfig, checkLocked, oneAttemptAtATime, recordFailure, recordSuccess } from './lockout.js';

/** spec §4: the password method's fixed id */
export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';
/** Longest password input verified: 256 characters (D13) of up to two UTF-16 units each. */
export const MAX_PASSWORD_UNITS = 512;

export const password = {
  type: 'password',
  odataType: '#microsoft.graph.passwordAuthenticationMethod',
  collection: 'passwordMethods',
  firstFactor: true,
  satisfiesMfa: false,
  amr: ['pwd'],
  logName: 'Password',
  preferredRank: 99,
  onRequireReregister: 'keep',
  adminMayCreate: false,
  adminMayDelete: false,
  toGraph(_row: unknown, user: User) {
    return {
      '@odata.type': '#microsoft.graph.passwordAuthenticationMethod',
      id: PASSWORD_METHOD_ID,
      password: null,
      createdDateTime: new Date(user.last_password_change_at).toISOString(),
    };
  },
} as const satisfies MethodStrategy;

export type PasswordOutcome = { kind: 'ok' } | { kind: 'wrong' } | { kind: 'disabled' } | { kind: 'locked'; location: string };

/** Checks a typed password for a sign-in from `ip`, with smart lockout. */
export function verifyPasswordSignin(deps: MethodDeps, user: User, typed: string, ip: string, lockout: LockoutConfig): Promise<PasswordOutcome> {
  return oneAttemptAtATime(user.id, async (): Promise<PasswordOutcome> => {
    const lock = await checkLocked(deps.db, user.id, ip, Date.now(), lockout);
    if (lock.locked) return { kind: 'locked', location: lock.location };
    const hash = typed && typed.length <= MAX_PASSWORD_UNITS ? user.password_hash : null;
    if (!hash || !(await verifyPassword(hash, typed))) {
      // only a password that was checked and did not match counts toward lockout
      if (hash) await recordFailure(deps.db, deps.secrets, user.id, ip, typed, Date.now(), lockout);
      return { kind: 'wrong' };
    }
    if (user.account_enabled !== 1) return { kind: 'disabled' };
    await recordSuccess(deps.db, user.id, ip, Date.now(), lock);
    return { kind: 'ok' };
  });
}
