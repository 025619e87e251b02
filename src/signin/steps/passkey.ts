// Passkey steps (spec §8): after the user name, without a user name (discoverable credentials), and as
// the second factor. Each page carries a one-time challenge kept in the flow; a posted assertion first
// takes that challenge with a conditional update of the flow (so a replay, a second tab or another
// flow's challenge finds none), then is verified. A refusal changes nothing but the flow's new challenge,
// is logged with its reason, and shows the page again with the reason in words.
import { findUserById, type User } from '../../directory/users.js';
import { CHALLENGE_TTL_MS, FIDO2_MESSAGES, Fido2Error, type RelyingParty, fido2, findPasskey, relyingParty, requestOptions, verifyPasskey } from '../../methods/fido2/index.js';
import { newChallenge } from '../../methods/fido2/webauthn.js';
import { accessText, methodAccess } from '../../methods/policy.js';
import { perUserMfaOn } from '../../methods/requirement.js';
import type { MethodRow } from '../../methods/types.js';
import { signinCodes } from '../../protocol/errors.js';
import { errorPage, type FlowState } from '../flow.js';
import { logSignin } from '../signin-log.js';
import { methodsOf, policyOf, rememberUser, type StepContext, type StepHandler, type StepOutcome } from './index.js';

/** Longest credential JSON read (an assertion is well under 2 KB; a large RSA attestation under 8 KB). */
const MAX_CREDENTIAL = 32 * 1024;

export function relyingPartyOf(ctx: StepContext): RelyingParty {
  return relyingParty(ctx.deps.config, ctx.deps.origin, ctx.deps.tenant.display_name);
}

/** The state with a fresh challenge for the page about to be shown. */
export function withChallenge(state: FlowState, now = Date.now()): FlowState {
  return { ...state, passkey: { challenge: newChallenge(), expiresAt: now + CHALLENGE_TTL_MS } };
}

/** The options the page's script passes to navigator.credentials.get(), as JSON; undefined without a challenge. */
export function passkeyOptionsJson(ctx: StepContext, state: FlowState, mine: readonly MethodRow[] = []): string | undefined {
  return passkeyRequestJson(relyingPartyOf(ctx), state, mine);
}

/** The same, for a relying party at hand (the first page, shown before any step's context exists). */
export function passkeyRequestJson(rp: RelyingParty, state: FlowState, mine: readonly MethodRow[] = []): string | undefined {
  if (!state.passkey) return undefined;
  return JSON.stringify(requestOptions(rp, state.passkey.challenge, mine.filter((m) => m.type === 'fido2')));
}

/** The user's passkeys, for the page's allowCredentials (none before the user name). */
export async function passkeysOf(ctx: StepContext, state: FlowState): Promise<MethodRow[]> {
  return state.userId ? (await methodsOf(ctx, state.userId)).filter((m) => m.type === 'fido2') : [];
}

/** Takes the flow's challenge once: undefined when there is none, it expired, or another post took it. */
async function takeChallenge(ctx: StepContext, state: FlowState): Promise<string | undefined> {
  const c = state.passkey;
  if (!c) return undefined;
  const taken = await ctx.flows.swap(ctx.uid, state, { ...state, passkey: undefined }, ctx.exp);
  return taken && c.expiresAt > Date.now() ? c.challenge : undefined;
}

function parseCredential(form: Record<string, unknown>): unknown {
  const raw = typeof form.credential === 'string' ? form.credential : '';
  if (!raw || raw.length > MAX_CREDENTIAL) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Checks a posted assertion: as the first factor (`user` known after the user name, or undefined: the
 * credential names its user) or as the second factor. Returns the next state, or the page again.
 */
export async function passkeyStep(ctx: StepContext, state: FlowState, form: Record<string, unknown>, user: User | undefined, as: 'first' | 'second'): Promise<StepOutcome> {
  const { db, tenant } = ctx.deps;
  const challenge = await takeChallenge(ctx, state);
  let owner: User | undefined = user;
  let row: MethodRow | undefined;
  try {
    const credential = parseCredential(form);
    if (credential === undefined) throw new Fido2Error('malformed', 'the credential field is missing, too long or not JSON');
    if (!challenge) throw new Fido2Error('challenge', "no unused, unexpired challenge in this flow (replayed, expired or another flow's)");
    row = await findPasskey(db, tenant.id, credential, user?.id);
    owner ??= await findUserById(db, row.user_id);
    if (!owner || owner.tenant_id !== tenant.id) throw new Fido2Error('unknown_credential', 'the passkey owner no longer exists');
    if (owner.account_enabled !== 1) {
      await logSignin(db, tenant.id, { status: 'failure', errorCode: signinCodes.disabled.aadsts, reason: signinCodes.disabled.log, userId: owner.id, userName: owner.upn, appId: ctx.appId, req: ctx.req, interactive: true });
      return { again: withChallenge(state), error: signinCodes.disabled.message, status: 403 };
    }
    const policy = await policyOf(ctx, owner);
    const access = methodAccess(policy, 'fido2');
    if (!access.enabled) {
      await logSignin(db, tenant.id, { status: 'failure', errorCode: signinCodes.method_unusable.aadsts, reason: `${signinCodes.method_unusable.log} (fido2: ${accessText(access)})`, userId: owner.id, userName: owner.upn, appId: ctx.appId, req: ctx.req, interactive: true });
      return { again: withChallenge(state), error: `Your organization's authentication methods policy doesn't let you use a passkey (${accessText(access)}). Sign in another way.`, status: 403 };
    }
    await verifyPasskey(db, row, credential, challenge, relyingPartyOf(ctx), policy);
  } catch (e) {
    if (!(e instanceof Fido2Error)) throw e;
    const who = owner ?? (row ? await findUserById(db, row.user_id) : undefined);
    await logSignin(db, tenant.id, { status: 'failure', errorCode: signinCodes.passkey_refused.aadsts, reason: `${signinCodes.passkey_refused.log}: ${e.reason} (${e.message})`, userId: who?.id ?? state.userId, userName: who?.upn ?? state.username, appId: ctx.appId, req: ctx.req, interactive: true });
    return { again: withChallenge(state), error: `${FIDO2_MESSAGES[e.reason]} (AADSTS${signinCodes.passkey_refused.aadsts})`, status: 400 };
  }
  const now = Date.now();
  const done = { ...state, passkey: undefined };
  if (as === 'second') {
    return { next: { ...done, mfaAt: now, amr: [...new Set([...state.amr, ...fido2.amr, 'mfa'])], methods: [...state.methods, 'fido2'], rememberMfa: form.remember === 'yes' && perUserMfaOn(owner) } };
  }
  rememberUser(ctx, owner);
  // spec §4: a passkey is the first factor and MFA at once; the session is not password-based (§8)
  return { next: { ...done, userId: owner.id, username: owner.upn, firstFactor: 'fido2', authTimeMs: now, mfaAt: now, amr: [...fido2.amr], methods: ['fido2'] } };
}

const passkey: StepHandler = async (ctx, state, form, user) => {
  // after the user name: only that user's passkeys (without the user, the credential would pick one)
  if (!user) return { reply: errorPage(ctx.reply, 400, 'The account no longer exists.') };
  return passkeyStep(ctx, state, form, user, 'first');
};

export const passkeySteps = { passkey } satisfies Record<string, StepHandler>;
