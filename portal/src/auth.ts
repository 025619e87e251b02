// Signing the admin in through Latchkey itself: authorization code with PKCE as a public SPA client.
// Tokens live in this module's memory only (never in web storage); a reload signs in again, silently
// while the browser session lasts. Only the PKCE verifier and state cross the redirect, in
// sessionStorage, and are removed as soon as the code is redeemed.

export interface PortalConfig {
  clientId: string;
  authority: string; // https://host/{tenantId}
  graphScope: string;
}

interface Tokens {
  accessToken: string;
  refreshToken: string | undefined;
  expiresAt: number;
}

export interface SignedIn {
  name: string;
  upn: string;
  oid: string;
}

const PENDING_KEY = 'latchkey.admin.pending';
let config: PortalConfig | undefined;
let tokens: Tokens | undefined;
let account: SignedIn | undefined;

function base64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(n = 32): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(n)));
}

async function challengeOf(verifier: string): Promise<string> {
  return base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

function redirectUri(): string {
  return `${location.origin}/admin/`;
}

function decodeJwtPayload(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1] ?? '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(decodeURIComponent(Array.from(json, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''))) as Record<string, unknown>;
}

async function tokenRequest(body: Record<string, string>): Promise<void> {
  const c = config!;
  const res = await fetch(`${c.authority}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: c.clientId, ...body }).toString(),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok || typeof json.access_token !== 'string') throw new Error(`Sign-in failed: ${String(json.error_description ?? json.error ?? res.status)}`);
  tokens = {
    accessToken: json.access_token,
    refreshToken: typeof json.refresh_token === 'string' ? json.refresh_token : tokens?.refreshToken,
    expiresAt: Date.now() + Number(json.expires_in ?? 3600) * 1000,
  };
  if (typeof json.id_token === 'string') {
    const claims = decodeJwtPayload(json.id_token);
    account = { name: String(claims.name ?? ''), upn: String(claims.preferred_username ?? ''), oid: String(claims.oid ?? claims.sub ?? '') };
  }
}

/** Starts a sign-in: to Latchkey's authorize endpoint, coming back to /admin/ with a code. */
export async function signInRedirect(returnTo: string): Promise<never> {
  const c = config!;
  const verifier = randomString();
  const state = randomString(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(`${c.authority}/oauth2/v2.0/authorize`);
  url.search = new URLSearchParams({
    client_id: c.clientId,
    response_type: 'code',
    redirect_uri: redirectUri(),
    scope: `openid profile offline_access ${c.graphScope}`,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
    state,
    response_mode: 'query',
  }).toString();
  location.assign(url.toString());
  return new Promise<never>(() => {});
}

/**
 * Called once at start: redeems a code coming back from Latchkey, or starts a sign-in. Returns the path
 * to show once signed in; an error (a refused sign-in) is thrown for the page to show.
 */
export async function ensureSignedIn(c: PortalConfig): Promise<string> {
  config = c;
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  const pendingRaw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const pending = pendingRaw ? (JSON.parse(pendingRaw) as { verifier: string; state: string; returnTo: string }) : undefined;
  if ((code || error) && pending && params.get('state') === pending.state) {
    history.replaceState(null, '', pending.returnTo);
    if (error) throw new Error(`Sign-in was refused: ${params.get('error_description') ?? error}`);
    await tokenRequest({ grant_type: 'authorization_code', code: code!, redirect_uri: redirectUri(), code_verifier: pending.verifier });
    return pending.returnTo;
  }
  const here = `${location.pathname}${code || error ? '' : location.search}`;
  return signInRedirect(here.startsWith('/admin') ? here : '/admin/');
}

/** A valid access token for Graph and /latchkey/v1, refreshed in memory when close to expiry. */
export async function accessToken(): Promise<string> {
  if (!tokens) throw new Error('Not signed in');
  if (tokens.expiresAt - Date.now() < 60_000 && tokens.refreshToken) {
    await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken, scope: `openid profile offline_access ${config!.graphScope}` });
  }
  return tokens.accessToken;
}

/** The tenant's authority (https://host/{tenantId}), the base of its endpoints. */
export function authority(): string {
  return config?.authority ?? '';
}

export function signedInAccount(): SignedIn | undefined {
  return account;
}

export function signOut(): void {
  const c = config!;
  tokens = undefined;
  const url = new URL(`${c.authority}/oauth2/v2.0/logout`);
  url.searchParams.set('post_logout_redirect_uri', redirectUri());
  url.searchParams.set('client_id', c.clientId);
  location.assign(url.toString());
}
