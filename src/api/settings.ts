// /latchkey/v1/tenant/settings: the tenant settings kept in the database (src/directory/settings.ts).
// Read by policy readers; changed by a Global Administrator or an Authentication Policy Administrator
// (or an app with Policy.ReadWrite.AuthenticationMethod), audited with the event in the same transaction.
// A bad value is a 400 naming the property, and nothing is changed. /latchkey/v1/tenant/actions says which
// tenant-wide changes (methods policy, security defaults, these settings) the caller may make, and why not.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ActionError } from '../admin/action.js';
import type { Actor } from '../admin/actor.js';
import { type InputSchema, parseInput } from '../admin/registry.js';
import { ROLES } from '../admin/roles.js';
import { type TenantSettings, rememberTenantSettings, tenantSettings, writeTenantSettings } from '../directory/settings.js';
import { writeAudit } from '../events/audit.js';
import { enqueue } from '../events/outbox.js';
import { authenticate, requirePermission } from '../graph/auth.js';
import { GraphError } from '../graph/errors.js';
import type { GraphDeps } from '../graph/index.js';
import { checkSecurityDefaultsWrite } from '../graph/methods.js';
import { checkPolicyWrite } from '../admin/actions/update-methods-policy.js';
import { checkQuery, judged, objectBody } from './routes.js';

const READ_DELEGATED = ['Policy.Read.All', 'Policy.ReadWrite.AuthenticationMethod', 'Directory.Read.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
const READ_APP = ['Policy.Read.All', 'Policy.ReadWrite.AuthenticationMethod'];
const WRITE_DELEGATED = ['Policy.ReadWrite.AuthenticationMethod', 'Directory.AccessAsUser.All'];
const WRITE_APP = ['Policy.ReadWrite.AuthenticationMethod'];
const READ_ROLES: readonly string[] = [ROLES.globalAdmin, ROLES.authPolicyAdmin, ROLES.privilegedAuthAdmin, ROLES.authAdmin, ROLES.globalReader];
const WRITE_ROLES: readonly string[] = [ROLES.globalAdmin, ROLES.authPolicyAdmin];

/** The settings on the wire (camelCase) and the columns they are kept in. */
const FIELDS = {
  rememberMfaDays: 'remember_mfa_days',
  registrationPolicy: 'registration_policy',
  wrongCodeLimit: 'wrong_code_limit',
} as const satisfies Record<string, keyof TenantSettings>;

export const SETTINGS_INPUT: InputSchema = {
  rememberMfaDays: { type: 'integer', min: 1, max: 365, description: 'Days a "remember MFA on this device" choice lasts.' },
  registrationPolicy: { type: 'string', values: ['anywhere', 'mfaOrTap'], description: 'Who may register security info: anywhere, or only after MFA or with a Temporary Access Pass (spec §8).' },
  wrongCodeLimit: { type: 'integer', min: 1, max: 100, description: 'Wrong one-time codes per user and method in the window before the method is refused (spec §9).' },
};

function view(s: TenantSettings) {
  return {
    rememberMfaDays: s.remember_mfa_days,
    registrationPolicy: s.registration_policy,
    wrongCodeLimit: s.wrong_code_limit,
    // read-only here: Graph's /policies/identitySecurityDefaultsEnforcementPolicy (D18)
    securityDefaultsEnabled: s.security_defaults === 1,
    lastModifiedDateTime: s.updated_at ? new Date(s.updated_at).toISOString() : null,
  };
}

function requireRole(actor: Actor, roles: readonly string[], what: string): void {
  if (actor.kind !== 'user' || actor.roles.some((r) => roles.includes(r))) return;
  throw new GraphError(403, 'Authorization_RequestDenied', `Insufficient privileges to ${what}: a directory role among ${roles.join(', ')} is required.`);
}

function checkSettingsWrite(actor: Actor): void {
  requirePermission(actor, WRITE_DELEGATED, WRITE_APP);
  requireRole(actor, WRITE_ROLES, 'change the tenant settings');
}

/** The tenant-wide changes a caller may ask for, each judged by the check its own route makes first. */
const TENANT_ACTIONS = [
  { name: 'updateMethodsPolicy', summary: "Change the authentication methods policy (Graph's /policies/authenticationMethodsPolicy).", check: checkPolicyWrite },
  { name: 'updateSecurityDefaults', summary: "Switch security defaults (Graph's /policies/identitySecurityDefaultsEnforcementPolicy).", check: checkSecurityDefaultsWrite },
  { name: 'updateTenantSettings', summary: 'Change the tenant settings (PATCH /latchkey/v1/tenant/settings).', check: checkSettingsWrite },
] as const;

export function registerSettingsRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const guarded = (handler: (req: FastifyRequest, reply: FastifyReply, actor: Actor) => Promise<unknown>) => async (req: FastifyRequest, reply: FastifyReply) => handler(req, reply, await authenticate(req, db, deps.verify));

  scope.get('/tenant/settings', guarded(async (req, reply, actor) => {
    checkQuery(req, []);
    requirePermission(actor, READ_DELEGATED, READ_APP);
    requireRole(actor, READ_ROLES, 'read the tenant settings');
    return reply.send(view(await tenantSettings(db, tenant.id)));
  }));

  // what the caller may change tenant-wide, with the refusal the change itself would give
  scope.get('/tenant/actions', guarded(async (req, reply, actor) => {
    checkQuery(req, []);
    return reply.send({ value: judged(TENANT_ACTIONS, actor) });
  }));

  scope.patch('/tenant/settings', guarded(async (req, reply, actor) => {
    checkQuery(req, []);
    checkSettingsWrite(actor);
    const body = objectBody(req);
    if ('securityDefaultsEnabled' in body) throw new ActionError('invalid', "Property 'securityDefaultsEnabled' is read-only here: use Graph's /policies/identitySecurityDefaultsEnforcementPolicy.");
    // every setting always has a value: null would be read as "not given" and the rest applied
    const nulled = Object.keys(body).find((k) => body[k] === null && Object.hasOwn(SETTINGS_INPUT, k));
    if (nulled) throw new ActionError('invalid', `Property '${nulled}' cannot be null: every tenant setting has a value.`);
    const input = parseInput(SETTINGS_INPUT, body);
    if (!Object.keys(input).length) throw new ActionError('invalid', `The request body has no setting to change (settings: ${Object.keys(SETTINGS_INPUT).join(', ')}).`);
    const saved = await db.transaction().execute(async (trx) => {
      const before = await tenantSettings(trx, tenant.id);
      const now = Date.now();
      const after: TenantSettings = { ...before, updated_at: Math.max(now, before.updated_at + 1) };
      const modified = [];
      for (const [wire, column] of Object.entries(FIELDS)) {
        if (input[wire] === undefined) continue;
        Object.assign(after, { [column]: input[wire] });
        modified.push({ displayName: wire, oldValue: String(before[column]), newValue: String(input[wire]) });
      }
      await writeTenantSettings(trx, after);
      await writeAudit(trx, tenant.id, { activity: 'Update tenant settings', category: 'Policy', service: 'Latchkey', operationType: 'Update', actor, target: { id: tenant.id, name: tenant.domain }, modified, at: now });
      await enqueue(trx, tenant.id, 'tenant.settings.updated', { changed: modified.map((m) => m.displayName) }, now);
      return after;
    });
    rememberTenantSettings(db, saved);
    return reply.send(view(saved));
  }));
}
