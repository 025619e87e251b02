// Table types for Kysely. Times are epoch milliseconds (spec D5) stored as integers (BIGINT on PostgreSQL,
// read back as numbers by the driver set-up in db.ts). Booleans are 0/1 integers on both databases.
import type { Generated } from 'kysely';

export interface TenantTable {
  id: string;
  domain: string;
  display_name: string;
  created_at: number;
}

export interface UserTable {
  id: string;
  tenant_id: string;
  upn: string;
  upn_lower: string;
  display_name: string;
  mail: string | null;
  password_hash: string | null;
  account_enabled: number;
  force_change_password: number;
  force_change_password_mfa: number;
  last_password_change_at: number;
  sign_in_sessions_valid_from: number;
  mfa_remembered_valid_from: number;
  disabled_at: number | null;
  admin_reset_at: number | null;
  created_at: number;
  per_user_mfa_state: 'disabled' | 'enabled' | 'enforced'; // migration 0006
  preferred_mfa_method: string | null;
  /** signInPreferences.isSystemPreferredAuthenticationMethodEnabled: null follows the tenant (on), 0 off, 1 on (migration 0010) */
  system_preferred_mfa: number | null;
}

export interface UserRoleTable {
  user_id: string;
  role: string;
}

export interface AppTable {
  id: string; // appId (client_id)
  /** the application object's id (Graph `id`), not the client id (migration 0013) */
  object_id: string;
  tenant_id: string;
  display_name: string;
  /** 'resource': a Microsoft-owned resource such as Graph, not one of the tenant's applications (0013) */
  kind: 'application' | 'resource';
  web_redirect_uris: string; // JSON array (web.redirectUris; was redirect_uris before 0013)
  spa_redirect_uris: string; // JSON array (spa.redirectUris)
  public_client_redirect_uris: string; // JSON array (publicClient.redirectUris)
  is_fallback_public_client: number;
  post_logout_redirect_uris: string; // JSON array
  /** unused since 0013 (every identifier URI is in identifier_uris and app_identifier_uris); SQLite cannot drop a UNIQUE column */
  identifier_uri: string | null;
  identifier_uris: string; // JSON array: api://... or https://graph.microsoft.com
  exposed_scopes: string; // JSON array of Graph permissionScope objects (api.oauth2PermissionScopes)
  app_roles: string; // JSON array of Graph appRole objects
  required_resource_access: string; // JSON array of Graph requiredResourceAccess objects
  logout_url: string | null; // web.logoutUrl (front-channel)
  properties: string; // JSON: Graph properties kept as given (description, notes, tags, homePageUrl, ...)
  require_pkce: number; // D3: confidential apps may switch PKCE off
  introspection_allowed: number; // D8: a resource server that may introspect tokens meant for it
  created_at: number;
  backchannel_logout_uri: string | null; // OIDC Back-Channel Logout 1.0 (migration 0003)
  require_mfa: number; // spec §8 (migration 0006)
}

/** Every identifier URI of every app (unique): resources are looked up by it (migration 0013). */
export interface AppIdentifierUriTable {
  uri: string;
  app_id: string;
}

/** The directory's version per tenant, bumped with every write the engine's client view reads (0013). */
export interface DirectoryVersionTable {
  tenant_id: string;
  version: number;
  updated_at: number;
}

export interface AppSecretTable {
  id: string;
  app_id: string;
  secret_hash: string;
  hint: string;
  created_at: number;
  expires_at: number | null;
  display_name: string | null; // passwordCredential.displayName (0013)
  start_at: number | null; // passwordCredential.startDateTime (0013)
}

export interface PermissionGrantTable {
  id: Generated<number>;
  client_app_id: string;
  resource_app_id: string;
  kind: 'delegated' | 'application';
  value: string;
  created_at: number;
}

/**
 * A service principal: the app's instance in the tenant (Graph `servicePrincipal`); its name, scopes and app
 * roles come from the app. Graph's appRoleAssignments and oAuth2PermissionGrants are the permission_grants
 * rows between two apps that both have one (src/directory/service-principals.ts).
 */
export interface ServicePrincipalTable {
  id: string; // object id
  tenant_id: string;
  app_id: string; // unique per tenant
  account_enabled: number;
  created_at: number;
}

export interface OidcModelTable {
  model: string;
  id_hash: string;
  payload: string; // encrypted JSON (D14)
  account_id: string | null;
  grant_id: string | null;
  session_uid: string | null;
  uid_hash: string | null;
  user_code_hash: string | null;
  client_id: string | null;
  expires_at: number | null;
  consumed_at: number | null;
  /** when the row was made, ms (migration 0016; null for rows made before it) */
  created_at: Generated<number | null>;
  /** a DeviceCode's last poll at the token endpoint, ms (RFC 8628 §3.5 slow_down) */
  last_polled_at: Generated<number | null>;
}

export interface SigninSessionTable {
  id: string; // the engine's Session uid
  tenant_id: string;
  user_id: string;
  auth_time: number;
  amr: string; // JSON array
  password_based: number;
  persistent: number;
  ip: string;
  user_agent: string;
  created_at: number;
  last_used_at: number;
  mfa_at: number | null; // when this sign-in satisfied MFA (migration 0006)
  methods: Generated<string>; // JSON array of each step's method (D22)
  tap_id: string | null; // the TAP this session was born of (spec §6)
  tap_expires_at: number | null; // rule 5: the session never outlives it
}

export interface SigninFlowTable {
  id: string;
  interaction_uid: string;
  csrf_hash: string;
  state: string; // JSON: the flow's step and the facts gathered so far
  expires_at: number;
  created_at: number;
}

export interface SigningKeyTable {
  kid: string;
  alg: string;
  private_jwk: string; // encrypted with the master key (D14)
  public_jwk: string;
  created_at: number;
  retired_at: number | null;
}

export interface SigninLogTable {
  id: Generated<number>;
  tenant_id: string;
  at: number;
  user_id: string | null;
  user_name: string | null;
  app_id: string | null;
  interactive: number;
  status: 'success' | 'failure';
  error_code: number | null;
  reason: string | null;
  ip: string | null;
  user_agent: string | null;
  /** D11: `${grantId}:${hour}` for an aggregated non-interactive sign-in (unique), else null */
  aggregate_key: string | null;
  /** JSON array of the sign-in's amr values, when known */
  amr: string | null;
  /** JSON array of each step's method (password, softwareOath, temporaryAccessPass, ...; migration 0006) */
  methods?: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  tenant_id: string;
  at: number;
  activity: string;
  category: string;
  service: string;
  operation_type: string;
  actor_type: 'user' | 'app';
  actor_id: string;
  actor_name: string | null;
  target_id: string | null;
  target_name: string | null;
  modified: string; // JSON [{displayName, oldValue, newValue}]
  result: 'success' | 'failure';
  result_reason: string | null;
  correlation_id: string;
}

export interface OutboxTable {
  id: Generated<number>;
  tenant_id: string;
  at: number;
  type: string;
  payload: string; // JSON
  attempts: number;
  next_attempt_at: number;
  delivered_at: number | null;
  failed_at: number | null;
  last_error: string | null;
}

export interface AppDirectoryRoleTable {
  app_id: string;
  role: string;
}

export interface SigninLockoutTable {
  user_id: string;
  location: 'familiar' | 'unfamiliar';
  failures: number;
  lockouts: number;
  locked_until: number | null;
  recent_bad: string; // JSON array of HMACs of the last distinct bad passwords (D12)
  updated_at: number;
}

export interface FamiliarLocationTable {
  user_id: string;
  prefix: string;
  last_success_at: number;
}

export interface GroupTable {
  id: string;
  tenant_id: string;
  display_name: string;
  description: string | null;
  is_assignable_to_role: number;
  created_at: number;
  mail_nickname: string | null;
}

export interface GroupMemberTable {
  group_id: string;
  user_id: string;
}

export interface AuthMethodTable {
  id: string;
  tenant_id: string;
  user_id: string;
  type: string; // a MethodType of src/methods
  status: Generated<'active' | 'pending'>; // pending: an enrollment not yet confirmed with a first code
  display_name: string | null;
  secret: string | null; // sealed seed (OATH) or keyed hash (TAP), never the value (D14)
  state: Generated<string>; // JSON, the method's own settings
  last_step: number | null; // OATH: the last accepted time step (no replay)
  used_at: number | null; // TAP: when a one-time pass was consumed
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null; // pending enrollments expire
  credential_id: Generated<string | null>; // FIDO2: the WebAuthn credential id (base64url), unique per tenant
}

export interface MfaFailureTable {
  user_id: string;
  method: string;
  window_start: number;
  count: number;
}

/** Wrong user codes on the device-code page in a one-minute window, per browser session or IP address. */
export interface DeviceCodeAttemptTable {
  key: string;
  window_start: number;
  count: number;
}

export interface TenantSettingsTable {
  tenant_id: string;
  remember_mfa_days: number;
  registration_policy: 'anywhere' | 'mfaOrTap';
  wrong_code_limit: number;
  security_defaults: number;
  updated_at: number;
}

/** The authentication methods policy of a tenant (spec §7): one row, its method configurations as JSON. */
export interface MethodsPolicyTable {
  tenant_id: string;
  /** JSON: the policy's own settings and each method configuration, in Graph's property names */
  policy: string;
  /** bumped in the transaction of every write: a cached copy of an older version is never used after it */
  version: number;
  updated_at: number;
}

/** D21: a plan made by a dry run of /latchkey/v1 (no secret in it), applied at most once. */
export interface AdminPlanTable {
  id: string;
  tenant_id: string;
  action: string;
  actor_kind: 'user' | 'app' | 'system';
  actor_id: string;
  target_id: string;
  /** JSON: input, fingerprint, madeAt, preview, patch, deletesUser */
  plan: string;
  created_at: number;
  expires_at: number;
  applied_at: number | null;
}

/** A kept plan's whole preview lists, when longer than the plan's first page (migration 0016). */
export interface AdminPlanLinesTable {
  plan_id: string;
  /** JSON: the preview's whole `ending` and `surviving` lists */
  lines: string;
}

/** A run of the compromised-account playbook (spec §5; migration 0015): its steps, progress and results, no secret. */
export interface PlaybookRunTable {
  id: string;
  tenant_id: string;
  target_id: string;
  actor_kind: 'user' | 'app' | 'system';
  actor_id: string;
  /** JSON: the chosen steps with their input */
  steps: string;
  /** index into steps of the next step to apply */
  next_step: number;
  status: 'running' | 'completed' | 'failed';
  /** JSON: one result per applied step (never the Temporary Access Pass) */
  results: string;
  /** why the last attempt stopped (a refused step), until a resume gets past it */
  error: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

/** A Graph long-running operation (D17: resetPassword's operation, `succeeded` when the 202 is sent). */
export interface GraphOperationTable {
  id: string;
  tenant_id: string;
  user_id: string;
  kind: 'passwordReset';
  status: 'notStarted' | 'running' | 'succeeded' | 'failed';
  created_at: number;
  updated_at: number;
}

export interface Database {
  tenants: TenantTable;
  users: UserTable;
  user_roles: UserRoleTable;
  apps: AppTable;
  app_secrets: AppSecretTable;
  app_identifier_uris: AppIdentifierUriTable;
  directory_versions: DirectoryVersionTable;
  permission_grants: PermissionGrantTable;
  service_principals: ServicePrincipalTable;
  oidc_models: OidcModelTable;
  signin_sessions: SigninSessionTable;
  signin_flows: SigninFlowTable;
  playbook_runs: PlaybookRunTable;
  admin_plan_lines: AdminPlanLinesTable;
  signing_keys: SigningKeyTable;
  signin_log: SigninLogTable;
  audit_log: AuditLogTable;
  outbox: OutboxTable;
  app_directory_roles: AppDirectoryRoleTable;
  signin_lockouts: SigninLockoutTable;
  familiar_locations: FamiliarLocationTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  auth_methods: AuthMethodTable;
  mfa_failures: MfaFailureTable;
  tenant_settings: TenantSettingsTable;
  admin_plans: AdminPlanTable;
  graph_operations: GraphOperationTable;
  device_code_attempts: DeviceCodeAttemptTable;
  methods_policy: MethodsPolicyTable;
}
