// The browser sign-in flow as a step machine (spec §8): a persisted object (step, facts gathered,
// expiry) keyed by the engine's interaction, rendered by one page per step and posted back with a CSRF
// token. `nextStep()` alone decides where a flow goes; each step's handler lives in ./steps/.
//   user name (or a passkey without it) → (usable TAP: TAP | passkey: passkey | password) → second factor if MFA is required →
//   forced password change → registration if MFA is required and no method but a TAP → Stay signed in?
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Config } from '../config/index.js';
import type { Secrets } from '../crypto/secrets.js';
import type { Tenant } from '../directory/tenant.js';
import type { User } from '../directory/users.js';
import type { MethodType } from '../methods/index.js';
import type { Db } from '../storage/db.js';
import { requestedResources, type SigninResultFacts } from '../protocol/browser-sessions.js';
import { escapeHtml, page } from './html.js';
import { type PageInput, renderStep } from './pages.js';
import { handleStep, type StepContext } from './steps/index.js';
import { logSignin } from './signin-log.js';
import { changed, statement } from '../storage/statements.js';
import { registerPasskeyScript } from './passkey-script.js';
import { engineCookieKeys } from '../protocol/cookie-signer.js';
import { asOneRequest } from '../directory/cache.js';

export type StepId = 'username' | 'password' | 'tap' | 'passkey' | 'mfa' | 'change_password' | 'register' | 'kmsi';
export const STEP_IDS: readonly StepId[] = ['username', 'password', 'tap', 'passkey', 'mfa', 'change_password', 'register', 'kmsi'];

export interface FlowState {
  step: StepId;
  userId?: string;
  username?: string;
  /** the first factor's method: "password-based" means `password` here (spec §8) */
  firstFactor?: MethodType;
  /** when the first factor was satisfied (ms); the session's issue time */
  authTimeMs?: number;
  /** each step's method, in order (D22: for the sign-in log's authenticationDetails) */
  methods: string[];
  amr: string[];
  /** when MFA was satisfied in this sign-in (ms) */
  mfaAt?: number;
  /** the TAP this sign-in used (rule 5 caps sessions and tokens at its expiry) */
  tap?: { id: string; expiresAt: number };
  /** the user has a TAP: the password page offers it */
  tapOffered?: boolean;
  /** the user chose the password over the TAP screen */
  tapDeclined?: boolean;
  /** the user has a passkey: the password page offers it */
  passkeyOffered?: boolean;
  /** the user chose the password over the passkey page */
  passkeyDeclined?: boolean;
  /** the WebAuthn challenge of the page shown (one-time: taken by a conditional update when posted) */
  passkey?: { challenge: string; expiresAt: number };
  /** the second factor being asked */
  mfaMethod?: MethodType;
  /** step-up: a signed-in session that lacks MFA; only the second factor is asked (spec §8) */
  stepUp?: boolean;
  /** the forced password change is done */
  passwordChanged?: boolean;
  /** the pending software OATH enrollment of the registration interrupt */
  enrollmentId?: string;
  /** "Don't ask again" was ticked at the second factor */
  rememberMfa?: boolean;
  /** Stay signed in: yes/no */
  kmsi?: boolean;
  /** the app of the interaction (its client_id), kept at the flow's start so later steps need not read the interaction */
  appId?: string;
  /** the resources the interaction requested (spec §8: their MFA requirement), kept likewise */
  resources?: string[];
  /**
   * The facts of the last decision, carried to the second factor and Stay signed in, whose answers change
   * none of them; with the user's fields they came from, so that a change to the user meanwhile is seen.
   * Towards the second factor, also the user row itself without its password hash (that step reads no user;
   * the one after it does).
   */
  decided?: StepFacts & { choices: MethodType[]; rememberDays?: number; userStamp: string; user?: User };
}

/** What the engine receives from a finished sign-in, beside `login`: the facts the session record keeps. */
export type LatchkeyLoginResult = SigninResultFacts;

export interface SigninDeps {
  provider: Provider;
  db: Db;
  secrets: Secrets;
  tenant: Tenant;
  config: Config;
  /** the public origin (passkeys: the relying party's default id and origin) */
  origin: string;
}

/** The facts `nextStep` decides on, gathered fresh for each decision. */
export interface StepFacts {
  mfaRequired: boolean;
  /** the user holds a TAP that is usable now */
  usableTap: boolean;
  /** the user holds a passkey the policy lets them use (spec §8: offered after the user name) */
  usablePasskey?: boolean;
  /** registered MFA-capable methods other than a TAP, in the system-preferred order */
  mfaMethods: MethodType[];
  mustChangePassword: boolean;
}

/** Where a flow goes next: the single decision of the sign-in order (spec §8). */
export function nextStep(s: FlowState, f: StepFacts): StepId | 'done' {
  if (!s.userId) return 'username';
  if (!s.firstFactor) return f.usableTap && !s.tapDeclined ? 'tap' : f.usablePasskey && !s.passkeyDeclined ? 'passkey' : 'password';
  if (f.mfaRequired && s.mfaAt === undefined && (f.mfaMethods.length > 0 || f.usableTap)) return 'mfa';
  if (s.firstFactor === 'password' && f.mustChangePassword && !s.passwordChanged) return 'change_password';
  if (f.mfaRequired && f.mfaMethods.length === 0) return 'register';
  if (s.stepUp) return 'done';
  if (s.kmsi === undefined) return 'kmsi';
  return 'done';
}

/** Constant-time comparison of the posted token; compares bytes (a same-length string may differ in bytes). */
function csrfMatches(posted: unknown, expected: string): boolean {
  if (typeof posted !== 'string') return false;
  const a = Buffer.from(posted, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** The cookie that holds a flow, sealed (AES-256-GCM, bound to its interaction), scoped to its pages' path. */
export const FLOW_COOKIE = 'latchkey_flow';
/** a flow's interaction id, as the engine makes them (also safe in a cookie path) */
const UID = /^[A-Za-z0-9_-]{1,64}$/;

/** A one-time value of a flow (a passkey challenge) taken: the row's insert is the taking. */
const takeOnceRow = statement((db, id: string, uid: string, expiresAt: number, createdAt: number) =>
  db
    .insertInto('signin_flows')
    .values({ id, interaction_uid: uid, csrf_hash: '', state: 'taken', expires_at: expiresAt, created_at: createdAt })
    .onConflict((oc) => oc.column('id').doNothing()),
);

/**
 * Loading, saving and securing flows. A flow lives in the browser that began it, in a cookie sealed with
 * the master key (AES-256-GCM, its interaction id as associated data: it can be neither read, nor forged,
 * nor moved to another interaction), so a step reads and writes no row for it. What must happen once
 * whatever cookie is posted (a passkey challenge taken) is a row of `signin_flows`, inserted once; the
 * sweeper removes it when the flow would have expired. Counters that must survive a replayed cookie
 * (lockout, wrong codes, a code used once) live with the user, never in the flow.
 */
export class FlowStore {
  constructor(private readonly db: Db, private readonly secrets: Secrets) {}

  csrfFor(flowId: string): string {
    return this.secrets.lookupHash(flowId, 'signin-csrf');
  }

  csrfMatches(flowId: string, posted: unknown): boolean {
    return csrfMatches(posted, this.csrfFor(flowId));
  }

  /** The Set-Cookie value that holds a flow (sealed, bound to its interaction, scoped to its pages' path). */
  cookie(uid: string, state: FlowState, expiresAt: number): string {
    if (!UID.test(uid)) throw new Error('not an interaction id');
    const sealed = this.secrets.encrypt(JSON.stringify({ s: state, e: expiresAt }), `signin-flow:${uid}`);
    const maxAge = Math.max(1, Math.ceil((expiresAt - Date.now()) / 1000));
    return `${FLOW_COOKIE}=${sealed}; Path=/signin/${uid}; Max-Age=${maxAge}; Secure; HttpOnly; SameSite=Lax`;
  }

  /** The flows of one request: read from its cookie, written to its answer. */
  of(req: FastifyRequest, reply: FastifyReply): RequestFlows {
    return new RequestFlows(this, this.db, this.secrets, req, reply);
  }
}

export class RequestFlows {
  constructor(
    readonly store: FlowStore,
    private readonly db: Db,
    private readonly secrets: Secrets,
    private readonly req: FastifyRequest,
    private readonly reply: FastifyReply,
  ) {}

  load(uid: string): { state: FlowState; expiresAt: number } | undefined {
    const sealed = cookieValue(this.req, FLOW_COOKIE);
    if (!sealed || !UID.test(uid)) return undefined;
    try {
      const { s, e } = JSON.parse(this.secrets.decrypt(sealed, `signin-flow:${uid}`)) as { s: FlowState; e: number };
      return e > Date.now() ? { state: s, expiresAt: e } : undefined;
    } catch {
      return undefined; // another interaction's, tampered with, or from before a master key rotation
    }
  }

  save(uid: string, state: FlowState, expiresAt: number): void {
    this.setCookie(this.store.cookie(uid, state, expiresAt));
  }

  remove(uid: string): void {
    if (UID.test(uid)) this.setCookie(`${FLOW_COOKIE}=; Path=/signin/${uid}; Max-Age=0; Secure; HttpOnly; SameSite=Lax`);
  }

  /**
   * Moves the flow from `before` to `after` only if `before`'s passkey challenge had not been taken yet:
   * a one-time value in the flow is taken once, whatever cookie a browser posts again.
   */
  async swap(uid: string, before: FlowState, after: FlowState, expiresAt: number): Promise<boolean> {
    const challenge = before.passkey;
    if (!challenge) return false;
    const id = this.secrets.lookupHash(challenge.challenge, 'signin-flow-taken');
    const r = await takeOnceRow(this.db, id, uid, Math.max(challenge.expiresAt, Date.now()) + 60_000, Date.now());
    if (changed(r) !== 1) return false;
    this.save(uid, after, expiresAt);
    return true;
  }

  /** One flow cookie per answer: a later save replaces an earlier one of the same request. */
  private setCookie(value: string): void {
    const prior = this.reply.getHeader('set-cookie');
    const others = (Array.isArray(prior) ? prior : prior === undefined ? [] : [String(prior)]).filter((c) => !c.startsWith(`${FLOW_COOKIE}=`));
    this.reply.removeHeader('set-cookie');
    this.reply.header('set-cookie', [...others, value]);
  }
}

export function cookieValue(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The sign-in pages' policy: scripts from this origin only, inline styles (the page's own), data: images (QR codes). */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'";

/** The headers of a sign-in page (no inline script: the passkey pages load /assets/passkey.js). */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy': PAGE_CSP,
};

export function sendPage(reply: FastifyReply, status: number, title: string, body: string) {
  return reply.code(status).headers(PAGE_HEADERS).send(page(title, body));
}

export const NOT_A_FORM = 'The request was not sent as a form.';

/** Whether a post's body is a form (`application/x-www-form-urlencoded`), as every sign-in page sends. */
export function isForm(req: FastifyRequest): boolean {
  const type = String(req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/x-www-form-urlencoded' && typeof req.body === 'object' && req.body !== null;
}

/** A step's page of the flow of interaction `uid`: the tenant's card around the step's form. */
export function stepPage(tenant: Tenant, flows: FlowStore, uid: string, input: Omit<PageInput, 'action' | 'csrf'>): { title: string; body: string } {
  const body = renderStep(input.state.step, { ...input, action: `/signin/${encodeURIComponent(uid)}`, csrf: flows.csrfFor(uid) });
  return { title: 'Sign in to your account', body: `<main class="card"><div class="brand">${escapeHtml(tenant.display_name)}</div>${body}</main>` };
}

export function errorPage(reply: FastifyReply, status: number, message: string) {
  return sendPage(reply, status, 'Sign in', `<div class="card"><h1>Sorry, but we're having trouble signing you in.</h1><p id="errorMessage">${escapeHtml(message)}</p></div>`);
}

const EXPIRED = 'Your sign-in session has expired or was started in another browser. Go back to the app and sign in again.';

export function registerSignin(app: FastifyInstance, deps: SigninDeps): void {
  const { provider, tenant } = deps;
  const flows = new FlowStore(deps.db, deps.secrets);
  registerPasskeyScript(app);

  /** The interaction this browser holds, from the engine's signed interaction cookie (no read). */
  const interactionCookie = provider.cookieName('interaction');
  const cookieKeys = engineCookieKeys(provider);
  function interactionOfBrowser(req: FastifyRequest): string | undefined {
    const uid = cookieValue(req, interactionCookie);
    const sig = cookieValue(req, `${interactionCookie}.sig`);
    return uid && sig && cookieKeys.verify(`${interactionCookie}=${uid}`, sig) ? uid : undefined;
  }

  async function details(req: FastifyRequest, reply: FastifyReply, uid: string) {
    try {
      const d = await provider.interactionDetails(req.raw, reply.raw);
      return d.uid === uid ? d : undefined;
    } catch {
      return undefined;
    }
  }

  function render(reply: FastifyReply, uid: string, input: Omit<PageInput, 'action' | 'csrf'>, status = 200) {
    const { title, body } = stepPage(tenant, flows, uid, input);
    return sendPage(reply, status, title, body);
  }

  // Errors before the handler runs (body too large, unsupported content type, invalid JSON) get the sign-in
  // error page instead of the API's JSON; anything unexpected is logged and shown without details.
  const errorHandler = (err: Error & { statusCode?: number }, req: FastifyRequest, reply: FastifyReply): void => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err }, 'sign-in page failed');
      void errorPage(reply, 500, 'Something went wrong. Go back to the app and sign in again.');
      return;
    }
    const message = status === 413 ? 'The request was too large.' : status === 415 ? NOT_A_FORM : 'The request could not be read.';
    void errorPage(reply, status, `${message} Go back to the app and sign in again.`);
  };

  /**
   * A step's context. A page (GET) reads the engine's interaction: it starts flows and step-ups. A posted
   * step of a started flow needs only the flow, which kept the interaction's app and resources, and the
   * engine's signed interaction cookie naming this flow (the flow stays bound to the browser that began it).
   */
  // Undefined when it has answered with the error page itself: a Fastify reply is a thenable, and an async
  // function returning it would resolve to what the reply resolves to (undefined), not to the reply.
  async function context(req: FastifyRequest, reply: FastifyReply, uid: string, posted: boolean): Promise<StepContext | undefined> {
    const expired = () => void errorPage(reply, 400, EXPIRED);
    const rflows = flows.of(req, reply);
    const base = { deps, flows: rflows, req, reply, uid, render: (input: Omit<PageInput, 'action' | 'csrf'>, status?: number) => render(reply, uid, input, status), memo: new Map() };
    if (posted) {
      if (interactionOfBrowser(req) !== uid) return expired();
      const flow = rflows.load(uid);
      if (flow?.state.resources) return { ...base, flow, exp: flow.expiresAt, appId: flow.state.appId, resources: flow.state.resources };
    }
    const d = await details(req, reply, uid);
    if (!d) return expired();
    const exp = (d.exp ?? Math.floor(Date.now() / 1000) + deps.config.signInFlowTtl) * 1000;
    const appId = typeof d.params.client_id === 'string' ? d.params.client_id : undefined;
    return { ...base, details: d, exp, appId, resources: requestedResources(d.params as Record<string, unknown>) };
  }

  app.get('/signin/:uid', { errorHandler }, (req, reply) =>
    asOneRequest(async () => {
      const { uid } = req.params as { uid: string };
      const ctx = await context(req, reply, uid, false);
      if (!ctx) return reply;
      return handleStep(ctx, undefined);
    }),
  );

  app.post('/signin/:uid', { errorHandler }, (req, reply) => asOneRequest(() => postStep(req, reply)));

  async function postStep(req: FastifyRequest, reply: FastifyReply) {
    // every step's page posts a form (the passkey script fills a field and submits it): JSON or plain text is
    // refused as what it is, before the form token is looked for (it would be "could not be verified")
    if (!isForm(req)) return errorPage(reply, 415, `${NOT_A_FORM} Go back to the app and sign in again.`);
    const { uid } = req.params as { uid: string };
    const ctx = await context(req, reply, uid, true);
    if (!ctx) return reply;
    const form = (req.body ?? {}) as Record<string, unknown>;
    if (!flows.csrfMatches(uid, form.csrf)) {
      await logSignin(deps.db, tenant.id, { status: 'failure', reason: 'csrf token missing or invalid', req, appId: ctx.appId, interactive: true });
      return errorPage(reply, 403, 'The request could not be verified (invalid or missing form token). Go back and try again.');
    }
    return handleStep(ctx, form);
  }
}

export type { User };
