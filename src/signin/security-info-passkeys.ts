// Passkeys on My Security Info (spec §8): adding one needs MFA within the last 5 minutes of this session,
// or a TAP sign-in, and the Fido2 configuration of the methods policy (§7) must let the user register;
// the registration's challenge is a pending row of 5 minutes, spent only by a successful registration.
// A refused registration changes nothing and is logged in the sign-in log with its reason.
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/index.js';
import type { User } from '../directory/users.js';
import { FIDO2_MESSAGES, Fido2Error, type Fido2State, beginRegistration, finishRegistration, relyingParty } from '../methods/fido2/index.js';
import { accessText, methodAccess, methodsPolicyFor } from '../methods/policy.js';
import { recordUserAddedMethod } from '../methods/self-service.js';
import { parseState } from '../methods/store.js';
import type { MethodRow } from '../methods/types.js';
import type { Db } from '../storage/db.js';
import type { Secrets } from '../crypto/secrets.js';
import type { Tenant } from '../directory/tenant.js';
import { escapeHtml } from './html.js';
import { PASSKEY_SCRIPT_PATH } from './passkey-script.js';
import { logSignin } from './signin-log.js';

/** spec §8: passkey changes need MFA within this time (or a TAP sign-in) */
export const PASSKEY_GATE_MS = 5 * 60_000;

export interface PasskeyDeps {
  db: Db;
  secrets: Secrets;
  tenant: Tenant;
  origin: string;
  config: Pick<Config, 'webauthnRpId' | 'webauthnOrigins'>;
}

/** The browser session's facts the gate reads. */
export interface SessionGateFacts {
  mfa_at: number | null;
  tap_id: string | null;
}

/** Why this session may not change passkeys now, or undefined when it may. */
export function passkeyGate(session: SessionGateFacts, now = Date.now()): string | undefined {
  if (session.tap_id !== null) return undefined;
  if (session.mfa_at !== null && now - session.mfa_at <= PASSKEY_GATE_MS) return undefined;
  return 'To add or remove a passkey, verify your identity again: passkey changes need a verification in the last 5 minutes.';
}

/** Why the policy refuses the user a passkey registration, or undefined. */
async function policyRefusal(db: Db, user: User): Promise<string | undefined> {
  const policy = await methodsPolicyFor(db, user);
  const access = methodAccess(policy, 'fido2');
  if (!access.enabled) return `You can't add a passkey: it is ${accessText(access)}. Contact your administrator.`;
  if (policy.policy.doc.configurations.Fido2.isSelfServiceRegistrationAllowed === false) return "You can't add a passkey yourself: your organization doesn't allow self-service registration of passkeys. Contact your administrator.";
  return undefined;
}

export interface PasskeyRegistration {
  pendingId: string;
  options: string;
}

export type PasskeyOpResult = { registration: PasskeyRegistration } | { message: string } | { error: string; status: number; reverify?: boolean };

/** op=add_passkey: the creation options of a new pending registration. */
export async function addPasskey(deps: PasskeyDeps, user: User, session: SessionGateFacts): Promise<PasskeyOpResult> {
  const gate = passkeyGate(session);
  if (gate) return { error: gate, status: 403, reverify: true };
  const refused = await policyRefusal(deps.db, user);
  if (refused) return { error: refused, status: 403 };
  const rp = relyingParty(deps.config, deps.origin, deps.tenant.display_name);
  const r = await beginRegistration({ db: deps.db, secrets: deps.secrets }, user, rp);
  return { registration: { pendingId: r.pendingId, options: JSON.stringify(r.options) } };
}

/** op=confirm_passkey: the browser's attestation for a pending registration. */
export async function confirmPasskey(deps: PasskeyDeps, user: User, session: SessionGateFacts, form: Record<string, unknown>, req: FastifyRequest): Promise<PasskeyOpResult> {
  const log = (reason: string) => logSignin(deps.db, deps.tenant.id, { status: 'failure', errorCode: 500121, reason: `passkey registration refused: ${reason}`, userId: user.id, userName: user.upn, req, interactive: true });
  const gate = passkeyGate(session);
  if (gate) {
    await log('no verification in the last 5 minutes');
    return { error: gate, status: 403, reverify: true };
  }
  const refused = await policyRefusal(deps.db, user);
  if (refused) {
    await log('not allowed by the authentication methods policy');
    return { error: refused, status: 403 };
  }
  const raw = typeof form.credential === 'string' && form.credential.length <= 32 * 1024 ? form.credential : '';
  let credential: unknown;
  try {
    credential = raw ? (JSON.parse(raw) as unknown) : undefined;
  } catch {
    credential = undefined;
  }
  const pendingId = typeof form.pendingId === 'string' && form.pendingId.length <= 64 ? form.pendingId : '';
  const name = typeof form.passkeyName === 'string' ? form.passkeyName : '';
  const rp = relyingParty(deps.config, deps.origin, deps.tenant.display_name);
  try {
    if (credential === undefined) throw new Fido2Error('malformed', 'the credential field is missing, too long or not JSON');
    const policy = await methodsPolicyFor(deps.db, user);
    await deps.db.transaction().execute(async (trx) => {
      const row = await finishRegistration(trx, user, pendingId, credential, rp, policy, name);
      await recordUserAddedMethod(trx, user, { id: row.id, type: 'fido2' });
    });
  } catch (e) {
    if (!(e instanceof Fido2Error)) throw e;
    await log(`${e.reason} (${e.message})`);
    return { error: FIDO2_MESSAGES[e.reason], status: 400 };
  }
  return { message: 'Passkey added.' };
}

/** A passkey's details on My Security Info: its name, device-bound or synced, when added. */
export function passkeyDetail(m: MethodRow): string {
  const s = parseState<Partial<Fido2State>>(m);
  return `${escapeHtml(m.display_name ?? 'Passkey')} · ${s.backupEligible ? 'synced' : 'device-bound'} · Added ${escapeHtml(new Date(m.created_at).toISOString().slice(0, 10))}`;
}

/** The registration form: a name, and the button that runs navigator.credentials.create(). */
export function passkeyRegistrationForm(action: string, csrfInput: string, r: PasskeyRegistration): string {
  return `<h2>Add a passkey</h2><p class="small">Your browser will ask you to create a passkey with your device's PIN, fingerprint or face, or with a security key.</p>
<form method="post" action="${action}" data-webauthn="create" data-options="${escapeHtml(r.options)}">${csrfInput}<input type="hidden" name="op" value="confirm_passkey"><input type="hidden" name="pendingId" value="${escapeHtml(r.pendingId)}"><input type="hidden" name="credential" value="">
<label for="passkeyName">Passkey name</label><input type="text" name="passkeyName" id="passkeyName" maxlength="64" value="Passkey" autofocus>
<p class="error" id="passkeyError" data-webauthn-error role="alert"></p>
<button type="button" id="createPasskey" data-webauthn-start>Create passkey</button></form><script src="${PASSKEY_SCRIPT_PATH}" defer></script>`;
}
