// The tenant pages' calls: Graph's authentication methods policy and security defaults, Latchkey's tenant
// settings, what the caller may change (/latchkey/v1/tenant/actions), and groups found by name.
import { useQuery } from '@tanstack/react-query';
import { ApiError, call } from '../api';

export const POLICY_PATH = '/v1.0/policies/authenticationMethodsPolicy';
export const SECURITY_DEFAULTS_PATH = '/v1.0/policies/identitySecurityDefaultsEnforcementPolicy';
export const SETTINGS_PATH = '/latchkey/v1/tenant/settings';
export const ALL_USERS = 'all_users';

export interface PolicyTarget {
  id: string;
  targetType: 'group';
  [setting: string]: unknown;
}

export interface MethodConfig {
  id: string;
  state: 'enabled' | 'disabled';
  includeTargets: PolicyTarget[];
  excludeTargets: PolicyTarget[];
  [setting: string]: unknown;
}

export type ManagedState = 'default' | 'enabled' | 'disabled';

export interface MethodsPolicy {
  policyMigrationState: 'preMigration' | 'migrationInProgress' | 'migrationComplete';
  lastModifiedDateTime: string | null;
  systemCredentialPreferences: { state: ManagedState; includeTargets: PolicyTarget[]; excludeTargets: PolicyTarget[] };
  authenticationMethodConfigurations: MethodConfig[];
}

export interface SecurityDefaults {
  id: string;
  displayName: string;
  description: string;
  isEnabled: boolean;
}

export interface TenantSettings {
  rememberMfaDays: number;
  registrationPolicy: 'anywhere' | 'mfaOrTap';
  wrongCodeLimit: number;
  securityDefaultsEnabled: boolean;
  lastModifiedDateTime: string | null;
}

export type TenantActionName = 'updateMethodsPolicy' | 'updateSecurityDefaults' | 'updateTenantSettings';

export interface TenantAction {
  name: TenantActionName;
  summary: string;
  allowed: boolean;
  reason?: string;
}

/** The server's word on whether the caller may make a tenant-wide change, and why not. */
export function useTenantRight(name: TenantActionName): { allowed: boolean; reason?: string; error?: unknown; pending: boolean } {
  const q = useQuery({ queryKey: ['tenantActions'], queryFn: () => call<{ value: TenantAction[] }>('/latchkey/v1/tenant/actions') });
  const a = q.data?.value.find((x) => x.name === name);
  return { allowed: a?.allowed === true, reason: a?.reason, error: q.error ?? undefined, pending: q.isPending };
}

export interface Group {
  id: string;
  displayName: string;
}

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Groups whose display name starts with `prefix` (Graph $filter startsWith), at most 10. */
export function searchGroups(prefix: string): Promise<{ value: Group[] }> {
  const q = new URLSearchParams({ $select: 'id,displayName', $top: '10', $filter: `startsWith(displayName,${literal(prefix)})` });
  return call(`/v1.0/groups?${q.toString()}`);
}

/** The names of these groups (ids of groups that no longer exist are absent). */
export async function groupsByIds(ids: string[]): Promise<Group[]> {
  const guids = ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (!guids.length) return [];
  const q = new URLSearchParams({ $select: 'id,displayName', $top: '100', $filter: `id in (${guids.map(literal).join(',')})` });
  return (await call<{ value: Group[] }>(`/v1.0/groups?${q.toString()}`)).value;
}

/**
 * The field a 400 refusal names (Graph and /latchkey/v1 say "Property 'x…'"), as one of `fields`, given the
 * property's root name (`includeTargets[0].id` → `includeTargets`).
 */
/** Shows a refused save: at the field the server named, else in the form's refusal bar. */
export function showRefusal(e: unknown, fields: Record<string, string>, atField: (errors: Record<string, string>) => void, inBar: (e: unknown) => void): void {
  const field = refusedField(e, fields);
  if (field) atField({ [field]: (e as Error).message });
  else inBar(e);
}

function refusedField(e: unknown, fields: Record<string, string>): string | undefined {
  if (!(e instanceof ApiError) || e.status !== 400) return undefined;
  const m = /Property '([A-Za-z@.]+)/.exec(e.message);
  const root = m?.[1]?.split(/[.[]/)[0];
  return root && Object.hasOwn(fields, root) ? fields[root] : undefined;
}
