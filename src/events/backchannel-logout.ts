// OIDC Back-Channel Logout 1.0 as an outbox subscriber: when sessions die (revoke, admin password reset,
// disable, delete, a deleted TAP, one ended session), every app that took part in them and registered a backchannel_logout_uri gets a
// logout token for the sid it holds (D16). Each (app, sid) becomes its own outbox event, so one app that
// is down is retried alone. The token is the engine's own (`IdToken` with use "logout", as its
// `client.backchannelLogout()` builds it); it leaves through Latchkey's outbound client (STYLE 15)
// instead of the engine's fetch.
import crypto from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Db } from '../storage/db.js';
import type { SessionEndedPayload } from './outbox.js';
import { type OutboundOptions, OutboundRefused, outboundPost } from './outbound.js';
import { type OutboxEvent, type Subscriber, type SubscriberOutcome, PermanentFailure } from './deliver.js';

/** The derived event: one logout token for one app. */
export const BACKCHANNEL_LOGOUT_EVENT = 'backchannel.logout';

/** The events whose payload lists ended sessions (src/admin/action.ts commit()). */
export const SESSION_ENDING_EVENTS = ['user.sessions.revoked', 'user.password.reset', 'user.disabled', 'user.deleted', 'user.method.deleted', 'user.session.ended'] as const;

export interface BackchannelLogoutPayload {
  userId: string;
  clientId: string;
  sid: string;
  reason: string;
}

export interface BackchannelLogoutDeps {
  db: Db;
  provider: Provider;
  outbound: OutboundOptions;
}

// OIDC Back-Channel Logout 1.0 §2.4
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

function isSessionEnded(p: unknown): p is SessionEndedPayload {
  const o = p as SessionEndedPayload | null;
  return typeof o?.userId === 'string' && Array.isArray(o.sessions);
}

/** One derived event per (app with a back-channel logout URI, sid) among the ended sessions. */
async function fanOut(db: Db, event: OutboxEvent): Promise<SubscriberOutcome> {
  // an event that ended no session (a deleted method that was not a TAP) may carry no list at all
  const p = event.payload as Partial<SessionEndedPayload> | null;
  if (typeof p?.userId === 'string' && p.sessions === undefined) return {};
  if (!isSessionEnded(event.payload)) throw new PermanentFailure(`${event.type} payload has no userId and sessions`);
  const { userId, reason, sessions } = event.payload;
  const pairs = new Map<string, BackchannelLogoutPayload>();
  for (const s of sessions) {
    for (const a of s.apps ?? []) {
      if (typeof a.clientId === 'string' && typeof a.sid === 'string' && a.sid) pairs.set(`${a.clientId}\0${a.sid}`, { userId, clientId: a.clientId, sid: a.sid, reason: String(reason ?? event.type) });
    }
  }
  if (!pairs.size) return {};
  const clientIds = [...new Set([...pairs.values()].map((p) => p.clientId))];
  const withUri = new Set((await db.selectFrom('apps').select('id').where('id', 'in', clientIds).where('backchannel_logout_uri', 'is not', null).execute()).map((r) => r.id));
  return { followUps: [...pairs.values()].filter((p) => withUri.has(p.clientId)).map((payload) => ({ type: BACKCHANNEL_LOGOUT_EVENT, payload })) };
}

/** Builds and signs the logout token the engine's client.backchannelLogout(sub, sid) would send. */
export async function logoutToken(provider: Provider, client: NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>, sub: string, sid: string): Promise<string> {
  const token = new provider.IdToken({ sub }, { client });
  (token as unknown as { mask: Record<string, null> }).mask = { sub: null };
  token.set('events', { [LOGOUT_EVENT]: {} });
  token.set('jti', crypto.randomUUID());
  token.set('sid', sid); // D16: always, the sid this app holds in its ID token
  // typ logout+jwt, iss, aud = client_id, iat, exp = iat + 120 s, signed with the current key (RS256)
  return token.issue({ use: 'logout' });
}

async function send(deps: BackchannelLogoutDeps, event: OutboxEvent): Promise<void> {
  const p = event.payload as BackchannelLogoutPayload;
  const app = await deps.db.selectFrom('apps').select(['id', 'backchannel_logout_uri']).where('id', '=', p.clientId).executeTakeFirst();
  if (!app?.backchannel_logout_uri) return; // the app is gone, or no longer wants back-channel logout
  const client = await deps.provider.Client.find(p.clientId);
  if (!client) return;
  const body = new URLSearchParams({ logout_token: await logoutToken(deps.provider, client, p.userId, p.sid) }).toString();
  let res;
  try {
    res = await outboundPost(app.backchannel_logout_uri, body, { 'content-type': 'application/x-www-form-urlencoded' }, deps.outbound);
  } catch (err) {
    if (err instanceof OutboundRefused) throw new PermanentFailure(`${app.backchannel_logout_uri}: ${err.message}`);
    throw new Error(`${app.backchannel_logout_uri}: ${err instanceof Error ? err.message : String(err)}`);
  }
  // §2.8: the RP answers 200 (204 is common too); anything else is retried
  if (res.status < 200 || res.status > 299) throw new Error(`${app.backchannel_logout_uri} answered ${res.status}: ${res.body.slice(0, 200)}`);
}

/** The subscribers to hand to the deliverer. */
export function backchannelLogoutSubscribers(deps: BackchannelLogoutDeps): Record<string, Subscriber> {
  const subs: Record<string, Subscriber> = { [BACKCHANNEL_LOGOUT_EVENT]: (e) => send(deps, e) };
  for (const t of SESSION_ENDING_EVENTS) subs[t] = (e) => fanOut(deps.db, e);
  return subs;
}
