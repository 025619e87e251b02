// What a change to the authentication methods policy may say (spec §7; Graph's PATCH bodies of
// authenticationMethodsPolicy and of each authenticationMethodConfiguration): every property checked for
// its type and range, groups checked to exist, the TAP lifetimes checked against each other. A refusal is
// ActionError('invalid') naming the field; the result is the whole new configuration, nothing written.
import { ALL_USERS, CONFIG_TYPES, type ConfigId, type MethodConfig, type MethodsPolicyDoc, type PolicyTarget, type SystemCredentialPreferences, systemCredentialPreferencesOf } from '../methods/policy.js';
import type { Db } from '../storage/db.js';
import { ActionError } from './action.js';

type Check = (v: unknown, name: string) => unknown;

const invalid = (message: string) => new ActionError('invalid', message);

const bool: Check = (v, name) => {
  if (typeof v !== 'boolean') throw invalid(`Property '${name}' must be a boolean.`);
  return v;
};
const oneOf = (...values: string[]): Check => (v, name) => {
  if (typeof v !== 'string' || !values.includes(v)) throw invalid(`Property '${name}' must be one of ${values.join(', ')}.`);
  return v;
};
const int = (min: number, max: number): Check => (v, name) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(`Property '${name}' must be a whole number from ${min} to ${max}.`);
  return v;
};
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_TARGETS = 100;

function object(v: unknown, name: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`Property '${name}' must be an object.`);
  for (const k of Object.keys(v)) if (!allowed.includes(k) && k !== '@odata.type') throw invalid(`Property '${name}.${k}' does not exist (known: ${allowed.join(', ')}).`);
  return v as Record<string, unknown>;
}

function idString(v: unknown, name: string): string {
  if (typeof v !== 'string' || !v || v.length > 256 || v.includes('\0')) throw invalid(`Property '${name}' must be a group id.`);
  return v;
}

const keyRestrictions = (current: unknown): Check => (v, name) => {
  const o = object(v, name, ['isEnforced', 'enforcementType', 'aaGuids']);
  const out = { ...(current as Record<string, unknown>) };
  if (o.isEnforced !== undefined) out.isEnforced = bool(o.isEnforced, `${name}.isEnforced`);
  if (o.enforcementType !== undefined) out.enforcementType = oneOf('allow', 'block')(o.enforcementType, `${name}.enforcementType`);
  if (o.aaGuids !== undefined) {
    if (!Array.isArray(o.aaGuids) || o.aaGuids.length > MAX_TARGETS) throw invalid(`Property '${name}.aaGuids' must be a list of at most ${MAX_TARGETS} AAGUIDs.`);
    out.aaGuids = o.aaGuids.map((g, i) => {
      if (typeof g !== 'string' || !GUID.test(g)) throw invalid(`Property '${name}.aaGuids[${i}]' must be an AAGUID (a GUID).`);
      return g.toLowerCase();
    });
  }
  return out;
};

/** The configuration's own settings, beside state and targets (Graph v1.0 and beta). */
function settingsOf(id: ConfigId, current: MethodConfig): Record<string, Check> {
  const lifetime = int(10, 43_200);
  switch (id) {
    case 'Fido2':
      return { isAttestationEnforced: bool, isSelfServiceRegistrationAllowed: bool, keyRestrictions: keyRestrictions(current.keyRestrictions) };
    case 'MicrosoftAuthenticator':
      return { isSoftwareOathEnabled: bool, featureSettings: featureSettings(current.featureSettings) };
    case 'Voice':
      return { isOfficePhoneAllowed: bool };
    case 'Email':
      return { allowExternalIdToUseEmailOtp: oneOf('default', 'enabled', 'disabled') };
    case 'TemporaryAccessPass':
      return { defaultLifetimeInMinutes: lifetime, minimumLifetimeInMinutes: lifetime, maximumLifetimeInMinutes: lifetime, defaultLength: int(8, 48), isUsableOnce: bool };
    default:
      return {};
  }
}

/** Settings an include target of this configuration carries beside id and targetType. */
const TARGET_SETTINGS: Partial<Record<ConfigId, Record<string, Check>>> = {
  MicrosoftAuthenticator: { authenticationMode: oneOf('any', 'push', 'deviceBasedPush') },
  Sms: { isUsableForSignIn: bool },
};
const TARGET_DEFAULTS: Partial<Record<ConfigId, Record<string, unknown>>> = {
  MicrosoftAuthenticator: { authenticationMode: 'any' },
  Sms: { isUsableForSignIn: true },
};

const FEATURE_SETTINGS = ['displayAppInformationRequiredState', 'displayLocationInformationRequiredState'];

function featureSettings(current: unknown): Check {
  return (v, name) => {
    const o = object(v, name, FEATURE_SETTINGS);
    const out = { ...(current as Record<string, unknown>) };
    for (const key of FEATURE_SETTINGS) {
      if (o[key] === undefined) continue;
      const f = object(o[key], `${name}.${key}`, ['state', 'includeTarget', 'excludeTarget']);
      const one = (t: unknown, n: string) => {
        const x = object(t, n, ['targetType', 'id']);
        oneOf('group')(x.targetType, `${n}.targetType`);
        return { targetType: 'group', id: idString(x.id, `${n}.id`) };
      };
      const was = (out[key] ?? {}) as Record<string, unknown>;
      out[key] = {
        state: f.state === undefined ? was.state : oneOf('default', 'enabled', 'disabled')(f.state, `${name}.${key}.state`),
        includeTarget: f.includeTarget === undefined ? was.includeTarget : one(f.includeTarget, `${name}.${key}.includeTarget`),
        excludeTarget: f.excludeTarget === undefined ? was.excludeTarget : one(f.excludeTarget, `${name}.${key}.excludeTarget`),
      };
    }
    return out;
  };
}

async function targets(db: Db, tenantId: string, id: ConfigId, v: unknown, name: 'includeTargets' | 'excludeTargets'): Promise<PolicyTarget[]> {
  if (!Array.isArray(v) || v.length > MAX_TARGETS) throw invalid(`Property '${name}' must be a list of at most ${MAX_TARGETS} targets.`);
  const include = name === 'includeTargets';
  const extra: Record<string, Check> = include ? { isRegistrationRequired: bool, ...(TARGET_SETTINGS[id] ?? {}) } : {};
  const out: PolicyTarget[] = [];
  for (const [i, raw] of v.entries()) {
    const n = `${name}[${i}]`;
    const t = object(raw, n, ['id', 'targetType', ...Object.keys(extra)]);
    if (t.targetType !== 'group') throw invalid(`Property '${n}.targetType' must be 'group': the policy targets groups (or all_users).`);
    const gid = idString(t.id, `${n}.id`);
    if (out.some((o) => o.id === gid)) throw invalid(`Property '${n}.id': group '${gid}' is listed twice.`);
    if (gid === ALL_USERS && !include) throw invalid(`Property '${n}.id': all_users cannot be excluded; disable the method instead.`);
    if (gid !== ALL_USERS) {
      const g = await db.selectFrom('groups').select('id').where('tenant_id', '=', tenantId).where('id', '=', gid).executeTakeFirst();
      if (!g) throw invalid(`Property '${n}.id': group '${gid}' does not exist.`);
    }
    const target: PolicyTarget = { targetType: 'group', id: gid };
    if (include) {
      Object.assign(target, { isRegistrationRequired: false, ...(TARGET_DEFAULTS[id] ?? {}) });
      for (const [k, check] of Object.entries(extra)) if (t[k] !== undefined) target[k] = check(t[k], `${n}.${k}`);
    }
    out.push(target);
  }
  return out;
}

/** The configuration after a Graph PATCH body; refuses an unknown property or a bad value, naming it. */
export async function patchConfig(db: Db, tenantId: string, id: ConfigId, current: MethodConfig, body: Record<string, unknown>): Promise<MethodConfig> {
  const type = CONFIG_TYPES[id];
  const settings = settingsOf(id, current);
  const known = ['state', 'includeTargets', 'excludeTargets', 'id', ...Object.keys(settings)];
  for (const k of Object.keys(body)) {
    if (k.startsWith('@odata.') && k !== '@odata.type') continue;
    if (k !== '@odata.type' && !known.includes(k)) throw invalid(`Property '${k}' does not exist on type 'microsoft.graph.${type}'.`);
  }
  const odataType = body['@odata.type'];
  if (odataType !== undefined && (typeof odataType !== 'string' || odataType.replace(/^#/, '').toLowerCase() !== `microsoft.graph.${type}`.toLowerCase())) {
    throw invalid(`Property '@odata.type' must be '#microsoft.graph.${type}' for configuration '${id}'.`);
  }
  if (body.id !== undefined && (typeof body.id !== 'string' || body.id.toLowerCase() !== id.toLowerCase())) throw invalid(`Property 'id' is read-only and must be '${id}'.`);
  const next: MethodConfig = { ...current };
  if (body.state !== undefined) next.state = oneOf('enabled', 'disabled')(body.state, 'state') as MethodConfig['state'];
  if (body.includeTargets !== undefined) next.includeTargets = await targets(db, tenantId, id, body.includeTargets, 'includeTargets');
  if (body.excludeTargets !== undefined) next.excludeTargets = await targets(db, tenantId, id, body.excludeTargets, 'excludeTargets');
  for (const [k, check] of Object.entries(settings)) if (body[k] !== undefined) next[k] = check(body[k], k);
  if (id === 'TemporaryAccessPass') {
    const [min, def, max] = [next.minimumLifetimeInMinutes, next.defaultLifetimeInMinutes, next.maximumLifetimeInMinutes] as number[];
    if (min! > max!) throw invalid(`Property 'minimumLifetimeInMinutes' (${min}) must not exceed 'maximumLifetimeInMinutes' (${max}).`);
    if (def! < min! || def! > max!) throw invalid(`Property 'defaultLifetimeInMinutes' (${def}) must lie between 'minimumLifetimeInMinutes' (${min}) and 'maximumLifetimeInMinutes' (${max}).`);
  }
  return next;
}

const POLICY_READ_ONLY = ['id', 'displayName', 'description', 'lastModifiedDateTime', 'policyVersion', 'authenticationMethodConfigurations'];

/** The policy after a Graph PATCH of authenticationMethodsPolicy itself (its own settings). */
export function patchPolicy(current: MethodsPolicyDoc, body: Record<string, unknown>): MethodsPolicyDoc {
  for (const k of Object.keys(body)) {
    if (k.startsWith('@odata.')) continue;
    if (POLICY_READ_ONLY.includes(k)) throw invalid(`Property '${k}' is read-only${k === 'authenticationMethodConfigurations' ? ': PATCH each configuration at /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}' : ''}.`);
    if (k !== 'policyMigrationState' && k !== 'systemCredentialPreferences') throw invalid(`Property '${k}' does not exist or cannot be set on type 'microsoft.graph.authenticationMethodsPolicy' here (settable: policyMigrationState, systemCredentialPreferences).`);
  }
  const next = { ...current };
  if (body.policyMigrationState !== undefined) next.policyMigrationState = oneOf('preMigration', 'migrationInProgress', 'migrationComplete')(body.policyMigrationState, 'policyMigrationState') as MethodsPolicyDoc['policyMigrationState'];
  if (body.systemCredentialPreferences !== undefined) next.systemCredentialPreferences = patchSystemPreferences(systemCredentialPreferencesOf(current), body.systemCredentialPreferences);
  return next;
}

/**
 * System-preferred MFA (entra-research §5.6): its `state`. Its targets stay all users, excluding nobody:
 * a body may repeat them but not change them here.
 */
function patchSystemPreferences(current: SystemCredentialPreferences, body: unknown): SystemCredentialPreferences {
  const name = 'systemCredentialPreferences';
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid(`Property '${name}' must be an object.`);
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (k.startsWith('@odata.')) continue;
    if (!['state', 'includeTargets', 'excludeTargets'].includes(k)) throw invalid(`Property '${name}.${k}' does not exist or cannot be set on type 'microsoft.graph.systemCredentialPreferences'.`);
  }
  const same = (v: unknown, was: PolicyTarget[]) => Array.isArray(v) && v.length === was.length && v.every((t, i) => typeof t === 'object' && t !== null && (t as PolicyTarget).id === was[i]!.id && ((t as PolicyTarget).targetType ?? 'group') === 'group');
  for (const k of ['includeTargets', 'excludeTargets'] as const) {
    if (b[k] !== undefined && !same(b[k], current[k])) throw invalid(`Property '${name}.${k}' cannot be changed here: system-preferred MFA applies to all users (includeTargets all_users, no excludeTargets); a user's own signInPreferences can turn it off.`);
  }
  return { ...current, state: b.state === undefined ? current.state : (oneOf('default', 'enabled', 'disabled')(b.state, `${name}.state`) as SystemCredentialPreferences['state']) };
}
