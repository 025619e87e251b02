// What every authentication method is (spec §4): one strategy per method behind one small interface,
// reached only through the registry in ./index.ts.
import type { Selectable } from 'kysely';
import type { Secrets } from '../crypto/secrets.js';
import type { User } from '../directory/users.js';
import type { Db } from '../storage/db.js';
import type { AuthMethodTable } from '../storage/schema.js';
import type { UserMethodsPolicy } from './policy.js';

export type MethodType = 'password' | 'softwareOath' | 'temporaryAccessPass' | 'fido2';

/** A stored method row (every method but the password, which lives on the user). */
export type MethodRow = Selectable<AuthMethodTable>;

export interface MethodDeps {
  db: Db;
  secrets: Secrets;
}

/** The outcome of checking what a person typed for one method. */
export type VerifyResult =
  | { ok: true; methodId: string; /** rule 5: sessions and tokens it gives end by then */ expiresAt?: number }
  | { ok: false; reason: VerifyFailure; methodId?: string };

export type VerifyFailure =
  | 'wrong' // wrong value (counts toward the wrong-code limit)
  | 'replayed' // a one-time code accepted before
  | 'expired'
  | 'not_yet_valid'
  | 'used' // a one-time TAP already consumed
  | 'disabled_by_policy'
  | 'none'; // the user has no such method

/** What Require re-register MFA does to a method of this type (spec §5). */
export type ReregisterEffect = 'delete' | 'deactivate' | 'keep';

export interface MethodStrategy {
  readonly type: MethodType;
  /** Graph `@odata.type` */
  readonly odataType: string;
  /** Graph relationship under /authentication that lists this type */
  readonly collection: string;
  /** may start a sign-in (spec §4 table) */
  readonly firstFactor: boolean;
  /** satisfies MFA as the second factor, or alone when also a first factor */
  readonly satisfiesMfa: boolean;
  /** `amr` values of a sign-in step done with it (D22) */
  readonly amr: readonly string[];
  /** the sign-in log's `authenticationDetails[].authenticationMethod` */
  readonly logName: string;
  /** system-preferred order (spec §8): lower is offered first */
  readonly preferredRank: number;
  readonly onRequireReregister: ReregisterEffect;
  readonly adminMayCreate: boolean;
  readonly adminMayDelete: boolean;
  /** Graph's shape of one method of this type (`policy`: the user's effective methods policy, §7) */
  toGraph(row: MethodRow | undefined, user: User, now: number, policy: UserMethodsPolicy): Record<string, unknown>;
}
