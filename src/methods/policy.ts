// The authentication methods policy (spec §7): per method, enabled or disabled, the groups it is for
// (include) and the groups it is not for (exclude wins), and the method's settings (TAP lifetimes...).
// Stored per tenant in `methods_policy`, in Graph's property names. Whether a user may use or register a
// method is methodEnabledFor() on the user's effective policy, built by methodsPolicyFor(): the policy
// comes from a process-wide cache stamped with the row's version (a write in this process installs its
// new version at once; another instance's write is seen within CACHE_MS), and the user's groups are read
// only when a configuration names a group. The password is always enabled.
import { StampedCache } from '../directory/cache.js';
import type { User } from '../directory/users.js';
import type { Db } from '../storage/db.js';
import type { MethodType } from './types.js';

/** Graph's ids of the method configurations (case-insensitive in URLs), in Graph's order. */
export const CONFIG_IDS = ['Fido2', 'MicrosoftAuthenticator', 'Sms', 'Voice', 'Email', 'TemporaryAccessPass', 'SoftwareOath', 'HardwareOath'] as const;
export type ConfigId = (typeof CONFIG_IDS)[number];

/** Each configuration's Graph type (`#microsoft.graph.<this>`). */
export const CONFIG_TYPES: Record<ConfigId, string> = {
  Fido2: 'fido2AuthenticationMethodConfiguration',
  MicrosoftAuthenticator: 'microsoftAuthenticatorAuthenticationMethodConfiguration',
  Sms: 'smsAuthenticationMethodConfiguration',
  Voice: 'voiceAuthenticationMethodConfiguration',
  Email: 'emailAuthenticationMethodConfiguration',
  TemporaryAccessPass: 'temporaryAccessPassAuthenticationMethodConfiguration',
  SoftwareOath: 'softwareOathAuthenticationMethodConfiguration',
  HardwareOath: 'hardwareOathAuthenticationMethodConfiguration',
};

/** How people name each configuration (the portal's names). */
export const CONFIG_NAMES: Record<ConfigId, string> = {
  Fido2: 'Passkey (FIDO2)',
  MicrosoftAuthenticator: 'Microsoft Authenticator',
  Sms: 'SMS',
  Voice: 'Voice call',
  Email: 'Email OTP',
  TemporaryAccessPass: 'Temporary Access Pass',
  SoftwareOath: 'Software OATH tokens',
  HardwareOath: 'Hardware OATH tokens',
};

/** The configuration that governs each of Latchkey's methods (the password has none: always enabled). */
export const CONFIG_OF: Record<MethodType, ConfigId | undefined> = {
  password: undefined,
  softwareOath: 'SoftwareOath',
  temporaryAccessPass: 'TemporaryAccessPass',
  fido2: 'Fido2',
};

export const ALL_USERS = 'all_users';

export interface PolicyTarget {
  id: string;
  targetType: 'group';
  [setting: string]: unknown;
}

/** One method configuration, as Graph names its properties (without `@odata.type` and `id`). */
export interface MethodConfig {
  state: 'enabled' | 'disabled';
  includeTargets: PolicyTarget[];
  excludeTargets: PolicyTarget[];
  [setting: string]: unknown;
}

/** System-preferred MFA for the tenant (Graph beta `systemCredentialPreferences`, entra-research §5.6). */
export interface SystemCredentialPreferences {
  /** `default`: Microsoft managed, which Latchkey takes as enabled (Entra's documented managed value) */
  state: 'default' | 'enabled' | 'disabled';
  includeTargets: PolicyTarget[];
  excludeTargets: PolicyTarget[];
}

export interface MethodsPolicyDoc {
  policyMigrationState: 'preMigration' | 'migrationInProgress' | 'migrationComplete';
  configurations: Record<ConfigId, MethodConfig>;
  /** absent in policies stored before it existed: read as the default (see systemCredentialPreferencesOf) */
  systemCredentialPreferences?: SystemCredentialPreferences;
}

/** The tenant's system-preferred MFA setting; Microsoft managed (on) for all users when never set. */
export function systemCredentialPreferencesOf(doc: MethodsPolicyDoc): SystemCredentialPreferences {
  return doc.systemCredentialPreferences ?? { state: 'default', includeTargets: [{ targetType: 'group', id: ALL_USERS }], excludeTargets: [] };
}

export interface StoredPolicy {
  doc: MethodsPolicyDoc;
  version: number;
  updatedAt: number;
}

/** The TAP configuration's settings (spec §6: 10–43,200 minutes, length 8–48). */
export interface TapSettings {
  defaultLifetimeInMinutes: number;
  minimumLifetimeInMinutes: number;
  maximumLifetimeInMinutes: number;
  defaultLength: number;
  isUsableOnce: boolean;
}

const allUsers = (extra: Record<string, unknown> = {}): PolicyTarget[] => [{ targetType: 'group', id: ALL_USERS, isRegistrationRequired: false, ...extra }];
const NOBODY = { targetType: 'group', id: '00000000-0000-0000-0000-000000000000' };

/**
 * D23: a new tenant's policy. TAP, software OATH, the Authenticator app and passkeys enabled for all
 * users; SMS, voice and email enabled for all users (their sender is the local outbox); hardware OATH,
 * which D23 does not name, off as in Entra.
 */
export function defaultMethodsPolicy(): MethodsPolicyDoc {
  const featureSetting = () => ({ state: 'default', includeTarget: { targetType: 'group', id: ALL_USERS }, excludeTarget: { ...NOBODY } });
  return {
    policyMigrationState: 'migrationComplete',
    configurations: {
      Fido2: { state: 'enabled', includeTargets: allUsers(), excludeTargets: [], isAttestationEnforced: false, isSelfServiceRegistrationAllowed: true, keyRestrictions: { isEnforced: false, enforcementType: 'block', aaGuids: [] } },
      MicrosoftAuthenticator: {
        state: 'enabled',
        includeTargets: allUsers({ authenticationMode: 'any' }),
        excludeTargets: [],
        isSoftwareOathEnabled: false,
        featureSettings: { displayAppInformationRequiredState: featureSetting(), displayLocationInformationRequiredState: featureSetting() },
      },
      Sms: { state: 'enabled', includeTargets: allUsers({ isUsableForSignIn: true }), excludeTargets: [] },
      Voice: { state: 'enabled', includeTargets: allUsers(), excludeTargets: [], isOfficePhoneAllowed: false },
      Email: { state: 'enabled', includeTargets: allUsers(), excludeTargets: [], allowExternalIdToUseEmailOtp: 'default' },
      TemporaryAccessPass: { state: 'enabled', includeTargets: allUsers(), excludeTargets: [], defaultLifetimeInMinutes: 60, minimumLifetimeInMinutes: 10, maximumLifetimeInMinutes: 43_200, defaultLength: 8, isUsableOnce: false },
      SoftwareOath: { state: 'enabled', includeTargets: allUsers(), excludeTargets: [] },
      HardwareOath: { state: 'disabled', includeTargets: allUsers(), excludeTargets: [] },
    },
  };
}

/** Writes D23's policy for a tenant just created. */
export async function createMethodsPolicy(db: Db, tenantId: string, now = Date.now()): Promise<void> {
  await db.insertInto('methods_policy').values({ tenant_id: tenantId, policy: JSON.stringify(defaultMethodsPolicy()), version: 1, updated_at: now }).onConflict((oc) => oc.column('tenant_id').doNothing()).execute();
}

/** The stored policy, read now (inside a transaction: what that transaction sees). */
export async function readMethodsPolicy(db: Db, tenantId: string): Promise<StoredPolicy> {
  const row = await db.selectFrom('methods_policy').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!row) return { doc: defaultMethodsPolicy(), version: 0, updatedAt: 0 };
  return { doc: JSON.parse(row.policy) as MethodsPolicyDoc, version: row.version, updatedAt: row.updated_at };
}

/**
 * Writes a new policy if the stored one is still `expectedVersion`, bumping the version in the same
 * statement; false when another write came first. Call inside the change's transaction.
 */
export async function writeMethodsPolicy(trx: Db, tenantId: string, doc: MethodsPolicyDoc, expectedVersion: number, now: number): Promise<StoredPolicy | undefined> {
  const policy = JSON.stringify(doc);
  if (expectedVersion === 0) {
    const r = await trx.insertInto('methods_policy').values({ tenant_id: tenantId, policy, version: 1, updated_at: now }).onConflict((oc) => oc.column('tenant_id').doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1 ? { doc, version: 1, updatedAt: now } : undefined;
  }
  const r = await trx.updateTable('methods_policy').set({ policy, version: expectedVersion + 1, updated_at: now }).where('tenant_id', '=', tenantId).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1 ? { doc, version: expectedVersion + 1, updatedAt: now } : undefined;
}

// --- the cache ---------------------------------------------------------------------------------------

/** how long another instance's write may go unseen here (the same bound as the app-registration cache) */
export const CACHE_MS = 5000;
const cache = new StampedCache<StoredPolicy>(readMethodsPolicy, (p) => p.version, CACHE_MS);

/** The tenant's policy through the cache (one read per tenant per CACHE_MS; none in between). */
export function loadMethodsPolicy(db: Db, tenantId: string): Promise<StoredPolicy> {
  return cache.get(db, tenantId);
}

/** After a committed write: this process uses the new version from now on. */
export function rememberMethodsPolicy(db: Db, tenantId: string, stored: StoredPolicy): void {
  cache.remember(db, tenantId, stored);
}

// --- the effective policy for a user -----------------------------------------------------------------

export type AccessReason = 'enabled' | 'disabled' | 'notIncluded' | 'excluded' | 'alwaysEnabled';

export interface MethodAccess {
  enabled: boolean;
  reason: AccessReason;
  /** the group whose exclusion decided it (exclude wins over include) */
  excludedBy?: { id: string; displayName: string };
  /** the include target that enabled it (`all_users` or a group) */
  includedBy?: { id: string; displayName: string };
}

export interface UserMethodsPolicy {
  policy: StoredPolicy;
  configs: Record<ConfigId, MethodAccess>;
  /** whether the tenant's system-preferred MFA applies to the user (a user's own signInPreferences may override it) */
  systemPreferred: boolean;
}

export interface UserGroup {
  id: string;
  displayName: string;
}

/** Spec §7: enabled AND the user in an include target AND in no exclude target (exclude wins). */
export function evaluate(doc: MethodsPolicyDoc, groups: readonly UserGroup[]): Record<ConfigId, MethodAccess> {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const out = {} as Record<ConfigId, MethodAccess>;
  for (const id of CONFIG_IDS) {
    const c = doc.configurations[id];
    if (c.state !== 'enabled') {
      out[id] = { enabled: false, reason: 'disabled' };
      continue;
    }
    const excluded = c.excludeTargets.map((t) => byId.get(t.id)).find((g) => g !== undefined);
    if (excluded) {
      out[id] = { enabled: false, reason: 'excluded', excludedBy: excluded };
      continue;
    }
    const inc = c.includeTargets.find((t) => t.id === ALL_USERS || byId.has(t.id));
    out[id] = inc ? { enabled: true, reason: 'enabled', includedBy: inc.id === ALL_USERS ? { id: ALL_USERS, displayName: 'All users' } : byId.get(inc.id)! } : { enabled: false, reason: 'notIncluded' };
  }
  return out;
}

/** System-preferred MFA for a user: not disabled, the user in its include target and not in its exclude target. */
export function systemPreferredIn(doc: MethodsPolicyDoc, groups: readonly UserGroup[]): boolean {
  const p = systemCredentialPreferencesOf(doc);
  if (p.state === 'disabled') return false;
  const ids = new Set(groups.map((g) => g.id));
  if (p.excludeTargets.some((t) => ids.has(t.id))) return false;
  return p.includeTargets.some((t) => t.id === ALL_USERS || ids.has(t.id));
}

/** Whether evaluating the policy needs the user's groups (it names a group, or excludes anyone). */
function namesGroups(doc: MethodsPolicyDoc): boolean {
  const system = systemCredentialPreferencesOf(doc);
  if (system.state !== 'disabled' && (system.excludeTargets.length > 0 || !system.includeTargets.some((t) => t.id === ALL_USERS))) return true;
  return CONFIG_IDS.some((id) => {
    const c = doc.configurations[id];
    return c.state === 'enabled' && (c.excludeTargets.length > 0 || !c.includeTargets.some((t) => t.id === ALL_USERS));
  });
}

/** The groups a user is a direct member of, with their names. */
export async function groupsOf(db: Db, userId: string): Promise<UserGroup[]> {
  const rows = await db.selectFrom('group_members').innerJoin('groups', 'groups.id', 'group_members.group_id').select(['groups.id', 'groups.display_name']).where('group_members.user_id', '=', userId).orderBy('groups.display_name').execute();
  return rows.map((r) => ({ id: r.id, displayName: r.display_name }));
}

/** The user's effective policy: the cached policy, and the user's groups only when it names groups. */
export async function methodsPolicyFor(db: Db, user: Pick<User, 'id' | 'tenant_id'>): Promise<UserMethodsPolicy> {
  const policy = await loadMethodsPolicy(db, user.tenant_id);
  const groups = namesGroups(policy.doc) ? await groupsOf(db, user.id) : [];
  return { policy, configs: evaluate(policy.doc, groups), systemPreferred: systemPreferredIn(policy.doc, groups) };
}

/** Whether the user may use and register this method (spec §7). The password is always enabled. */
export function methodAccess(p: UserMethodsPolicy, method: MethodType): MethodAccess {
  const id = CONFIG_OF[method];
  return id ? p.configs[id] : { enabled: true, reason: 'alwaysEnabled' };
}

export function methodEnabledFor(p: UserMethodsPolicy, method: MethodType): boolean {
  return methodAccess(p, method).enabled;
}

/** Why a method is not enabled for the user, in words (shown to admins and users). */
export function accessText(a: MethodAccess): string {
  switch (a.reason) {
    case 'disabled':
      return 'disabled in the authentication methods policy';
    case 'notIncluded':
      return 'not in an included group';
    case 'excluded':
      return `excluded by group ${a.excludedBy?.displayName ?? '?'}`;
    case 'alwaysEnabled':
      return 'always enabled';
    case 'enabled':
      return a.includedBy?.id === ALL_USERS ? 'enabled for all users' : `enabled for group ${a.includedBy?.displayName ?? '?'}`;
  }
}

/** The TAP configuration's settings, which TAP creation validates against and defaults to (spec §6). */
export function tapSettings(doc: MethodsPolicyDoc): TapSettings {
  const c = doc.configurations.TemporaryAccessPass;
  return {
    defaultLifetimeInMinutes: c.defaultLifetimeInMinutes as number,
    minimumLifetimeInMinutes: c.minimumLifetimeInMinutes as number,
    maximumLifetimeInMinutes: c.maximumLifetimeInMinutes as number,
    defaultLength: c.defaultLength as number,
    isUsableOnce: c.isUsableOnce as boolean,
  };
}
