// Grants built from admin consent (the engine's loadExistingGrant hook): consent is recorded on the app
// registration, so there is no consent screen and the grant carries every consented resource scope.
// A grant also carries whether its sign-in was password-based (spec §8: stored when the grant is made,
// never derived from amr); the refresh path reads it from the grant the engine already loaded.
import type Provider from 'oidc-provider';
import type { Grant, KoaContextWithOIDC } from 'oidc-provider';
import type { ClientKind } from '../directory/apps.js';
import type { Db } from '../storage/db.js';
import { findBrowserSession, type SigninResultFacts } from './browser-sessions.js';

/** The Grant payload member that holds "password-based" (spec §1, §8). */
const PASSWORD_BASED = 'latchkeyPasswordBased';
/** The Grant payload member that holds the TAP its sign-in used, if any (rule 5, spec §6). */
const TAP = 'latchkeyTap';
/** The Grant payload member with the IP address and user agent of the sign-in that made it (spec §1). */
const ORIGIN = 'latchkeyOrigin';

export interface GrantOrigin {
  ip: string;
  userAgent: string;
}

/** Where a grant's sign-in came from, for previews and the sessions-and-apps list. */
export function grantOrigin(grant: unknown): GrantOrigin | undefined {
  const v = (grant as Record<string, unknown> | undefined)?.[ORIGIN] as GrantOrigin | undefined;
  return v && typeof v.ip === 'string' && typeof v.userAgent === 'string' ? v : undefined;
}

export interface GrantTap {
  id: string;
  expiresAt: number;
}

/**
 * WORKAROUND (engine ~9.13): the engine keeps only the members its models list in IN_PAYLOAD, so the
 * Grant's list is extended once, before any grant is read or written.
 */
export function extendGrantPayload(provider: Provider): void {
  const Grant = provider.Grant as unknown as { IN_PAYLOAD: string[] };
  const members = [...Grant.IN_PAYLOAD, PASSWORD_BASED, TAP, ORIGIN];
  Object.defineProperty(Grant, 'IN_PAYLOAD', { get: () => members, configurable: true });
  // the same for a refresh token: the kind of client its chain was issued to
  const RefreshToken = provider.RefreshToken as unknown as { IN_PAYLOAD: string[] };
  const rtMembers = [...RefreshToken.IN_PAYLOAD, CLIENT_KIND];
  Object.defineProperty(RefreshToken, 'IN_PAYLOAD', { get: () => rtMembers, configurable: true });
}

/** The RefreshToken payload member with the kind of client (web, spa, native) its chain was issued to. */
const CLIENT_KIND = 'latchkeyClientKind';
const KINDS: readonly string[] = ['web', 'spa', 'native'];

/** The kind of client a refresh token's chain was issued to (undefined for a token from before it was recorded). */
export function storedClientKind(token: unknown): ClientKind | undefined {
  const v = (token as Record<string, unknown> | undefined)?.[CLIENT_KIND];
  return typeof v === 'string' && KINDS.includes(v) ? (v as ClientKind) : undefined;
}

/**
 * The kind of client a new refresh token is for, recorded on it (called by the engine's lifetime hook,
 * before the token is written): a rotation keeps its chain's kind, a new chain takes the request's.
 */
export function refreshTokenKind(ctx: KoaContextWithOIDC | undefined, token: unknown, client: { latchkey_kind?: ClientKind }): ClientKind | undefined {
  const kind = storedClientKind(ctx?.oidc?.entities?.RotatedRefreshToken) ?? client.latchkey_kind;
  if (kind) (token as Record<string, unknown>)[CLIENT_KIND] = kind;
  return kind;
}

/**
 * Whether a grant's sign-in was password-based. A grant written before the fact was stored has none:
 * it counts as password-based, as every sign-in then was.
 */
export function grantPasswordBased(grant: unknown): boolean {
  const v = (grant as Record<string, unknown> | undefined)?.[PASSWORD_BASED];
  return typeof v === 'boolean' ? v : true;
}

/** The TAP a grant's latest sign-in used: its chains never outlive it, and die with it (spec §6). */
export function grantTap(grant: unknown): GrantTap | undefined {
  const v = (grant as Record<string, unknown> | undefined)?.[TAP] as GrantTap | undefined;
  return v && typeof v.id === 'string' && typeof v.expiresAt === 'number' ? v : undefined;
}

/** The TAP of the sign-in behind this request: the finished flow's, else the browser session's. */
async function signinTap(db: Db, ctx: KoaContextWithOIDC): Promise<GrantTap | undefined> {
  const fresh = (ctx.oidc.result as { latchkey?: SigninResultFacts } | undefined)?.latchkey;
  if (fresh) return fresh.tap;
  const uid = ctx.oidc.session?.uid;
  const row = uid ? await findBrowserSession(db, ctx, uid) : undefined;
  return row?.tap_id && row.tap_expires_at ? { id: row.tap_id, expiresAt: row.tap_expires_at } : undefined;
}

/** The first factor of the sign-in behind this request: the finished flow's, else the browser session's. */
async function signinPasswordBased(db: Db, ctx: KoaContextWithOIDC): Promise<boolean> {
  const fresh = (ctx.oidc.result as { latchkey?: SigninResultFacts } | undefined)?.latchkey;
  if (fresh) return fresh.passwordBased;
  const uid = ctx.oidc.session?.uid;
  const row = uid ? await findBrowserSession(db, ctx, uid) : undefined;
  return row ? row.password_based === 1 : true;
}

/** What a grant is built from: the app, the user, the claims and resource scopes of the request, and its sign-in's facts. */
export interface GrantInputs {
  clientId: string;
  accountId: string;
  /** the grant of this browser session and app, when one exists */
  existing?: Grant;
  /** the claims the request's claims parameter asked for */
  claims: Iterable<string>;
  /** the resource servers of the request, by indicator */
  resourceServers: Record<string, { scope?: string }>;
  /** whether the sign-in behind the request was password-based (spec §8) */
  passwordBased: boolean;
  origin?: GrantOrigin;
  tap?: GrantTap;
}

/**
 * The grant of a sign-in, to be saved: every OIDC scope, the requested claims and every consented scope of
 * each resource (consent is admin consent recorded on the app), with its sign-in's facts. The one builder
 * behind the engine's loadExistingGrant and a sign-in finished in place (authorization-in-place.ts).
 */
export function grantFor(provider: Provider, g: GrantInputs): Grant {
  const grant = g.existing ?? new provider.Grant({ clientId: g.clientId, accountId: g.accountId });
  grant.addOIDCScope('openid profile email offline_access');
  grant.addOIDCClaims([...g.claims]);
  for (const [indicator, rs] of Object.entries(g.resourceServers)) {
    if (rs.scope) grant.addResourceScope(indicator, rs.scope);
  }
  const payload = grant as unknown as Record<string, unknown>;
  // A grant reused by a later sign-in in the same browser serves chains of both sign-ins: once
  // password-based, it stays so (rule 3 then errs towards ending a chain, never towards keeping one).
  payload[PASSWORD_BASED] = (g.existing ? grantPasswordBased(g.existing) : false) || g.passwordBased;
  if (g.origin) payload[ORIGIN] = g.origin;
  // The latest sign-in's TAP, or none: a later sign-in without a TAP lifts the cap for the grant's new
  // chains (keeping an old cap would end them at once, looping the user through sign-in).
  if (g.tap) payload[TAP] = g.tap;
  else delete payload[TAP];
  return grant;
}

export async function loadExistingGrant(db: Db, ctx: KoaContextWithOIDC) {
  const client = ctx.oidc.client!;
  const session = ctx.oidc.session!;
  const grantId = (ctx.oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? session.grantIdFor(client.clientId);
  const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
  const fresh = (ctx.oidc.result as { latchkey?: SigninResultFacts } | undefined)?.latchkey;
  const uid = ctx.oidc.session?.uid;
  const sessionRow = !fresh && uid ? await findBrowserSession(db, ctx, uid) : undefined;
  const grant = grantFor(ctx.oidc.provider, {
    clientId: client.clientId,
    accountId: session.accountId!,
    existing,
    claims: ctx.oidc.requestParamClaims ?? [],
    resourceServers: ctx.oidc.resourceServers ?? {},
    passwordBased: await signinPasswordBased(db, ctx),
    origin: fresh ? { ip: fresh.ip, userAgent: fresh.userAgent } : sessionRow ? { ip: sessionRow.ip, userAgent: sessionRow.user_agent } : undefined,
    tap: await signinTap(db, ctx),
  });
  await grant.save();
  return grant;
}
