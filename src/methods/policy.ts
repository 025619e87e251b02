// Whether a method may be used and registered by a user. Until the authentication methods policy
// arrives (spec §7), the answer is D23's default for a new tenant: TAP, software OATH, the Authenticator
// app and passkeys enabled for all users; the policy will become this function's source.
import type { User } from '../directory/users.js';
import type { MethodType } from './types.js';

const D23_DEFAULTS: Record<MethodType, boolean> = {
  password: true,
  softwareOath: true,
  temporaryAccessPass: true,
};

export function methodEnabledFor(_user: User, method: MethodType): boolean {
  return D23_DEFAULTS[method];
}
