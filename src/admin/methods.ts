// What the admin actions on authentication methods share: their rights rule, the preview of a user's
// methods, and ending the browser sessions born of a Temporary Access Pass that is deleted or replaced
// (spec §6 Decision: an admin who deletes a TAP means its access to end).
import type { Secrets } from '../crypto/secrets.js';
import type { SessionEndedPayload } from '../events/outbox.js';
import { strategy } from '../methods/index.js';
import type { MethodRow } from '../methods/types.js';
import type { Db } from '../storage/db.js';
import { type CredentialLine, type Preview, type RightsRule, line } from './action.js';
import { userCredentials } from './credentials.js';

/** Writing a user's methods (Graph UserAuthenticationMethod.ReadWrite.All; delegated also needs a role, §10). */
export const METHODS_WRITE_RULE: RightsRule = {
  kind: 'methods',
  delegatedScopes: ['UserAuthenticationMethod.ReadWrite.All', 'Directory.AccessAsUser.All'],
  // Entra: an app with the permission manages any user's methods, no directory role needed
  appPermissions: ['UserAuthenticationMethod.ReadWrite.All'],
  what: "manage the user's authentication methods",
};

/** The TAP's granular scope (Entra, Oct 2025) is accepted beside the classic one. */
export const TAP_WRITE_RULE: RightsRule = {
  ...METHODS_WRITE_RULE,
  delegatedScopes: [...METHODS_WRITE_RULE.delegatedScopes, 'UserAuthMethod-TAP.ReadWrite.All'],
  appPermissions: [...METHODS_WRITE_RULE.appPermissions, 'UserAuthMethod-TAP.ReadWrite.All'],
};

export type MethodFate = NonNullable<Preview['methods']>[number];

export function methodLine(row: Pick<MethodRow, 'id' | 'type'>, fate: MethodFate['fate']): MethodFate {
  return { id: row.id, type: row.type, fate };
}

/** A method as audit records and events name it. */
export function methodLabel(row: Pick<MethodRow, 'id' | 'type'>): string {
  return `${strategy(row.type)?.odataType.replace('#microsoft.graph.', '') ?? row.type} ${row.id}`;
}

/** The live browser sessions born of this TAP, as preview lines (their next use gets AADSTS50173, D9). */
export async function tapBornSessionLines(db: Db, secrets: Secrets, userId: string, tapId: string): Promise<CredentialLine[]> {
  const born = new Set((await db.selectFrom('signin_sessions').select('id').where('user_id', '=', userId).where('tap_id', '=', tapId).execute()).map((r) => r.id));
  if (!born.size) return [];
  const { sessions } = await userCredentials(db, secrets, userId, { grants: false });
  return sessions.filter((s) => born.has(s.id)).map((s) => line(s, { credential: s, dies: 'sessions_revoked' }));
}

/**
 * Ends the browser sessions born of this TAP: their signin_sessions rows go (a session without its row
 * is refused at authorize, and its codes at redemption). Returns them with the sid each app holds, for
 * back-channel logout. Call inside the action's transaction. The refresh tokens born of the TAP are ended
 * by the engine, keyed on the TAP id the event carries.
 */
export async function endTapBornSessions(trx: Db, secrets: Secrets, userId: string, tapId: string): Promise<{ payload: SessionEndedPayload['sessions']; lines: CredentialLine[] }> {
  const rows = await trx.selectFrom('signin_sessions').select('id').where('user_id', '=', userId).where('tap_id', '=', tapId).execute();
  if (!rows.length) return { payload: [], lines: [] };
  const ids = new Set(rows.map((r) => r.id));
  const { sessions } = await userCredentials(trx, secrets, userId, { grants: false });
  const live = sessions.filter((s) => ids.has(s.id));
  await trx.deleteFrom('signin_sessions').where('user_id', '=', userId).where('tap_id', '=', tapId).execute();
  return {
    payload: live.map((s) => ({ sessionUid: s.id, apps: s.apps.map((a) => ({ clientId: a.clientId, sid: a.sid })) })),
    lines: live.map((s) => line(s, { credential: s, dies: 'sessions_revoked' })),
  };
}
