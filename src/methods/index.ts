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

export function strategyByCollection(collection: string): MethodStrategy | undefined {
  return Object.values(METHODS).find((m) => m.collection === collection);
}

export type { MethodStrategy, MethodType } from './types.js';
