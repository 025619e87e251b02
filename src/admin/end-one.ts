// What ending one browser session or one refresh-token grant shares (spec D25): finding it among what the
// user holds now (another user's, or an ended one, is "not found"), and the preview that lists exactly it
// as ending and everything else the user holds as surviving.
import type { RefusalCode } from '../protocol/errors.js';
import { type ActionContext, type ActionName, type Preview, type Target, ActionError, line, preview } from './action.js';
import { type GrantView, type SessionView, userCredentials } from './credentials.js';

/** An id no credential can have (empty, overlong, NUL: PostgreSQL refuses NUL in text) is never looked up. */
export function possibleId(id: string): boolean {
  return id.length > 0 && id.length <= 256 && !id.includes('\0');
}

export async function findSession(ctx: ActionContext, userId: string, sessionId: string): Promise<SessionView> {
  const found = possibleId(sessionId) ? (await userCredentials(ctx.db, ctx.secrets, userId, { grants: false })).sessions.find((s) => s.id === sessionId) : undefined;
  if (!found) throw new ActionError('not_found', `Session '${sessionId.slice(0, 64)}' does not exist for this user (or has already ended).`);
  return found;
}

export async function findGrant(ctx: ActionContext, userId: string, grantId: string): Promise<GrantView> {
  const found = possibleId(grantId) ? (await userCredentials(ctx.db, ctx.secrets, userId)).grants.find((g) => g.grantId === grantId) : undefined;
  if (!found) throw new ActionError('not_found', `Grant '${grantId.slice(0, 64)}' does not exist for this user (or has already ended).`);
  return found;
}

/** The preview of ending exactly `one`: it ends, the rest survives, its app's access tokens live on until they expire. */
export async function previewEndingOne(ctx: ActionContext, action: ActionName, target: Target, one: SessionView | GrantView, refusal: RefusalCode): Promise<Preview> {
  const id = one.kind === 'session' ? one.id : one.grantId;
  const p = await preview({ ...ctx, lean: one.kind === 'session' ? ctx.lean : false }, action, target, {}, {
    changes: [{ property: one.kind === 'session' ? `sessions/${id}` : `grants/${id}`, oldValue: 'active', newValue: null }],
    warnings: one.kind === 'session'
      ? ['Only this browser session ends: the refresh tokens of its apps live on (end their grants too, or revoke sessions).']
      : ["Only this grant's refresh-token chain ends; access tokens already issued stay usable at other APIs until they expire, while Latchkey's own routes (userinfo, introspection, Graph) refuse them at once."],
  });
  const apps = one.kind === 'session' ? one.apps.map((a) => a.appName) : [one.appName];
  const until = Math.max(Date.now(), Math.min(Date.now(), one.lastUsedAt) + ctx.config.accessTokenMaxTtl * 1000);
  return {
    ...p,
    ending: [line(one, { credential: one, dies: refusal })],
    surviving: p.surviving.filter((l) => !(l.kind === one.kind && l.id === id)),
    accessTokensLiveUntil: apps.map((app) => ({ app, until: new Date(until).toISOString() })),
  };
}
