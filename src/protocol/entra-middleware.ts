// The Koa middleware that gives the engine's answers Entra's wire shape: the token and devicecode forms
// pre-parsed (MSAL's short forms normalised), AADSTS errors with suberror, client_info, ext_expires_in,
// interval on device-code responses and slow_down for faster polls, the device-code page's wrong-code
// limit, authorize errors described, and every refusal logged (D9, D11).
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { findUserById } from '../directory/users.js';
import { memo } from '../directory/cache.js';
import { type RefusalCode, Refusal, entraErrorBody, refusalFromEngine, refusals, whatWasWrong } from './errors.js';
import { entraResponseScope, normalizeScope } from './resources.js';
import { withEmptyIdTokenClaims } from './claims.js';
import { defaultScopeExpansion, firstUnconsented, namesUnknownResource } from './resource-indicators.js';
import { recordSignin } from './browser-sessions.js';
import { recordDeviceCodePoll } from '../storage/oidc-adapter.js';
import { MULTI_TENANT_ALIASES, ROUTES, TENANT_ALIAS } from './routes.js';
import { CLIENT_WITHOUT_SP, type EngineDeps, NEW_SIGNIN_PROMPTS, SESSION_COOKIE } from './engine-config.js';
import { USER_CODE_NOT_FOUND, applyPageHeaders, deviceSessionLostPage, deviceTooManyAttemptsPage, engineErrorPage, htmlSecurityHeaders } from './pages.js';
import { attemptKeys, countWrongUserCode, tooManyWrongUserCodes } from './device-code-attempts.js';

/** The request body as text, refused past `limit` bytes (events, not an async iterator: this runs on every token request). */
function readBody(req: KoaContextWithOIDC['req'], limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      reject(new Refusal('request_invalid', 'The request body is too large.'));
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

/**
 * Reads the form body before the engine does, to normalise Entra-only forms: bare scope names mean Graph,
 * `grant_type=device_code` (MSAL's short form) is the RFC 8628 grant. The engine then uses `req.body`.
 */
async function preparseForm(ctx: KoaContextWithOIDC): Promise<void> {
  const req = ctx.req as typeof ctx.req & { body?: Record<string, string> };
  if (!ctx.is('application/x-www-form-urlencoded') || !req.readable) return;
  const params = new URLSearchParams(await readBody(req, 256 * 1024));
  const form: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k in form) throw new Refusal('request_invalid', `The parameter '${k}' is repeated.`);
    form[k] = v;
  }
  if (form.grant_type === 'device_code') form.grant_type = 'urn:ietf:params:oauth:grant-type:device_code';
  if (typeof form.scope === 'string') form.scope = normalizeScope(form.scope);
  req.body = form;
}

/**
 * Claims of `access_token` alone at authorize (query) and devicecode (the pre-parsed form), as Entra
 * accepts them (claims.ts); the token endpoint's are left as sent (the engine does not check them there).
 */
function acceptAccessTokenClaims(ctx: KoaContextWithOIDC, oidcPath: string): void {
  if (ctx.method === 'GET' && oidcPath === ROUTES.authorization && typeof ctx.query.claims === 'string') {
    const claims = withEmptyIdTokenClaims(ctx.query.claims);
    if (claims) ctx.query = { ...ctx.query, claims };
  }
  const form = (ctx.req as { body?: Form }).body;
  if (oidcPath === ROUTES.device_authorization && typeof form?.claims === 'string') form.claims = withEmptyIdTokenClaims(form.claims) ?? form.claims;
}

/**
 * Errors the engine sends back to the app from authorize (query, fragment or form_post) get Entra's
 * `AADSTSnnnnn:` description (D9), e.g. login_required for prompt=none without a session is AADSTS50058.
 */
function entraShapeAuthorizationError(ctx: KoaContextWithOIDC, origin: string, escapeHtml: (s: string) => string): RefusalCode | undefined {
  const route = ctx.oidc?.route;
  if (route !== 'authorization' && route !== 'resume') return undefined;
  let refused: RefusalCode | undefined;
  const describe = (error: string, description: string | null): string | undefined => {
    if (!error) return undefined;
    const code = refusalFromEngine(error, undefined, description ?? undefined, undefined);
    refused = code;
    if (description?.startsWith('AADSTS')) return undefined;
    if (refusals[code].error !== error) return undefined; // no Entra code for this one: left as the engine said it
    return entraErrorBody(code, origin).error_description;
  };
  const location = ctx.response.get('location');
  if (location && /[?#&]error=/.test(location)) {
    const url = new URL(location);
    for (const params of [url.searchParams, new URLSearchParams(url.hash.slice(1))]) {
      const error = params.get('error');
      const d = error && describe(error, params.get('error_description'));
      if (!d) continue;
      params.set('error_description', d);
      if (params !== url.searchParams) url.hash = params.toString();
    }
    ctx.set('location', url.toString());
    return refused;
  }
  if (typeof ctx.body === 'string' && ctx.body.includes('name="error"')) {
    const error = /name="error" value="([^"]*)"/.exec(ctx.body)?.[1];
    const current = /name="error_description" value="([^"]*)"/.exec(ctx.body)?.[1] ?? null;
    const d = error && describe(error, current);
    if (!d) return refused;
    const html = escapeHtml(d);
    ctx.body = current !== null ? ctx.body.replace(/(name="error_description" value=")[^"]*"/, `$1${html}"`) : ctx.body.replace(/(<input type="hidden" name="error" value="[^"]*"\s*\/?>)/, `$1<input type="hidden" name="error_description" value="${html}"/>`);
  }
  return refused;
}

type Form = Record<string, string>;

/**
 * RFC 8628 §3.5: a device-code poll sooner than the `interval` the devicecode response advertised. The
 * engine defines slow_down but never raises it; the last poll is a column of the device code's row.
 */
async function pollingTooFast(ctx: KoaContextWithOIDC, deps: EngineDeps): Promise<boolean> {
  const form = (ctx.req as unknown as { body?: Form }).body;
  if (ctx.path !== ROUTES.token || form?.grant_type !== 'urn:ietf:params:oauth:grant-type:device_code' || !form.device_code) return false;
  return !(await recordDeviceCodePoll(deps.db, deps.secrets, form.device_code, deps.config.deviceCodeInterval * 1000));
}

/** The device-code page after too many wrong user codes (src/protocol/device-code-attempts.ts): a 429 page. */
function tooManyUserCodes(ctx: KoaContextWithOIDC, deps: EngineDeps): void {
  ctx.status = 429;
  ctx.type = 'html';
  ctx.body = deviceTooManyAttemptsPage(deps.html, refusals.user_code_attempts.aadsts);
  ctx.set(htmlSecurityHeaders(deps.origin.startsWith('https:')));
}

/**
 * A browser without a session starting a sign-in: authorize answers with the first sign-in page itself
 * instead of the engine's redirect to it (src/signin/first-page.ts). Anything else (a session to step up
 * or confirm, consent, the device flow's interactions) keeps the redirect.
 */
function firstPageInPlace(ctx: KoaContextWithOIDC, d: EngineDeps): void {
  if (!d.firstSigninPage || ctx.oidc?.route !== 'authorization' || ctx.status !== 303) return;
  const i = ctx.oidc.entities.Interaction;
  // without a session, select_account (MSAL's interactive default) shows the same first page as login
  if (!i || ctx.oidc.session?.accountId || !NEW_SIGNIN_PROMPTS.has(i.prompt.name) || ctx.response.get('location') !== d.interactionUrl(i.uid)) return;
  const p = d.firstSigninPage({ uid: i.uid, expiresAt: (i.exp ?? 0) * 1000, params: i.params });
  ctx.status = 200;
  ctx.remove('location');
  ctx.set(p.headers);
  ctx.body = p.html;
  ctx.append('Set-Cookie', p.cookie);
}

/**
 * The engine's own pages (logout, device code, errors) get the headers of every HTML page; a page with a
 * policy of its own (the first sign-in page's) keeps it.
 */
function pageHeaders(ctx: KoaContextWithOIDC, origin: string): void {
  if (ctx.response.is('html')) applyPageHeaders({ get: (n) => ctx.response.get(n) || undefined, set: (n, v) => ctx.set(n, v) }, origin.startsWith('https:'));
}

/**
 * The refusal behind an engine error at the token endpoint: Latchkey's own, else the engine's mapped. A
 * refresh for a scope its token lacks is 70011 to the engine; Entra names why when it knows: a resource
 * that does not exist (AADSTS500011) or one the app has no consent for (AADSTS65001).
 */
async function refusalOf(ctx: KoaContextWithOIDC, deps: EngineDeps, body: Record<string, unknown>, form: Form): Promise<RefusalCode> {
  const code: RefusalCode = (ctx.state.refusal as RefusalCode | undefined) ?? refusalFromEngine(String(body.error), ctx.state.errorDetail as string | undefined, body.error_description as string | undefined, form.grant_type);
  if (code !== 'scope_invalid' || form.grant_type !== 'refresh_token') return code;
  if (await namesUnknownResource(deps.db, form.scope)) return 'resource_unknown';
  const clientId = ctx.oidc?.client?.clientId;
  if (clientId && (await firstUnconsented(deps.resources, clientId, form.scope ?? ''))?.kind === 'unconsented') return 'consent_required_grant';
  return code;
}

/**
 * The engine's detail (and our own refusal) behind an error, kept on the request for the AADSTS mapping.
 * Not only grant.error: the devicecode, revocation and page routes emit their own events, and an error
 * the engine does not expose emits server_error.
 */
function rememberErrors(provider: Provider): void {
  const remember = (ctx: KoaContextWithOIDC, err: Error & { error_detail?: string }) => {
    ctx.state.errorDetail = err.error_detail;
    ctx.state.refusal = err instanceof Refusal ? err.code : undefined;
  };
  provider.on('grant.error', remember);
  provider.on('device_authorization.error', remember);
  provider.on('revocation.error', remember);
  provider.on('server_error', remember);
  // the browser endpoints' refusals, rendered as pages by refusalAsPage
  provider.on('end_session.error', remember);
  provider.on('end_session_confirm.error', remember);
  provider.on('end_session_success.error', remember);
  provider.on('code_verification.error', remember);
  provider.on('device_resume.error', remember);
}

/** Installs the engine error events and the Entra-shape middleware on the provider. */
export function installEntraShape(provider: Provider, deps: EngineDeps): void {
  const { db, tenant, origin, signinLog } = deps;

  rememberErrors(provider);

  /** Every refusal is logged one by one (D11), as a non-interactive sign-in failure with its AADSTS code. */
  async function logRefusal(ctx: KoaContextWithOIDC, code: RefusalCode, clientId: string | undefined): Promise<void> {
    // a failing log write must not turn the refusal into a 500
    await signinLog
      .write({
        status: 'failure',
        errorCode: refusals[code].aadsts,
        reason: code,
        userId: typeof ctx.state.userId === 'string' ? ctx.state.userId : ctx.oidc?.session?.accountId,
        appId: (ctx.oidc?.client?.clientId ?? clientId)?.slice(0, 64),
        interactive: false,
        ip: ctx.ip,
        userAgent: String(ctx.get('user-agent') ?? ''),
      })
      .catch((err: unknown) => console.warn(`latchkey: sign-in log write failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  /** D11: a successful refresh is a non-interactive sign-in, logged once per grant per hour. */
  async function logRefresh(ctx: KoaContextWithOIDC): Promise<void> {
    const rt = ctx.oidc?.entities?.RefreshToken as { grantId?: string; accountId?: string; amr?: string[] } | undefined;
    const userId = rt?.accountId;
    if (!rt?.grantId || !userId) return;
    await signinLog
      .refresh(rt.grantId, async () => ({
        status: 'success',
        userId,
        userName: (await memo(ctx.state, `user:${userId}`, () => findUserById(db, userId)))?.upn,
        appId: ctx.oidc.client?.clientId,
        interactive: false,
        amr: rt.amr,
        ip: ctx.ip,
        userAgent: String(ctx.get('user-agent') ?? ''),
      }))
      .catch((err: unknown) => console.warn(`latchkey: sign-in log write failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  /** A token, devicecode or revocation error in Entra's shape, logged. */
  async function shapeError(ctx: KoaContextWithOIDC, body: Record<string, unknown>, form: Form): Promise<void> {
    let code = await refusalOf(ctx, deps, body, form);
    // "client not found" of an app that exists without a service principal in the tenant (engine-config.ts)
    const withoutSp = ctx.state[CLIENT_WITHOUT_SP] as string | undefined;
    if (withoutSp && (code === 'client_unknown' || code === 'client_deleted')) code = code === 'client_deleted' ? 'client_without_sp_grant' : 'client_without_sp';
    // an engine invalid_client (401) that Entra answers otherwise (a deleted app's refresh token: invalid_grant) is a 400
    if (body.error === 'invalid_client' && refusals[code].error !== 'invalid_client') ctx.status = 400;
    const detail = withoutSp && code.startsWith('client_without_sp') ? `Client application '${withoutSp}', tenant '${tenant.id}'.` : whatWasWrong(code, body.error_description);
    ctx.body = entraErrorBody(code, origin, { correlationId: form['client-request-id'], detail });
    if (code !== 'authorization_pending' && code !== 'slow_down') await logRefusal(ctx, code, form.client_id);
  }

  /** A successful token or devicecode response in Entra's shape. */
  async function shapeSuccess(ctx: KoaContextWithOIDC, oidcPath: string, body: Record<string, unknown>, form: Form): Promise<void> {
    if (oidcPath === ROUTES.token) {
      const accountId = ctx.oidc?.entities?.Account?.accountId;
      if (accountId && form.client_info === '1') {
        body.client_info = Buffer.from(JSON.stringify({ uid: accountId, utid: tenant.id })).toString('base64url');
      }
      if (typeof body.expires_in === 'number') body.ext_expires_in = body.expires_in;
      if (typeof body.scope === 'string') {
        const e = ctx.oidc?.entities as { AuthorizationCode?: { scope?: string }; RefreshToken?: { scope?: string }; DeviceCode?: { scope?: string } } | undefined;
        const redeemed = e?.AuthorizationCode ?? e?.RefreshToken ?? e?.DeviceCode;
        const clientId = ctx.oidc?.client?.clientId;
        const delegated = clientId && form.grant_type !== 'client_credentials';
        const expansion = delegated ? await defaultScopeExpansion(deps.resources, clientId, body.scope, form.scope) : undefined;
        body.scope = entraResponseScope(body.scope, body.id_token ? redeemed?.scope : undefined, expansion);
      }
      if (form.grant_type === 'refresh_token') await logRefresh(ctx);
    }
    if (oidcPath === ROUTES.device_authorization && body.device_code) {
      // The engine's response has no interval, and MSAL then polls in a tight loop.
      body.interval ??= deps.config.deviceCodeInterval;
      body.message ??= `To sign in, use a web browser to open the page ${body.verification_uri as string} and enter the code ${body.user_code as string} to authenticate.`;
    }
  }

  provider.use(async (koaCtx, next) => {
    const ctx = koaCtx as KoaContextWithOIDC;
    const oidcPath = ctx.path;
    // the device-code page's wrong-code limit: decided before the engine looks the code up
    const userCodeKeys = ctx.method === 'POST' && oidcPath === ROUTES.code_verification ? attemptKeys(deps.secrets, ctx.cookies.get(SESSION_COOKIE), ctx.ip) : undefined;
    if (userCodeKeys && (await tooManyWrongUserCodes(db, userCodeKeys))) {
      tooManyUserCodes(ctx, deps);
      await logRefusal(ctx, 'user_code_attempts', undefined);
      return;
    }
    try {
      // Inside the try: a Refusal from the pre-parse (body too large, repeated parameter) must become a
      // 400 like any other, not escape to Koa's default handler as a 500.
      if (ctx.method === 'POST' && (oidcPath === ROUTES.token || oidcPath === ROUTES.device_authorization)) {
        await preparseForm(ctx);
        if (oidcPath === ROUTES.device_authorization && !(ctx.req as unknown as { body?: Form }).body?.scope?.trim()) throw new Refusal('request_invalid', "The request body must contain the following parameter: 'scope'.");
        const alias = (ctx.req as unknown as Record<symbol, string | undefined>)[TENANT_ALIAS];
        const grantType = (ctx.req as unknown as { body?: Form }).body?.grant_type;
        if (alias && MULTI_TENANT_ALIASES.has(alias) && grantType === 'client_credentials') throw new Refusal('tenant_alias_for_app_token');
        if (await pollingTooFast(ctx, deps)) {
          // like authorization_pending, not logged: a device polling in a loop would flood the sign-in log
          ctx.status = 400;
          ctx.body = entraErrorBody('slow_down', origin, { correlationId: (ctx.req as unknown as { body?: Form }).body?.['client-request-id'] });
          return;
        }
      }
      acceptAccessTokenClaims(ctx, oidcPath);
      await next();
      if (userCodeKeys && ctx.state[USER_CODE_NOT_FOUND]) await countWrongUserCode(db, userCodeKeys);
    } catch (e) {
      if (ctx.method === 'POST' && oidcPath === ROUTES.code_verification && !(e instanceof errors.OIDCProviderError)) {
        // Posted without the browser session the form was shown in: the engine cannot save the new session
        // it made (a TypeError, and a 500 with a stack on the console). The person only needs to start again.
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = deviceSessionLostPage(deps.html);
        ctx.set(htmlSecurityHeaders(origin.startsWith('https:')));
        return;
      }
      if (!(e instanceof Refusal)) throw e;
      ctx.status = e.statusCode;
      ctx.body = entraErrorBody(e.code, origin, { detail: e.detail });
      return;
    }
    if (notFound(ctx, deps) || untypedEmptyAnswer(ctx)) return;
    await refusalAsPage(ctx, deps);
    firstPageInPlace(ctx, deps);
    pageHeaders(ctx, origin);
    await recordSignin(db, tenant.id, ctx);
    const authorizeRefusal = entraShapeAuthorizationError(ctx, origin, deps.html.escapeHtml);
    if (authorizeRefusal) await logRefusal(ctx, authorizeRefusal, undefined);
    if ((oidcPath !== ROUTES.token && oidcPath !== ROUTES.device_authorization && oidcPath !== ROUTES.revocation) || typeof ctx.body !== 'object' || ctx.body === null) return;
    const body = ctx.body as Record<string, unknown>;
    const form = (ctx.req as unknown as { body?: Form }).body ?? {};
    if (typeof body.error === 'string') await shapeError(ctx, body, form);
    else await shapeSuccess(ctx, oidcPath, body, form);
  });
}

/**
 * A refusal at a page a browser opens (logout and its confirmation, the device-code page) is a page whatever
 * the request's Accept header says, as Entra's are: the engine answers JSON to a client that does not
 * prefer HTML (`curl`, a script following a logout link). Authorize renders its refusals as pages already.
 */
async function refusalAsPage(ctx: KoaContextWithOIDC, deps: EngineDeps): Promise<void> {
  if (!ctx.path.startsWith(ROUTES.end_session) && !ctx.path.startsWith(ROUTES.code_verification)) return;
  const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
  if (ctx.status < 400 || typeof body !== 'object' || body === null || typeof body.error !== 'string') return;
  const out = { error: body.error, ...(typeof body.error_description === 'string' ? { error_description: body.error_description } : {}) };
  const refusal = ctx.state.refusal as RefusalCode | undefined;
  await engineErrorPage(deps.html, deps.origin)(ctx, out, refusal ? new Refusal(refusal) : Object.assign(new Error(out.error), { error_detail: ctx.state.errorDetail as string | undefined }));
}

/**
 * The revocation endpoint's empty 200 (RFC 7009) without Koa's `text/plain` type: an empty body has none,
 * and oidc-client-ts refuses any type but JSON. True when it was that answer (nothing more to shape).
 */
function untypedEmptyAnswer(ctx: KoaContextWithOIDC): boolean {
  if (ctx.path !== ROUTES.revocation || ctx.status !== 200 || ctx.body !== '') return false;
  ctx.remove('Content-Type');
  return true;
}

/**
 * A path or method the engine has no route for (Koa's bare "Not Found": a 404 without a body), answered as
 * the server's own not-found handler answers (a page for a browser, JSON otherwise); false for any other answer.
 */
function notFound(ctx: KoaContextWithOIDC, deps: EngineDeps): boolean {
  if (ctx.status !== 404 || ctx.body !== undefined) return false;
  ctx.status = 404;
  if (String(ctx.get('accept') ?? '').includes('text/html')) {
    ctx.type = 'html';
    ctx.body = deps.html.page('Not found', '<div class="card"><h1>Not found</h1></div>');
    ctx.set(htmlSecurityHeaders(deps.origin.startsWith('https:')));
  } else {
    ctx.body = { error: 'not_found', error_description: `No route for ${ctx.method} ${ctx.path.slice(0, 200)}` };
  }
  return true;
}
