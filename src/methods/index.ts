// The registry of authentication methods: the only way the sign-in flow, Graph and the admin actions
// reach a method. `satisfies` proves at compile time that every method conforms to MethodStrategy.
import { fido2 } from './fido2/index.js';
import { password } from './password/index.js';
import { softwareOath } from './software-oath/index.js';
import { temporaryAccessPass } from './tap/index.js';
import type { MethodStrategy, MethodType } from './types.js';

export const METHODS = {
  password,
  softwareOath,
  temporaryAccessPass,
  fido2,
} as const satisfies Record<MethodType, MethodStrategy>;

export function strategy(type: string): MethodStrategy | undefined {
  return Object.hasOwn(METHODS, type) ? METHODS[type as MethodType] : undefined;
}

/** Methods that can be a second factor, in the system-preferred order (spec §8). */
export function byPreference(types: Iterable<MethodType>): MethodType[] {
  return [...new Set(types)].sort((a, b) => METHODS[a].preferredRank - METHODS[b].preferredRank);
}

/**
 * Whether system-preferred MFA applies to the user: the user's own setting (Graph beta signInPreferences)
 * when one was made, else the tenant's (`systemCredentialPreferences` of the methods policy; on unless
 * disabled, as Entra manages it, entra-research §5.6).
 */
export function systemPreferredFor(user: { system_preferred_mfa: number | null }, tenantSystemPreferred: boolean): boolean {
  return user.system_preferred_mfa === null ? tenantSystemPreferred : user.system_preferred_mfa === 1;
}

/**
 * The second-factor choices in the order offered (spec §8): the system-preferred order when it applies
 * to the user, else the user's default method (`preferred_mfa_method`) first and the rest in that order.
 */
export function offeredOrder(types: Iterable<MethodType>, user: { system_preferred_mfa: number | null; preferred_mfa_method: string | null }, tenantSystemPreferred: boolean): MethodType[] {
  const order = byPreference(types);
  const preferred = user.preferred_mfa_method as MethodType | null;
  if (systemPreferredFor(user, tenantSystemPreferred) || !preferred || !order.includes(preferred)) return order;
  return [preferred, ...order.filter((t) => t !== preferred)];
}

export function strategyByCollection(collection: string): MethodStrategy | undefined {
  return Object.values(METHODS).find((m) => m.collection === collection);
}

export type { MethodStrategy, MethodType } from './types.js';
