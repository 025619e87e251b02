// Graph /auditLogs: directoryAudits (from audit_log) and signIns (from signin_log, D11), newest first, with
// $filter, $top and @odata.nextLink paging. The filters Graph documents with property paths
// (`initiatedBy/user/id`, `status/errorCode`) and the one lambda form `targetResources/any(t: t/id eq '...')`
// are rewritten to private property names before the shared parser sees them, and translated here.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Expression, type ExpressionBuilder, type Selectable, type SqlBool, sql } from 'kysely';
import type { Actor } from '../admin/actor.js';
import { ROLES } from '../admin/roles.js';
import { refusals } from '../protocol/errors.js';
import { strategy } from '../methods/index.js';
import type { AuditLogTable as AuditLogRow, Database, SigninLogTable as SigninLogRow } from '../storage/schema.js';

type AuditLogTable = Selectable<AuditLogRow>;
type SigninLogTable = Selectable<SigninLogRow>;
import { requirePermission } from './auth.js';
import { notFound, requireRole, routeKit, skipBefore } from './kit.js';
import type { GraphDeps } from './index.js';
import { type FieldMap, type FilterNode, ODataError, filterExpression, parseFilter } from './odata.js';

const LOG_DELEGATED = ['AuditLog.Read.All'];
const LOG_APP = ['AuditLog.Read.All'];
/** Directory roles that may read the audit and sign-in logs (delegated callers need one). */
export const LOG_READER_ROLES = [ROLES.globalAdmin, ROLES.globalReader, ROLES.reportsReader, 'Security Administrator', 'Security Operator', 'Security Reader'];

// ---------------------------------------------------------------------------------------------------
// Filter rewriting: Graph's property paths and lambda → private names the shared parser accepts

interface Rewrite {
  re: RegExp; // sticky
  to: (m: RegExpExecArray) => string;
  /** the private name and how to show it in error messages */
  alias: string;
  shown: string;
}

function rewriteFilter(text: string, rules: readonly Rewrite[]): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'") {
      // a string literal is copied as is ('' is an escaped quote); an unterminated one is the parser's error
      let j = i + 1;
      while (j < text.length) {
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            j += 2;
            continue;
          }
          j++;
          break;
        }
        j++;
      }
      out += text.slice(i, j);
      i = j;
      continue;
    }
    let matched = false;
    if (i === 0 || !/[\w/]/.test(text[i - 1]!)) {
      for (const r of rules) {
        r.re.lastIndex = i;
        const m = r.re.exec(text);
        if (m) {
          out += r.to(m);
          i += m[0].length;
          matched = true;
          break;
        }
      }
    }
    if (!matched) {
      out += c;
      i++;
    }
  }
  return out;
}

function parseRewritten(text: string, fields: FieldMap, rules: readonly Rewrite[]): FilterNode {
  try {
    return parseFilter(rewriteFilter(text, rules), fields);
  } catch (e) {
    if (!(e instanceof ODataError)) throw e;
    let msg = e.message;
    for (const r of rules) msg = msg.replaceAll(r.alias, r.shown);
    throw new ODataError(e.code, msg);
  }
}

type Special<DB, TB extends keyof DB> = (eb: ExpressionBuilder<DB, TB>, value: unknown) => Expression<SqlBool>;

/**
 * The filter as a condition: ordinary leaves through the shared translator (negations pushed down to it),
 * private ones through `specials`, whose conditions are never NULL, so `not` around them is exact.
 */
function translate<DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>, node: FilterNode, specials: Record<string, Special<DB, TB>>, negate = false): Expression<SqlBool> {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const args = node.args.map((a) => translate(eb, a, specials, negate));
      return (node.kind === 'and') !== negate ? eb.and(args) : eb.or(args);
    }
    case 'not':
      return translate(eb, node.arg, specials, !negate);
    default: {
      const special = specials[node.property];
      if (special) {
        if (node.kind !== 'compare' || node.value === null || (node.op !== 'eq' && node.op !== 'ne')) throw new ODataError('Request_UnsupportedQuery', `Only 'eq' with a value is supported for this property in $filter.`);
        const cond = special(eb, node.value);
        return (node.op === 'ne') !== negate ? sql<SqlBool>`not (${cond})` : cond;
      }
      return filterExpression(eb, negate ? { kind: 'not', arg: node } : node);
    }
  }
}

const lit = (v: unknown) => sql`${v}`;

// ---------------------------------------------------------------------------------------------------
// directoryAudits

const AUDIT_RULES: Rewrite[] = [
  { re: /targetResources\/any\(\s*([A-Za-z_]\w*)\s*:\s*\1\/id\s+eq\s+('(?:[^']|'')*')\s*\)/iy, to: (m) => `__targetResourceId eq ${m[2]}`, alias: '__targetResourceId', shown: 'targetResources/any(t: t/id)' },
  { re: /targetResources\/any\(\s*([A-Za-z_]\w*)\s*:\s*\1\/userPrincipalName\s+eq\s+('(?:[^']|'')*')\s*\)/iy, to: (m) => `__targetResourceUpn eq ${m[2]}`, alias: '__targetResourceUpn', shown: 'targetResources/any(t: t/userPrincipalName)' },
  { re: /initiatedBy\/user\/id(?![\w/])/iy, to: () => '__initiatedByUserId', alias: '__initiatedByUserId', shown: 'initiatedBy/user/id' },
  { re: /initiatedBy\/user\/userPrincipalName(?![\w/])/iy, to: () => '__initiatedByUserUpn', alias: '__initiatedByUserUpn', shown: 'initiatedBy/user/userPrincipalName' },
  { re: /initiatedBy\/app\/appId(?![\w/])/iy, to: () => '__initiatedByAppId', alias: '__initiatedByAppId', shown: 'initiatedBy/app/appId' },
];

const AUDIT_FIELDS: FieldMap = {
  activityDateTime: { column: 'at', type: 'datetime', ops: ['eq', 'ne', 'ge', 'le', 'gt', 'lt'] },
  activityDisplayName: { column: 'activity', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  category: { column: 'category', type: 'string', ops: ['eq', 'ne', 'in'], caseInsensitive: true },
  loggedByService: { column: 'service', type: 'string', ops: ['eq', 'ne', 'in'], caseInsensitive: true },
  operationType: { column: 'operation_type', type: 'string', ops: ['eq', 'ne', 'in'], caseInsensitive: true },
  result: { column: 'result', type: 'string', ops: ['eq', 'ne'], caseInsensitive: true },
  correlationId: { column: 'correlation_id', type: 'guid', ops: ['eq', 'ne', 'in'] },
  __initiatedByUserId: { column: 'actor_id', type: 'guid', ops: ['eq', 'ne'] },
  __initiatedByUserUpn: { column: 'actor_id', type: 'string', ops: ['eq', 'ne'] },
  __initiatedByAppId: { column: 'actor_id', type: 'guid', ops: ['eq', 'ne'] },
  __targetResourceId: { column: 'target_id', type: 'guid', ops: ['eq'] },
  __targetResourceUpn: { column: 'target_name', type: 'string', ops: ['eq'] },
};

type AuditEb = ExpressionBuilder<Database, 'audit_log'>;
const AUDIT_SPECIALS: Record<string, Special<Database, 'audit_log'>> = {
  __initiatedByUserId: (eb: AuditEb, v) => eb.and([eb('actor_type', '=', 'user'), eb('actor_id', '=', String(v))]),
  __initiatedByAppId: (eb: AuditEb, v) => eb.and([eb('actor_type', '=', 'app'), eb('actor_id', '=', String(v))]),
  __initiatedByUserUpn: (eb: AuditEb, v) => eb.and([eb('actor_type', '=', 'user'), eb('actor_id', 'in', eb.selectFrom('users').select('users.id').where('users.upn_lower', '=', String(v).toLowerCase()))]),
  // the target itself, or an object the change names by id (the group of a membership, the role)
  __targetResourceId: (eb: AuditEb, v) => eb.or([eb.and([eb('target_id', 'is not', null), eb('target_id', '=', String(v))]), sql<SqlBool>`${sql.ref('modified')} like ${lit(`%"${String(v)}"%`)}`]),
  __targetResourceUpn: (eb: AuditEb, v) => eb.and([eb('target_name', 'is not', null), sql<SqlBool>`lower(${sql.ref('target_name')}) = ${lit(String(v).toLowerCase())}`]),
};

const GROUP_ACTIVITIES = new Set(['Add group', 'Delete group', 'Update group', 'Hard Delete group', 'Restore group']);

function modifiedOf(r: AuditLogTable): { displayName: string; oldValue: string | null; newValue: string | null }[] {
  try {
    const v = JSON.parse(r.modified) as unknown;
    return Array.isArray(v) ? (v as { displayName: string; oldValue: string | null; newValue: string | null }[]) : [];
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------------
// signIns

const SIGNIN_RULES: Rewrite[] = [
  // errorCode is an integer; the shared parser has no number type, so the literal becomes a string
  { re: /status\/errorCode\s+(eq|ne)\s+(\d{1,10})(?![\w.])/iy, to: (m) => `__statusErrorCode ${m[1]} '${m[2]}'`, alias: '__statusErrorCode', shown: 'status/errorCode' },
  { re: /status\/errorCode(?![\w/])/iy, to: () => '__statusErrorCode', alias: '__statusErrorCode', shown: 'status/errorCode' },
];

const SIGNIN_FIELDS: FieldMap = {
  createdDateTime: { column: 'at', type: 'datetime', ops: ['eq', 'ne', 'ge', 'le', 'gt', 'lt'] },
  userId: { column: 'user_id', type: 'guid', ops: ['eq', 'ne', 'in'] },
  userPrincipalName: { column: 'user_name', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  appId: { column: 'app_id', type: 'string', ops: ['eq', 'ne', 'in'], caseInsensitive: true },
  ipAddress: { column: 'ip', type: 'string', ops: ['eq', 'ne', 'startsWith'] },
  isInteractive: { column: 'interactive', type: 'boolean', ops: ['eq', 'ne'] },
  __statusErrorCode: { column: 'error_code', type: 'string', ops: ['eq', 'ne'] },
};

type SigninEb = ExpressionBuilder<Database, 'signin_log'>;
const SIGNIN_SPECIALS: Record<string, Special<Database, 'signin_log'>> = {
  __statusErrorCode: (eb: SigninEb, v) => {
    if (typeof v !== 'string' || !/^\d{1,10}$/.test(v)) throw new ODataError('BadRequest', `Invalid filter clause: status/errorCode must be compared with an integer, found '${String(v)}'.`);
    const code = Number(v);
    // Entra's errorCode 0 is success
    return code === 0 ? eb('status', '=', 'success') : eb.and([eb('error_code', 'is not', null), eb('error_code', '=', code)]);
  },
};

/** Entra's failure reasons for the codes the sign-in pages log; refusals carry their own message. */
const FAILURE_REASONS: Record<number, string> = {
  50034: 'The user account does not exist in the directory.',
  50053: 'Account is locked because user tried to sign in too many times with an incorrect user ID or password.',
  50057: 'User account is disabled. The account has been disabled by an administrator.',
  50126: 'Error validating credentials due to invalid username or password.',
};

const AMR_METHODS: Record<string, string> = {
  pwd: 'Password',
  otp: 'OATH verification code',
  sms: 'Text message',
  tel: 'Phone call',
  fido: 'FIDO2 security key',
  hwk: 'FIDO2 security key',
  swk: 'Passkey (Microsoft Authenticator)',
  wia: 'Windows Hello for Business',
  tap: 'Temporary Access Pass',
};

/** Each step's method as the sign-in recorded it (D22), when it did. */
function parseMethods(json: string | null | undefined): string[] {
  try {
    const v = json ? (JSON.parse(json) as unknown) : [];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function authenticationDetails(r: SigninLogTable, at: string): Record<string, unknown>[] {
  let amr: string[] = [];
  try {
    const v = r.amr ? (JSON.parse(r.amr) as unknown) : [];
    if (Array.isArray(v)) amr = v.filter((x): x is string => typeof x === 'string');
  } catch {
    /* unknown */
  }
  const step = (method: string, succeeded: boolean, detail: string, requirement = 'Primary authentication') => ({
    authenticationStepDateTime: at,
    authenticationMethod: method,
    authenticationMethodDetail: method === 'Password' ? 'Password in the cloud' : null,
    succeeded,
    authenticationStepResultDetail: detail,
    authenticationStepRequirement: requirement,
  });
  if (r.status === 'failure') return r.error_code === 50126 ? [step('Password', false, 'Invalid username or password or Invalid on-premise username or password.')] : [];
  if (!r.interactive && r.status === 'success' && r.aggregate_key) {
    // a refresh: the token's claims satisfied the requirements
    const out = [step('Previously satisfied', true, 'First factor requirement satisfied by claim in the token')];
    if (amr.includes('mfa')) out.push(step('Previously satisfied', true, 'MFA requirement satisfied by claim in the token', 'MFA'));
    return out;
  }
  const steps = parseMethods(r.methods);
  if (steps.length) {
    return steps.map((m, i) => step(m === 'previouslySatisfied' ? 'Previously satisfied' : (strategy(m)?.logName ?? m), true, m === 'password' ? 'Correct password' : i === 0 ? 'First factor requirement satisfied' : 'MFA successfully completed', i === 0 ? 'Primary authentication' : 'MFA'));
  }
  const methods = amr.filter((m) => m !== 'mfa');
  return methods.map((m, i) => step(AMR_METHODS[m] ?? m, true, m === 'pwd' ? 'Correct password' : 'MFA successfully completed', i === 0 ? 'Primary authentication' : 'MFA'));
}

// ---------------------------------------------------------------------------------------------------
// Routes

export function registerLogRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const kit = routeKit(deps);
  const { guarded, base } = kit;
  const beta = (req: FastifyRequest) => req.url.startsWith('/beta');

  const requireReader = (actor: Actor) => {
    requirePermission(actor, LOG_DELEGATED, LOG_APP);
    requireRole(actor, LOG_READER_ROLES, 'reading the audit and sign-in logs');
  };

  // --- directoryAudits ---
  const auditShape = async (rows: AuditLogTable[]) => {
    const userIds = [...new Set(rows.flatMap((r) => [r.actor_type === 'user' ? r.actor_id : null, r.target_id]).filter((x): x is string => !!x && x !== 'system'))];
    const users = new Map((userIds.length ? await db.selectFrom('users').select(['id', 'upn', 'display_name']).where('id', 'in', userIds).execute() : []).map((u) => [u.id, u]));
    const targetIds = [...new Set(rows.map((r) => r.target_id).filter((x): x is string => !!x))];
    const apps = new Set((targetIds.length ? await db.selectFrom('apps').select('id').where('id', 'in', targetIds).execute() : []).map((a) => a.id));
    return rows.map((r) => {
      const modified = modifiedOf(r);
      const named = (key: string) => modified.find((m) => m.displayName === key);
      const actorUser = r.actor_type === 'user' ? users.get(r.actor_id) : undefined;
      const initiatedBy =
        r.actor_type === 'app'
          ? { user: null, app: { appId: r.actor_id, displayName: r.actor_name, servicePrincipalId: r.actor_id, servicePrincipalName: r.actor_name } }
          : { user: { id: r.actor_id === 'system' ? null : r.actor_id, displayName: r.actor_name, userPrincipalName: actorUser?.upn ?? null, ipAddress: null }, app: null };
      const targets: Record<string, unknown>[] = [];
      if (r.target_id) {
        const type = GROUP_ACTIVITIES.has(r.activity) ? 'Group' : apps.has(r.target_id) ? 'ServicePrincipal' : 'User';
        targets.push({
          id: r.target_id,
          displayName: type === 'User' ? (users.get(r.target_id)?.display_name ?? null) : r.target_name,
          type,
          userPrincipalName: type === 'User' ? r.target_name : null,
          groupType: type === 'Group' ? 'azureAD' : null,
          modifiedProperties: modified,
        });
      }
      // the other object a membership change is about (Entra lists it as a second target)
      const group = named('Group.ObjectID');
      const role = named('Role.TemplateId');
      if (group) targets.push({ id: group.newValue ?? group.oldValue, displayName: named('Group.DisplayName')?.newValue ?? named('Group.DisplayName')?.oldValue ?? null, type: 'Group', userPrincipalName: null, groupType: 'azureAD', modifiedProperties: [] });
      if (role) targets.push({ id: role.newValue ?? role.oldValue, displayName: named('Role.DisplayName')?.newValue ?? named('Role.DisplayName')?.oldValue ?? null, type: 'Role', userPrincipalName: null, groupType: null, modifiedProperties: [] });
      return {
        id: `Directory_${r.id}`,
        category: r.category,
        correlationId: r.correlation_id,
        result: r.result,
        resultReason: r.result_reason ?? '',
        activityDisplayName: r.activity,
        activityDateTime: new Date(r.at).toISOString(),
        loggedByService: r.service,
        operationType: r.operation_type,
        initiatedBy,
        targetResources: targets,
        additionalDetails: [],
      };
    });
  };

  scope.get('/auditLogs/directoryAudits', guarded(async (req, reply, actor) => {
    requireReader(actor);
    const q = kit.query(req, ['$filter', '$top', '$skiptoken'], 'directoryAudits');
    const top = kit.top(q);
    let qb = db.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenant.id);
    if (q.$filter !== undefined) {
      const node = parseRewritten(q.$filter, AUDIT_FIELDS, AUDIT_RULES);
      qb = qb.where((eb) => translate(eb, node, AUDIT_SPECIALS));
    }
    const before = skipBefore(q);
    if (before !== undefined) qb = qb.where('id', '<', before);
    const rows = await qb.orderBy('id', 'desc').limit(top + 1).execute();
    return reply.send(await kit.page(req, q, rows, top, { context: 'auditLogs/directoryAudits', shape: (page) => auditShape(page), position: (r) => ({ before: Number(r.id) }) }));
  }));

  scope.get('/auditLogs/directoryAudits/:id', guarded(async (req, reply, actor) => {
    requireReader(actor);
    kit.query(req, [], 'directoryAudits');
    const raw = kit.id((req.params as { id: string }).id);
    const m = /^Directory_(\d{1,15})$/.exec(raw);
    const row = m ? await db.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', Number(m[1])).executeTakeFirst() : undefined;
    if (!row) throw notFound(raw);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#auditLogs/directoryAudits/$entity`, ...(await auditShape([row]))[0] });
  }));

  // --- signIns ---
  const signinShape = async (req: FastifyRequest, rows: SigninLogTable[]) => {
    const userIds = [...new Set(rows.map((r) => r.user_id).filter((x): x is string => !!x))];
    const users = new Map((userIds.length ? await db.selectFrom('users').select(['id', 'upn', 'display_name']).where('id', 'in', userIds).execute() : []).map((u) => [u.id, u]));
    const appIds = [...new Set(rows.map((r) => r.app_id).filter((x): x is string => !!x))];
    const apps = new Map((appIds.length ? await db.selectFrom('apps').select(['id', 'display_name']).where('id', 'in', appIds).execute() : []).map((a) => [a.id, a.display_name]));
    return rows.map((r) => {
      const at = new Date(r.at).toISOString();
      const u = r.user_id ? users.get(r.user_id) : undefined;
      const refusal = r.reason && Object.hasOwn(refusals, r.reason) ? refusals[r.reason as keyof typeof refusals] : undefined;
      const failureReason = r.status === 'success' ? null : (refusal?.message ?? (r.error_code !== null ? FAILURE_REASONS[r.error_code] : undefined) ?? r.reason ?? 'Other.');
      return {
        id: String(r.id),
        createdDateTime: at,
        userDisplayName: u?.display_name ?? null,
        userPrincipalName: r.user_name ?? u?.upn ?? null,
        userId: r.user_id,
        appId: r.app_id,
        appDisplayName: r.app_id ? (apps.get(r.app_id) ?? null) : null,
        ipAddress: r.ip,
        clientAppUsed: r.interactive ? 'Browser' : 'Mobile Apps and Desktop clients',
        correlationId: null,
        isInteractive: r.interactive === 1,
        ...(beta(req) ? { signInEventTypes: [r.interactive ? 'interactiveUser' : 'nonInteractiveUser'], userAgent: r.user_agent } : {}),
        resourceDisplayName: null,
        resourceId: null,
        status: { errorCode: r.status === 'success' ? 0 : (r.error_code ?? 0), failureReason, additionalDetails: r.status === 'success' ? null : r.reason },
        authenticationDetails: authenticationDetails(r, at),
        conditionalAccessStatus: 'notApplied',
        appliedConditionalAccessPolicies: [],
        riskDetail: 'none',
        riskLevelAggregated: 'none',
        riskLevelDuringSignIn: 'none',
        riskState: 'none',
        riskEventTypes_v2: [],
        location: null,
      };
    });
  };

  scope.get('/auditLogs/signIns', guarded(async (req, reply, actor) => {
    requireReader(actor);
    const q = kit.query(req, ['$filter', '$top', '$skiptoken'], 'signIns');
    const top = kit.top(q);
    let qb = db.selectFrom('signin_log').selectAll().where('tenant_id', '=', tenant.id);
    if (q.$filter !== undefined) {
      const node = parseRewritten(q.$filter, SIGNIN_FIELDS, SIGNIN_RULES);
      qb = qb.where((eb) => translate(eb, node, SIGNIN_SPECIALS));
    }
    const before = skipBefore(q);
    if (before !== undefined) qb = qb.where('id', '<', before);
    const rows = await qb.orderBy('id', 'desc').limit(top + 1).execute();
    return reply.send(await kit.page(req, q, rows, top, { context: 'auditLogs/signIns', shape: (page) => signinShape(req, page), position: (r) => ({ before: Number(r.id) }) }));
  }));

  scope.get('/auditLogs/signIns/:id', guarded(async (req, reply, actor) => {
    requireReader(actor);
    kit.query(req, [], 'signIns');
    const raw = kit.id((req.params as { id: string }).id);
    const row = /^\d{1,15}$/.test(raw) ? await db.selectFrom('signin_log').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', Number(raw)).executeTakeFirst() : undefined;
    if (!row) throw notFound(raw);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#auditLogs/signIns/$entity`, ...(await signinShape(req, [row]))[0] });
  }));
}
