// What the bench's parent (run.ts) and its two server children (bare-server.ts, latchkey-server.ts) share:
// the request shapes both servers are driven with, and the messages between parent and child.

export const GRAPH = 'https://graph.microsoft.com';

/** Scope of every minted refresh token (both servers): ID token on refresh, Graph as the one resource. */
export const REFRESH_TOKEN_SCOPE = `openid profile offline_access ${GRAPH}/User.Read ${GRAPH}/.default`;
/** Scope sent on each refresh request, as MSAL sends it (openid: an ID token comes back). */
export const REFRESH_REQUEST_SCOPE = `openid profile offline_access ${GRAPH}/User.Read`;
/** Scope of each client-credentials request. */
export const CLIENT_CREDENTIALS_SCOPE = `${GRAPH}/.default`;
/** Secret of the confidential client on both servers. */
/** Prefix of a counted statement's shape when a cache's load ran it (src/directory/cache.ts `cacheLoad`): once per entry and 5 s, whatever the rate. */
export const CACHE_LOAD = 'cache load: ';

export const CLIENT_SECRET = 'bench-client-secret-value-0123456789';
/** Lifetime given to minted refresh tokens, seconds. */
export const MINTED_TTL = 86400;
/**
 * Lifetime given to minted grants, seconds: what a finished sign-in gives a Grant on Latchkey (the refresh
 * tokens' 90 days and the 7 days of slack its engine configuration adds, so that rotations within them do
 * not write the Grant). Both servers get the same.
 */
export const MINTED_GRANT_TTL = 97 * 86400;

/** The one JSON line a child prints on stdout when it listens. */
export interface ReadyInfo {
  benchReady: true;
  name: 'bare' | 'latchkey';
  pid: number;
  port: number;
  /** token endpoint, plain HTTP on loopback */
  tokenUrl: string;
  issuer: string;
  /** rotating public client (token_endpoint_auth_method none) */
  refreshClientId: string;
  /** confidential client (client_secret_post) with client_credentials */
  ccClientId: string;
  ccClientSecret: string;
  /** Latchkey only: the tenant's id (its endpoints live under /{tenantId}) */
  tenantId?: string;
}

export type Command =
  | { id: number; cmd: 'mint'; n: number }
  | { id: number; cmd: 'stats' }
  /** returns what the child counted since the last call and resets; `on` says whether to count from now */
  | { id: number; cmd: 'counters'; on: boolean }
  | { id: number; cmd: 'profile-start'; intervalUs: number }
  | { id: number; cmd: 'profile-stop'; file: string }
  // Latchkey only (revoke-sessions scenario): a fresh user holding n (≥ 2) live refresh tokens
  | { id: number; cmd: 'revoke-setup'; n: number }
  /** Revoke sessions called directly in the child: plan() then apply(), each timed; `lean`: with ctx.lean (as Graph calls it: no grant listing) */
  | { id: number; cmd: 'revoke-direct'; userId: string; lean: boolean }
  /** puts the user's stamps back to what they were at setup, so that the same tokens live again */
  | { id: number; cmd: 'revoke-reset'; userId: string }
  // Latchkey only (graph-app scenario): an application made by the create-application and
  // add-application-password actions, with Graph's User.Read.All; returns its client id and secret
  | { id: number; cmd: 'graph-app-setup' }
  // Latchkey only (password-signin scenario)
  /** creates `users` users with one password (hashed by createUser → hashPassword) */
  | { id: number; cmd: 'signin-setup'; users: number }
  /** n argon2id verifies of a hash made by hashPassword, `concurrency` in flight, in the child */
  | { id: number; cmd: 'argon2'; n: number; concurrency: number }
  // Latchkey only (mfa-signin scenario)
  /**
   * creates `users` users sharing one password hash, per-user MFA enforced, each with a software OATH
   * (TOTP) method of its own seed, sealed as the product seals it
   */
  | { id: number; cmd: 'mfa-setup'; users: number }
  // Latchkey only (passkey-signin scenario)
  /**
   * creates `users` users sharing one password hash, each with a passkey registered through the FIDO2
   * method's own ceremony (beginRegistration → a software authenticator's attestation → finishRegistration)
   */
  | { id: number; cmd: 'passkey-setup'; users: number };

/** Answer to `revoke-setup`. */
export interface RevokeSetup {
  userId: string;
  /** one of the n tokens, refreshed after each revoke: must be refused */
  guard: string;
  /** another of the n, refreshed once before any revoke: must succeed (its rotated successor keeps the count at n) */
  control: string;
}

/** Answer to `revoke-direct`: milliseconds of plan() and of apply(), and what apply() reports ended. */
export interface RevokeTiming {
  planMs: number;
  applyMs: number;
  /** credentials the preview lists as ending, and those apply() reports ended */
  previewEnding: number;
  ended: number;
}

/** Answer to `revoke-reset`. */
export interface RevokeReset {
  /** the revoke had moved signInSessionsValidFrom past the setup value */
  stamped: boolean;
  /** refresh tokens of the user that are unconsumed and unexpired (the rows the preview reads) */
  liveRows: number;
}

/** Answer to `signin-setup`. */
export interface SigninSetup {
  upns: string[];
  password: string;
}

/** Answer to `mfa-setup`: the users, their one password and each user's TOTP seed (Base32). */
export interface MfaSetup {
  users: { upn: string; seed: string }[];
  password: string;
  /** TOTP period, seconds */
  periodS: number;
  /** milliseconds the setup took in the child */
  setupMs: number;
}

/**
 * Answer to `passkey-setup`: the origin the pages' ceremonies belong to and, per user, its passkey as the
 * software authenticator holds it (ES256 private key as PKCS #8 DER, COSE public key, user handle, both
 * base64url; signature counter), for the load generator's authenticator to sign the assertions.
 */
export interface PasskeySetup {
  origin: string;
  users: { upn: string; credentialId: string; privateKey: string; cose: string; userHandle: string; counter: number }[];
  /** milliseconds the setup took in the child */
  setupMs: number;
}

/** Answer to `argon2`: elapsed seconds of the n verifies. */
export interface Argon2Run {
  n: number;
  seconds: number;
  /** milliseconds, sorted */
  latencies: number[];
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A command as the parent sends it (the id is added on the way). */
export type CommandBody = DistributiveOmit<Command, 'id'>;

/** The parent's handle on a running child (run.ts's ServerChild), as the scenario modules use it. */
export interface ChildHandle {
  readonly name: string;
  readonly info: ReadyInfo;
  call<T>(cmd: CommandBody): Promise<T>;
  stats(): Promise<ChildStats>;
}

/** Answer to `stats`: the child process's resident set and CPU time so far (all its threads). */
export interface ChildStats {
  rss: number;
  /** microseconds */
  cpuUser: number;
  cpuSystem: number;
  /**
   * Of those, the main thread's (the event loop: every request's JavaScript, SQLite, the responses) from
   * /proc/self/task/{pid}/schedstat, µs on the CPU, and how long it waited, runnable, for a CPU (µs);
   * undefined where /proc has no schedstat. The rest is other threads': libuv's pool (argon2), GC helpers.
   */
  mainCpu?: number;
  mainWait?: number;
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
