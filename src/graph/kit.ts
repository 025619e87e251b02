// The Graph route kit: what every Graph route does the same way (who is calling, the query options, the
// JSON body and its properties, ids from the path, keyset paging with @odata.nextLink, refusals mapped to
// Graph's error shape), so that users.ts, groups.ts, roles.ts and logs.ts hold only their own logic.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ActionContext, ActionError, hasLoneSurrogate } from '../admin/action.js';
import type { Actor } from '../admin/actor.js';
import { checkAnyRole } from '../admin/change.js';
import type { User } from '../directory/users.js';
import type { Db } from '../storage/db.js';
import { authenticate } from './auth.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { ODataError, decodeSkipToken, encodeSkipToken, parseSelect, parseTop } from './odata.js';

export type Handler = (req: FastifyRequest, reply: FastifyReply, actor: Actor) => Promise<unknown>;

export interface RouteKit {
  /** authenticates the caller, then runs the handler with the actor */
  guarded(handler: Handler): (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** `https://host/v1.0` or `.../beta`, as the request came in */
  base(req: FastifyRequest): string;
  /** the query options, all strings; an unknown `$` option or a repeated one is a Graph 400 */
  query(req: FastifyRequest, allowed: readonly string[], what: string): Record<string, string>;
  /** `@odata.nextLink`: this request's URL with `$skiptoken` replaced */
  nextLink(req: FastifyRequest, q: Record<string, string>, skipToken: string): string;
  /** a path segment id from the URL, bounded */
  id(raw: unknown): string;
  /** the `:id` of a /users/{id} route, or the caller's own id on a /me route (delegated callers only) */
  userId(req: FastifyRequest, actor: Actor): string;
  /** `$top` (1 to 999), 100 when absent */
  top(q: Record<string, string>): number;
  /** `$select` against the selectable properties, `defaults` when absent */
  select(q: Record<string, string>, allowed: readonly string[], defaults: readonly string[]): string[];
  /**
   * One page of a list read `top + 1` rows deep: the first `top` shaped, and `@odata.nextLink` carrying
   * the position of the last one when there were more.
   */
  page<T>(req: FastifyRequest, q: Record<string, string>, rows: readonly T[], top: number, p: { context: string; shape: (page: T[]) => unknown[] | Promise<unknown[]>; position: (last: T) => Record<string, unknown> }): Promise<Record<string, unknown>>;
  /** a user of the tenant by id or UPN; a Graph 404 otherwise */
  user(id: string): Promise<User>;
  /** the context admin actions run in for Graph: lean, since Graph shows no preview */
  ctx: ActionContext;
}

export function routeKit(deps: GraphDeps): RouteKit {
  const version = (req: FastifyRequest) => (req.url.startsWith('/beta') ? 'beta' : 'v1.0');
  const kit: RouteKit = {
    guarded: (handler) => async (req, reply) => handler(req, reply, await authenticate(req, deps.db, deps.verify)),
    base: (req) => `${deps.origin}/${version(req)}`,
    query(req, allowed, what) {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
        if (k.startsWith('$') && !allowed.includes(k)) throw new GraphError(400, 'Request_UnsupportedQuery', `Query option '${k}' is not supported on ${what}.`);
        if (typeof v !== 'string') throw new GraphError(400, 'BadRequest', `Query option '${k}' was given more than once.`);
        if (k === '$count' && !/^(true|false)$/i.test(v)) throw new GraphError(400, 'BadRequest', `Invalid value '${v.slice(0, 40)}' for query option '$count': it is true or false.`);
        out[k] = v;
      }
      return out;
    },
    nextLink(req, q, skipToken) {
      const next = new URL(`${deps.origin}${req.url.split('?')[0]!}`);
      for (const [k, v] of Object.entries(q)) if (k !== '$skiptoken') next.searchParams.set(k, v);
      next.searchParams.set('$skiptoken', skipToken);
      return next.toString();
    },
    id(raw) {
      if (typeof raw !== 'string' || !raw || raw.length > 256 || raw.includes('\0')) throw new GraphError(400, 'BadRequest', 'Invalid object identifier.');
      return raw;
    },
    userId(req, actor) {
      const p = req.params as { id?: string };
      if (p.id !== undefined) return kit.id(p.id);
      if (actor.kind !== 'user') throw new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
      return actor.id;
    },
    top: (q) => (q.$top !== undefined ? parseTop(q.$top, 999) : 100),
    select: (q, allowed, defaults) => (q.$select !== undefined ? parseSelect(q.$select, allowed) : [...defaults]),
    async page(req, q, rows, top, p) {
      const page = rows.slice(0, top);
      const out: Record<string, unknown> = { '@odata.context': `${kit.base(req)}/$metadata#${p.context}`, value: await p.shape(page) };
      if (rows.length > top) out['@odata.nextLink'] = kit.nextLink(req, q, encodeSkipToken(p.position(page[page.length - 1]!)));
      return out;
    },
    async user(id) {
      const u = await findUser(deps.db, deps.tenant.id, id);
      if (!u) throw notFound(id);
      return u;
    },
    // Graph shows no preview: actions run lean (their cost does not grow with the user's refresh tokens)
    ctx: { db: deps.db, secrets: deps.secrets, tenantId: deps.tenant.id, config: deps.config, lean: true },
  };
  return kit;
}

/** The keyset position a `$skiptoken` carries: the id after which (or the number before which) the page starts. */
export function skipAfter(q: Record<string, string>): string | undefined {
  if (q.$skiptoken === undefined) return undefined;
  const after = decodeSkipToken(q.$skiptoken).after;
  if (typeof after !== 'string') throw new GraphError(400, 'BadRequest', 'The $skiptoken is not valid.');
  return after;
}
export function skipBefore(q: Record<string, string>): number | undefined {
  if (q.$skiptoken === undefined) return undefined;
  const before = decodeSkipToken(q.$skiptoken).before;
  if (typeof before !== 'number' || !Number.isSafeInteger(before)) throw new GraphError(400, 'BadRequest', 'The $skiptoken is not valid.');
  return before;
}

/** A JSON object body with only the properties the route knows (`@odata.*` annotations always allowed). */
export function jsonBody(req: FastifyRequest, allowed: readonly string[], type: string): Record<string, unknown> {
  return objectOf(req.body, allowed, type, 'BadRequest', 'The request body must be a JSON object.');
}

/** A nested object property (e.g. `passwordProfile`) with only the properties its type has. */
export function nestedObject(v: unknown, name: string, allowed: readonly string[], type: string): Record<string, unknown> {
  return objectOf(v, allowed, type, 'Request_BadRequest', `Property '${name}' must be an object.`, false);
}

function objectOf(v: unknown, allowed: readonly string[], type: string, code: 'BadRequest' | 'Request_BadRequest', notObject: string, annotations = true): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new GraphError(400, code, notObject);
  for (const k of Object.keys(v)) {
    if (allowed.includes(k) || (annotations && k.startsWith('@odata.'))) continue;
    throw new GraphError(400, 'Request_BadRequest', annotations ? `Property '${k}' does not exist or cannot be set on type 'microsoft.graph.${type}'.` : `Property '${k}' does not exist on type 'microsoft.graph.${type}'.`);
  }
  return v as Record<string, unknown>;
}

/** A property that may be changed but never emptied, given null: refused as Graph refuses it. */
export function invalidValue(name: string, type = 'User'): never {
  throw new GraphError(400, 'Request_BadRequest', `Invalid value specified for property '${name}' of resource '${type}'.`);
}

/** A string property: bounded, no NUL nor lone surrogate; `nonEmpty` refuses blank values of required properties. */
export function str(v: unknown, name: string, opts: { required?: boolean; nonEmpty?: boolean; max?: number } = {}): string | undefined {
  if (v === undefined || v === null) {
    if (opts.required) throw new GraphError(400, 'Request_BadRequest', `Property '${name}' is required.`);
    return undefined;
  }
  if (typeof v !== 'string') throw new GraphError(400, 'Request_BadRequest', `Property '${name}' must be a string.`);
  if (opts.nonEmpty && !v.trim()) throw new GraphError(400, 'Request_BadRequest', `Property '${name}' must not be empty.`);
  if (v.length > (opts.max ?? 256) || v.includes('\0') || hasLoneSurrogate(v)) throw new GraphError(400, 'Request_BadRequest', `Property '${name}' is too long or contains a character that is not allowed.`);
  return v;
}

/** An SMTP address's parts: one `@`; a dot-atom local part without spaces, controls, format characters or specials; a dotted domain. */
const MAIL_LOCAL = /^[^\s\p{C}<>()[\]\\,;:"@.]+(?:\.[^\s\p{C}<>()[\]\\,;:"@.]+)*$/u;
const MAIL_LABEL = /^[\p{L}\p{M}\p{Nd}](?:[\p{L}\p{M}\p{Nd}-]{0,61}[\p{L}\p{M}\p{Nd}])?$/u;

/** Whether `v` is an SMTP address as Graph takes one for `mail` (IDN letters allowed in the domain, at most 254 characters). */
export function isMailAddress(v: string): boolean {
  const at = v.indexOf('@');
  if (v.length > 254 || at < 1 || at !== v.lastIndexOf('@')) return false;
  const labels = v.slice(at + 1).split('.');
  return at <= 64 && MAIL_LOCAL.test(v.slice(0, at)) && labels.length >= 2 && labels.every((l) => MAIL_LABEL.test(l));
}

/** An optional e-mail address property: a string naming an SMTP address, refused as Graph refuses another value. */
export function mailAddress(v: unknown, name: string, type = 'User'): string | undefined {
  if (typeof v === 'string' && !isMailAddress(v)) invalidValue(name, type);
  return str(v, name);
}

export function bool(v: unknown, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new GraphError(400, 'Request_BadRequest', `Property '${name}' must be a boolean.`);
  return v;
}

/** The object id an `@odata.id` reference names: any URL ending in /directoryObjects/{id} or /users/{id} (or the other kinds given). */
export function referencedId(body: Record<string, unknown>, kinds: readonly string[] = ['directoryObjects', 'users']): { kind: string; id: string } {
  const ref = body['@odata.id'];
  if (typeof ref !== 'string' || ref.length > 2048) throw new GraphError(400, 'Request_BadRequest', "The request body must contain '@odata.id' with the URL of a directory object.");
  let path: string;
  try {
    path = new URL(ref).pathname;
  } catch {
    path = ref.split(/[?#]/)[0]!;
  }
  const m = /\/([A-Za-z]+)\/([^/]+)\/?$/.exec(path);
  const kind = m && kinds.find((k) => k.toLowerCase() === m[1]!.toLowerCase());
  let id = '';
  try {
    id = m ? decodeURIComponent(m[2]!) : '';
  } catch {
    /* malformed percent-encoding: refused below */
  }
  if (!kind || !id || id.length > 256 || id.includes('\0')) throw new GraphError(400, 'Request_BadRequest', `Invalid '@odata.id' reference '${ref.slice(0, 200)}': expected a URL ending in ${kinds.map((k) => `/${k}/{id}`).join(' or ')}.`);
  return { kind, id };
}

/** Delegated callers also need one of these directory roles (apps are governed by their permissions). */
export const requireRole = checkAnyRole;

export const notFound = (id: string) => new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** A user by id or UPN (case-insensitive). */
export async function findUser(db: Db, tenantId: string, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where((eb) => eb.or([eb('id', '=', id), eb('upn_lower', '=', id.toLowerCase())])).executeTakeFirst();
}

/** Every refusal the routes and the admin actions raise, in Graph's terms (undefined: not a refusal). */
export function mapError(e: unknown): GraphError | undefined {
  if (e instanceof GraphError) return e;
  if (e instanceof ODataError) return new GraphError(400, e.code === 'Request_UnsupportedQuery' ? 'Request_UnsupportedQuery' : 'BadRequest', e.message);
  if (e instanceof ActionError) {
    switch (e.code) {
      case 'not_found':
        return new GraphError(404, 'Request_ResourceNotFound', e.message);
      case 'forbidden':
        return new GraphError(403, 'Authorization_RequestDenied', e.message);
      case 'stale':
        return new GraphError(412, 'PreconditionFailed', e.message);
      case 'invalid':
        return new GraphError(400, 'Request_BadRequest', e.message);
      case 'duplicate':
        return new GraphError(400, 'Request_MultipleObjectsWithSameKeyValue', e.message);
    }
  }
  return undefined;
}

/**
 * Graph's alternate keys in a path segment (`/servicePrincipals(appId='…')`, `/applications(appId='…')`) as a
 * path segment the router can match: `/servicePrincipals/appId=…` (quotes dropped, %27 accepted for them).
 * Called on the raw URL before routing; `alternateKey()` reads the segment back.
 */
export function rewriteAlternateKeys(url: string): string {
  if (!/^\/(v1\.0|beta)\//.test(url)) return url;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const out = path.replace(/\/([A-Za-z]+)\(([A-Za-z]+)=(?:'|%27)([^'/%]*)(?:'|%27)\)(?=\/|$)/g, '/$1/$2=$3');
  return q < 0 ? out : out + url.slice(q);
}

/** The key a path id names: `appId=…` (an alternate key, see rewriteAlternateKeys) or the object id. */
export function alternateKey(id: string): { appId: string } | { id: string } {
  return id.startsWith('appId=') ? { appId: id.slice('appId='.length) } : { id };
}
