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
export const CLIENT_SECRET = 'bench-client-secret-value-0123456789';
/** Lifetime given to minted grants and refresh tokens, seconds. */
export const MINTED_TTL = 86400;

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
}

export type Command =
  | { id: number; cmd: 'mint'; n: number }
  | { id: number; cmd: 'stats' }
  /** returns what the child counted since the last call and resets; `on` says whether to count from now */
  | { id: number; cmd: 'counters'; on: boolean }
  | { id: number; cmd: 'profile-start'; intervalUs: number }
  | { id: number; cmd: 'profile-stop'; file: string };

/** Answer to `stats`: the child process's resident set and CPU time so far (all its threads). */
export interface ChildStats {
  rss: number;
  /** microseconds */
  cpuUser: number;
  cpuSystem: number;
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
