// Calls to Latchkey's Graph and /latchkey/v1 with the signed-in admin's token. Every refusal comes back in
// Graph's error shape; ApiError keeps its status, code and message for the page to show.
import { accessToken } from './auth';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function call<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const token = await accessToken();
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  const json = parsed(text);
  if (!res.ok) throw refusal(res, json);
  if (text && json === undefined) throw new Error(`The server's answer could not be read (${res.headers.get('content-type') ?? 'no content type'} where JSON was expected).`);
  return json as T;
}

/** A body as JSON; undefined when empty or not JSON (an HTML error page from a proxy, a cut-off answer). */
function parsed(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The refusal as the server worded it: Graph's and /latchkey/v1's `{ error: { code, message } }`, or a bare
 * `{ error, message }` (a refusal made before the route's handler). An answer without a message of its own
 * (no body, or not JSON: a proxy's error page) is named by its status, never shown raw.
 */
function refusal(res: Response, json: unknown): ApiError {
  const body = (json ?? {}) as { error?: unknown; message?: unknown };
  const err = typeof body.error === 'object' && body.error !== null ? (body.error as { code?: unknown; message?: unknown }) : undefined;
  const message = typeof err?.message === 'string' ? err.message : typeof body.message === 'string' ? body.message : undefined;
  const code = typeof err?.code === 'string' ? err.code : typeof body.error === 'string' ? body.error : String(res.status);
  return new ApiError(res.status, code, message ?? `The server answered ${res.status}${res.statusText ? ` (${res.statusText})` : ''} without saying why. Try again; if it persists, the server's log says more.`);
}

export interface GraphUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string | null;
  accountEnabled?: boolean;
  createdDateTime?: string | null;
  lastPasswordChangeDateTime?: string | null;
  signInSessionsValidFromDateTime?: string | null;
  passwordProfile?: { forceChangePasswordNextSignIn: boolean; forceChangePasswordNextSignInWithMfa: boolean };
}

export interface UserPage {
  value: GraphUser[];
  '@odata.nextLink'?: string;
}

const LIST_SELECT = 'id,displayName,userPrincipalName,mail,accountEnabled';
export const DETAIL_SELECT = 'id,displayName,userPrincipalName,mail,accountEnabled,createdDateTime,lastPasswordChangeDateTime,signInSessionsValidFromDateTime,passwordProfile';

export type AccountFilter = 'all' | 'enabled' | 'disabled';

/**
 * The first page of users, optionally those whose name or user principal name starts with `search`, and
 * only enabled or disabled accounts.
 */
export function usersUrl(search: string, top: number, account: AccountFilter = 'all'): string {
  const q = new URLSearchParams({ $select: LIST_SELECT, $top: String(top) });
  const s = search.trim();
  const parts: string[] = [];
  if (s) {
    const lit = s.replace(/'/g, "''");
    parts.push(`(startsWith(displayName,'${lit}') or startsWith(userPrincipalName,'${lit}'))`);
  }
  if (account !== 'all') parts.push(`accountEnabled eq ${account === 'enabled'}`);
  if (parts.length) q.set('$filter', parts.join(' and '));
  return `/v1.0/users?${q.toString()}`;
}

/** A nextLink is absolute; it is fetched on this origin only. */
export function sameOriginPath(link: string): string {
  const u = new URL(link, location.origin);
  if (u.origin !== location.origin) throw new Error('nextLink to another origin refused');
  return `${u.pathname}${u.search}`;
}

export interface ActionInfo {
  name: string;
  summary: string;
  destructive: boolean;
  allowed: boolean;
  reason?: string;
  missingRight?: string;
}

export interface ActionsDoc {
  target: { id: string; userPrincipalName: string; displayName: string };
  value: ActionInfo[];
}

export interface EndingItem {
  kind: string;
  id: string;
  app?: string;
  device?: string;
  ip?: string;
  lastUsedAt?: string;
  refusal?: string;
}

export interface Preview {
  action: string;
  target: { id: string; userPrincipalName: string; displayName: string };
  changes: { property: string; oldValue: unknown; newValue: unknown }[];
  endingCount: number;
  ending: EndingItem[];
  survivingCount: number;
  surviving: EndingItem[];
  'ending@odata.nextLink'?: string;
  'surviving@odata.nextLink'?: string;
  accessTokensLiveUntil?: { app: string; until: string }[];
  nextSignIn?: string;
  warnings?: string[];
  /** actions on authentication methods: each method of the user and what the action does to it */
  methods?: { id: string; type: string; fate: string }[];
}

/** Lines of a preview's lists the confirm panel shows at a time (the rest paged: `@odata.nextLink`). */
export const PREVIEW_PAGE = 10;

export interface PlanDoc {
  planId: string;
  action: string;
  expiresDateTime: string;
  preview: Preview;
}

export interface ApplyResult {
  planId: string;
  action: string;
  appliedDateTime: string;
  endedCount: number;
  newPassword?: string;
  temporaryAccessPass?: string;
}

export function dryRun(userId: string, action: string, input: Record<string, unknown> = {}): Promise<PlanDoc> {
  return call<PlanDoc>(`/latchkey/v1/users/${encodeURIComponent(userId)}/actions/${action}?$top=${PREVIEW_PAGE}`, { method: 'POST', body: { dryRun: true, ...input } });
}

export function applyPlan(planId: string): Promise<ApplyResult> {
  return call<ApplyResult>(`/latchkey/v1/plans/${encodeURIComponent(planId)}/apply`, { method: 'POST', body: {} });
}

/** A method type (Graph's @odata.type, or the action previews' type) as Entra's blade names it. */
export function methodTypeLabel(type: string): string {
  const t = type.replace('#microsoft.graph.', '').replace(/AuthenticationMethod$/, '');
  return ({ password: 'Password', softwareOath: 'Software OATH token', temporaryAccessPass: 'Temporary Access Pass', fido2: 'Passkey (FIDO2)' } as Record<string, string>)[t] ?? t;
}
