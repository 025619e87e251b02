// Microsoft Graph query options ($filter, $select, $top, $skiptoken) for the directory collections
// (users, groups, role assignments, the logs): the parsed $filter (odata-filter.ts) translated to Kysely
// conditions, $select, $top and opaque $skiptoken positions.
//
// Only the subset Graph documents for users is accepted: eq, ne, in, startsWith, the relational
// operators on date-times, and, or, not, parentheses. Everything else (unknown properties, operators a
// property does not support, literals of the wrong type, lambdas, other functions, over-long or
// over-complex filters) throws ODataError, which the route turns into Graph's 400 response
// `{ error: { code, message } }`.
//
// Null semantics follow OData, not SQL: `mail ne 'x'` and `not(mail eq 'x')` are true for a user whose
// mail is null, `mail eq 'x'` is false. The translator pushes `not` down to the leaves (De Morgan) so
// that the SQL never relies on three-valued logic.
import crypto from 'node:crypto';
import { type Expression, type ExpressionBuilder, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import { type CompareOp, type FilterNode, type LeafBase, FILTER_LIMITS, bad, unsupported } from './odata-filter.js';

export { type CompareOp, type FieldMap, type FieldSpec, type FieldType, type FilterLiteral, type FilterNode, type FilterOp, type ODataErrorCode, FILTER_LIMITS, ODataError, parseDateTimeLiteral, parseFilter } from './odata-filter.js';

// ---------------------------------------------------------------------------------------------------
// Kysely translation

type Cond = Expression<SqlBool>;

/** `%`, `_` and the escape character itself are literal in a LIKE pattern escaped with '\'. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function col(leaf: LeafBase) {
  return leaf.caseInsensitive ? sql`lower(${sql.ref(leaf.column)})` : sql.ref(leaf.column);
}
function val(leaf: LeafBase, v: unknown) {
  // `cast(? as text)`: PostgreSQL cannot pick lower(text) for an untyped parameter on its own.
  return leaf.caseInsensitive ? sql`lower(cast(${v} as text))` : sql`${v}`;
}

const SQL_OP: Record<CompareOp, string> = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' };
const NEGATED: Record<CompareOp, CompareOp> = { eq: 'ne', ne: 'eq', gt: 'le', ge: 'lt', lt: 'ge', le: 'gt' };

function translate<DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>, node: FilterNode, negate: boolean): Cond {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const args = node.args.map((a) => translate(eb, a, negate));
      // De Morgan: not(a and b) = not a or not b.
      return (node.kind === 'and') !== negate ? eb.and(args) : eb.or(args);
    }
    case 'not':
      return translate(eb, node.arg, !negate);
    case 'compare': {
      const ref = sql.ref(node.column);
      if (node.value === null) {
        const isNull = (node.op === 'eq') !== negate;
        return isNull ? sql<SqlBool>`${ref} is null` : sql<SqlBool>`${ref} is not null`;
      }
      // OData: a null property is never eq/gt/ge/lt/le a value and always ne it. Negating a positive
      // comparison therefore has to let nulls through, and `ne` (or not eq) includes them.
      const op = negate ? NEGATED[node.op] : node.op;
      const cmp = sql<SqlBool>`${col(node)} ${sql.raw(SQL_OP[op])} ${val(node, node.value)}`;
      const nullIsTrue = (node.op === 'ne') !== negate; // ne, not(eq), not(gt) ...; but not(ne) is false
      return nullIsTrue ? sql<SqlBool>`(${ref} is null or ${cmp})` : cmp;
    }
    case 'in': {
      const list = sql.join(node.values.map((v) => val(node, v)));
      return negate
        ? sql<SqlBool>`(${sql.ref(node.column)} is null or ${col(node)} not in (${list}))`
        : sql<SqlBool>`${col(node)} in (${list})`;
    }
    case 'startsWith': {
      let cond: Cond;
      if (node.caseInsensitive) {
        cond = sql<SqlBool>`${col(node)} like ${val(node, `${escapeLike(node.value)}%`)} escape '\\'`;
      } else {
        // SQLite's LIKE ignores ASCII case, PostgreSQL's does not: compare the prefix exactly on both.
        const n = [...node.value].length;
        cond = sql<SqlBool>`substr(${sql.ref(node.column)}, 1, ${sql.lit(n)}) = ${node.value}`;
      }
      return negate ? sql<SqlBool>`(${sql.ref(node.column)} is null or not (${cond}))` : cond;
    }
  }
}

/** The filter as a Kysely condition (for callers that combine it with other conditions themselves). */
export function filterExpression<DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>, node: FilterNode): Expression<SqlBool> {
  return translate(eb, node, false);
}

/** Adds `where <filter>` to a select query; works on SQLite and PostgreSQL. */
export function applyFilter<DB, TB extends keyof DB, O>(qb: SelectQueryBuilder<DB, TB, O>, node: FilterNode): SelectQueryBuilder<DB, TB, O> {
  return qb.where((eb) => translate(eb, node, false));
}

// ---------------------------------------------------------------------------------------------------
// $select, $top

/**
 * Parses `$select=displayName,mail`: the canonical names (as spelled in `allowed`) in request order,
 * duplicates dropped; `*` selects all of `allowed`. Unknown or empty items throw ODataError.
 */
export function parseSelect(text: string, allowed: readonly string[]): string[] {
  if (text.length > FILTER_LIMITS.maxLength) throw bad(`The $select is too long: at most ${FILTER_LIMITS.maxLength} characters are supported.`);
  const byLower = new Map(allowed.map((a) => [a.toLowerCase(), a]));
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (!item) throw bad(`Invalid $select: '${text}' has an empty item.`);
    if (item === '*') {
      for (const a of allowed) if (!out.includes(a)) out.push(a);
      continue;
    }
    const name = byLower.get(item.toLowerCase());
    if (!name) {
      if (item.includes('/')) throw unsupported(`Invalid $select: property paths ('${item}') are not supported.`);
      throw bad(`Could not find a property named '${item}' for $select; selectable properties: ${allowed.join(', ')}.`);
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** Parses `$top`: an integer from 1 to `max` (Graph's page size limit for users is 999). */
export function parseTop(text: string, max = 999): number {
  const t = text.trim();
  const n = /^\d{1,10}$/.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) throw bad(`Invalid page size specified: '${text}'. Must be between 1 and ${max} inclusive.`);
  return n;
}

// ---------------------------------------------------------------------------------------------------
// $skiptoken

const SKIPTOKEN_MAX = 2048;
const B64URL = /^[A-Za-z0-9_-]+$/;

function checksum(payload: string): string {
  return crypto.createHash('sha256').update(`latchkey-skiptoken:${payload}`).digest('base64url').slice(0, 12);
}

/**
 * Encodes a paging position (for keyset paging, e.g. `{ id: lastId }`) as an opaque `$skiptoken`:
 * base64url JSON plus a checksum. The checksum catches corrupted or hand-edited tokens; it is not a
 * signature, so a token only ever carries positions a client could ask for anyway.
 */
export function encodeSkipToken(obj: Record<string, unknown>): string {
  const payload = JSON.stringify(obj);
  return `${Buffer.from(payload, 'utf8').toString('base64url')}.${checksum(payload)}`;
}

/** Decodes a `$skiptoken` from encodeSkipToken; anything malformed or altered throws ODataError. */
export function decodeSkipToken(token: string): Record<string, unknown> {
  const invalid = () => bad('Invalid $skiptoken: the token is malformed or was altered; use the @odata.nextLink as returned.');
  if (token.length > SKIPTOKEN_MAX) throw invalid();
  const [body, sum, ...rest] = token.split('.');
  if (rest.length || !body || !sum || !B64URL.test(body)) throw invalid();
  const buf = Buffer.from(body, 'base64url');
  if (buf.toString('base64url') !== body) throw invalid(); // non-canonical base64
  const payload = buf.toString('utf8');
  if (Buffer.from(payload, 'utf8').compare(buf) !== 0) throw invalid(); // not UTF-8
  const expected = checksum(payload);
  if (sum.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(sum), Buffer.from(expected))) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    throw invalid();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid();
  return value as Record<string, unknown>;
}

/**
 * `@odata.nextLink` for the page after this one: the request URL with `$skiptoken` replaced and the
 * other query options kept.
 */
export function nextLink(requestUrl: string | URL, skipToken: string): string {
  const u = new URL(requestUrl);
  u.searchParams.delete('$skiptoken');
  u.searchParams.set('$skiptoken', skipToken);
  return u.toString();
}
