// MFA test helpers: TOTP codes computed here as an authenticator app would, and a software OATH method
// registered for a user through the method's own enroll and confirm.
import assert from 'node:assert/strict';
import { Secret, TOTP } from 'otpauth';
import type { User } from '../../src/directory/users.js';
import { beginEnrollment, confirmEnrollment, PERIOD_S } from '../../src/methods/software-oath/index.js';
import { findPending } from '../../src/methods/store.js';
import type { TestServer } from './server.js';

/** The code an authenticator app shows for this Base32 seed at `ms`. */
export function totpAt(secret: string, ms: number = Date.now()): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: PERIOD_S, algorithm: 'SHA1' }).generate({ timestamp: ms });
}

/**
 * Gives the user a software OATH method, confirmed with a code of an earlier time step (so a sign-in's
 * code of the current step is still new); returns its Base32 seed.
 */
export async function enrollTotp(server: TestServer, user: User, stepsAgo = 2): Promise<string> {
  const deps = { db: server.store.db, secrets: server.secrets };
  const e = await beginEnrollment(deps, user, 'test');
  assert.ok(e !== 'limit_reached');
  const at = Date.now() - stepsAgo * PERIOD_S * 1000;
  assert.equal(await confirmEnrollment(deps, (await findPending(server.store.db, user.id, e.id))!, totpAt(e.secret, at), at), 'ok');
  return e.secret;
}
