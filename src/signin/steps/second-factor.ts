// The second factor (spec §8): the chosen method's code, with the wrong-code limit (500121 each).
import { attemptStateOf, clearWrongCodes, recordWrongCode } from '../../methods/attempts.js';
import { listMethodsWithFailures } from '../../methods/store.js';
import { METHODS, type MethodType } from '../../methods/index.js';
import { accessText, methodAccess } from '../../methods/policy.js';
import { verifySoftwareOath } from '../../methods/software-oath/index.js';
import { verifyTap } from '../../methods/tap/index.js';
import type { VerifyResult } from '../../methods/types.js';
import { signinCodes } from '../../protocol/errors.js';
import { errorPage } from '../flow.js';
import { perUserMfaOn } from '../../methods/requirement.js';
import { logSignin } from '../signin-log.js';
import { wrongCodeLimit } from './first-factor.js';
import { gatherFacts, methodsOf, policyOf, settingsOf, type StepHandler } from './index.js';
import { passkeyStep } from './passkey.js';

const MAX_CODE = 64;

const mfa: StepHandler = async (ctx, state, form, user) => {
  if (!user) return { reply: errorPage(ctx.reply, 400, 'The account no longer exists.') };
  const facts = await gatherFacts(ctx, state, user);
  const method = form.method as MethodType;
  const log = (key: keyof typeof signinCodes, reason?: string) =>
    logSignin(ctx.deps.db, ctx.deps.tenant.id, { status: 'failure', errorCode: signinCodes[key].aadsts, reason: reason ?? signinCodes[key].log, userId: user.id, userName: user.upn, appId: ctx.appId, req: ctx.req, interactive: true });
  if (typeof form.method !== 'string' || !facts.choices.includes(method)) {
    // a registered method the policy does not allow this user (spec §7): say why
    const access = Object.hasOwn(METHODS, method) ? methodAccess(await policyOf(ctx, user), method) : undefined;
    if (access && !access.enabled) {
      await log('method_unusable', `${signinCodes.method_unusable.log} (${method}: ${accessText(access)})`);
      return { again: state, error: `Your organization's authentication methods policy doesn't let you use this method (${accessText(access)}). Choose another way to verify your identity.`, status: 400 };
    }
    return { again: state, error: 'Choose a way to verify your identity.', status: 400 };
  }
  if (method === 'fido2') return passkeyStep(ctx, { ...state, mfaMethod: method }, form, user, 'second');
  const code = typeof form.code === 'string' ? form.code.trim() : '';
  const settings = await settingsOf(ctx, user.tenant_id);
  const lim = wrongCodeLimit(ctx, settings.wrong_code_limit);
  // the methods and this method's wrong codes in one read; the methods are this request's from now on
  const read = await listMethodsWithFailures(ctx.deps.db, user.id, method);
  ctx.memo.set(`methods:${user.id}`, Promise.resolve(read.methods));
  const attempts = attemptStateOf(read.failures, lim);
  if (attempts.exhausted) {
    await log('too_many_codes');
    return { again: { ...state, mfaMethod: method }, error: signinCodes.too_many_codes.message, status: 429 };
  }
  let r: VerifyResult;
  if (!code || code.length > MAX_CODE) r = { ok: false, reason: 'wrong' };
  else if (method === 'softwareOath') r = await verifySoftwareOath(ctx.deps, user, code, Date.now(), await methodsOf(ctx, user.id));
  else if (method === 'temporaryAccessPass') r = await verifyTap(ctx.deps, user, code, await policyOf(ctx, user));
  else r = { ok: false, reason: 'none' };
  if (!r.ok) {
    const key = r.reason === 'replayed' ? 'code_replayed' : r.reason === 'wrong' ? 'code_wrong' : 'method_unusable';
    await log(key, `${signinCodes[key].log} (${method})`);
    if (r.reason === 'wrong' || r.reason === 'replayed') await recordWrongCode(ctx.deps.db, user.id, method, lim);
    return { again: { ...state, mfaMethod: method }, error: signinCodes[key].message, status: 400 };
  }
  if (attempts.recorded) await clearWrongCodes(ctx.deps.db, user.id, method);
  const now = Date.now();
  return {
    next: {
      ...state,
      mfaAt: now,
      amr: [...new Set([...state.amr, ...METHODS[method].amr, 'mfa'])],
      methods: [...state.methods, method],
      ...(method === 'temporaryAccessPass' && r.expiresAt ? { tap: { id: r.methodId, expiresAt: r.expiresAt } } : {}),
      rememberMfa: form.remember === 'yes' && perUserMfaOn(user),
    },
  };
};

export const secondFactorSteps = { mfa } satisfies Record<string, StepHandler>;
