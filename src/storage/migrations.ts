// Schema migrations, one source for SQLite and PostgreSQL (Kysely's schema builder; the few
// dialect differences are named where they occur).
import crypto from 'node:crypto';
import { type ColumnDefinitionBuilder, type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import { appRegistrations } from './migration-0013.js';

type Dialect = 'sqlite' | 'postgres';

// D23's default authentication methods policy as it stood when 0009 ran, written out here (a migration
// does not change when the code's defaults do): new tenants get src/methods/policy.ts's defaults.
const ALL_USERS = [{ targetType: 'group', id: 'all_users', isRegistrationRequired: false }];
const NOBODY = { targetType: 'group', id: '00000000-0000-0000-0000-000000000000' };
const D23_METHODS_POLICY = {
  policyMigrationState: 'migrationComplete',
  configurations: {
    Fido2: { state: 'enabled', includeTargets: ALL_USERS, excludeTargets: [], isAttestationEnforced: false, isSelfServiceRegistrationAllowed: true, keyRestrictions: { isEnforced: false, enforcementType: 'block', aaGuids: [] } },
    MicrosoftAuthenticator: {
      state: 'enabled',
      includeTargets: [{ ...ALL_USERS[0], authenticationMode: 'any' }],
      excludeTargets: [],
      isSoftwareOathEnabled: false,
      featureSettings: {
        displayAppInformationRequiredState: { state: 'default', includeTarget: { targetType: 'group', id: 'all_users' }, excludeTarget: NOBODY },
        displayLocationInformationRequiredState: { state: 'default', includeTarget: { targetType: 'group', id: 'all_users' }, excludeTarget: NOBODY },
      },
    },
    Sms: { state: 'enabled', includeTargets: [{ ...ALL_USERS[0], isUsableForSignIn: true }], excludeTargets: [] },
    Voice: { state: 'enabled', includeTargets: ALL_USERS, excludeTargets: [], isOfficePhoneAllowed: false },
    Email: { state: 'enabled', includeTargets: ALL_USERS, excludeTargets: [], allowExternalIdToUseEmailOtp: 'default' },
    TemporaryAccessPass: { state: 'enabled', includeTargets: ALL_USERS, excludeTargets: [], defaultLifetimeInMinutes: 60, minimumLifetimeInMinutes: 10, maximumLifetimeInMinutes: 43_200, defaultLength: 8, isUsableOnce: false },
    SoftwareOath: { state: 'enabled', includeTargets: ALL_USERS, excludeTargets: [] },
    HardwareOath: { state: 'disabled', includeTargets: ALL_USERS, excludeTargets: [] },
  },
};

function migrations(dialect: Dialect): Record<string, Migration> {
  const ms = dialect === 'postgres' ? 'bigint' : 'integer';
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
  const serialPk = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  return {
    '0001_foundation': {
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('tenants')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('domain', 'text', (c) => c.notNull().unique())
          .addColumn('display_name', 'text', (c) => c.notNull())
          .addColumn('created_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('upn', 'text', (c) => c.notNull())
          .addColumn('upn_lower', 'text', (c) => c.notNull())
          .addColumn('display_name', 'text', (c) => c.notNull())
          .addColumn('mail', 'text')
          .addColumn('password_hash', 'text')
          .addColumn('account_enabled', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('force_change_password', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('force_change_password_mfa', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_password_change_at', ms, (c) => c.notNull())
          .addColumn('sign_in_sessions_valid_from', ms, (c) => c.notNull())
          .addColumn('mfa_remembered_valid_from', ms, (c) => c.notNull())
          .addColumn('disabled_at', ms)
          .addColumn('admin_reset_at', ms)
          .addColumn('created_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('users_upn_lower').unique().on('users').columns(['tenant_id', 'upn_lower']).execute();
        await db.schema.createTable('user_roles')
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('role', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role'])
          .execute();
        await db.schema.createTable('apps')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
          .addColumn('display_name', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('identifier_uri', 'text', (c) => c.unique())
          .addColumn('exposed_scopes', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('app_roles', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('require_pkce', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('introspection_allowed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createTable('app_secrets')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('hint', 'text', (c) => c.notNull())
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('expires_at', ms)
          .execute();
        await db.schema.createIndex('app_secrets_app').on('app_secrets').column('app_id').execute();
        await db.schema.createTable('permission_grants')
          .addColumn('id', serial, serialPk)
          .addColumn('client_app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
          .addColumn('resource_app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('created_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('permission_grants_unique').unique().on('permission_grants').columns(['client_app_id', 'resource_app_id', 'kind', 'value']).execute();
        await db.schema.createTable('oidc_models')
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('id_hash', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('account_id', 'text')
          .addColumn('grant_id', 'text')
          .addColumn('session_uid', 'text')
          .addColumn('uid_hash', 'text')
          .addColumn('user_code_hash', 'text')
          .addColumn('client_id', 'text')
          .addColumn('expires_at', ms)
          .addColumn('consumed_at', ms)
          .addPrimaryKeyConstraint('oidc_models_pk', ['model', 'id_hash'])
          .execute();
        await db.schema.createIndex('oidc_models_account').on('oidc_models').columns(['account_id', 'model']).execute();
        await db.schema.createIndex('oidc_models_grant').on('oidc_models').columns(['grant_id', 'model']).execute();
        // partial indexes: most rows have no uid, user code or session, and every write pays for each index
        await db.schema.createIndex('oidc_models_session').on('oidc_models').column('session_uid').where(sql.ref('session_uid'), 'is not', null).execute();
        await db.schema.createIndex('oidc_models_uid').on('oidc_models').columns(['model', 'uid_hash']).where(sql.ref('uid_hash'), 'is not', null).execute();
        await db.schema.createIndex('oidc_models_user_code').on('oidc_models').columns(['model', 'user_code_hash']).where(sql.ref('user_code_hash'), 'is not', null).execute();
        await db.schema.createIndex('oidc_models_expires').on('oidc_models').column('expires_at').execute();
        await db.schema.createTable('signin_sessions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('auth_time', ms, (c) => c.notNull())
          .addColumn('amr', 'text', (c) => c.notNull())
          .addColumn('password_based', 'integer', (c) => c.notNull())
          .addColumn('persistent', 'integer', (c) => c.notNull())
          .addColumn('ip', 'text', (c) => c.notNull())
          .addColumn('user_agent', 'text', (c) => c.notNull())
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('last_used_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('signin_sessions_user').on('signin_sessions').column('user_id').execute();
        await db.schema.createTable('signin_flows')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('interaction_uid', 'text', (c) => c.notNull())
          .addColumn('csrf_hash', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('expires_at', ms, (c) => c.notNull())
          .addColumn('created_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('signin_flows_expires').on('signin_flows').column('expires_at').execute();
        await db.schema.createTable('signing_keys')
          .addColumn('kid', 'text', (c) => c.primaryKey())
          .addColumn('alg', 'text', (c) => c.notNull())
          .addColumn('private_jwk', 'text', (c) => c.notNull())
          .addColumn('public_jwk', 'text', (c) => c.notNull())
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('retired_at', ms)
          .execute();
        await db.schema.createTable('signin_log')
          .addColumn('id', serial, serialPk)
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('at', ms, (c) => c.notNull())
          .addColumn('user_id', 'text')
          .addColumn('user_name', 'text')
          .addColumn('app_id', 'text')
          .addColumn('interactive', 'integer', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('error_code', 'integer')
          .addColumn('reason', 'text')
          .addColumn('ip', 'text')
          .addColumn('user_agent', 'text')
          .execute();
        await db.schema.createIndex('signin_log_user_at').on('signin_log').columns(['user_id', 'at']).execute();
      },
    },
    '0002_admin_audit_outbox_lockout': {
      async up(db: Kysely<unknown>) {
        // Audit records with Entra's activity names (spec §5), written in the action's transaction.
        await db.schema.createTable('audit_log')
          .addColumn('id', serial, serialPk)
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('at', ms, (c) => c.notNull())
          .addColumn('activity', 'text', (c) => c.notNull())
          .addColumn('category', 'text', (c) => c.notNull())
          .addColumn('service', 'text', (c) => c.notNull())
          .addColumn('operation_type', 'text', (c) => c.notNull())
          .addColumn('actor_type', 'text', (c) => c.notNull())
          .addColumn('actor_id', 'text', (c) => c.notNull())
          .addColumn('actor_name', 'text')
          .addColumn('target_id', 'text')
          .addColumn('target_name', 'text')
          .addColumn('modified', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('result', 'text', (c) => c.notNull())
          .addColumn('result_reason', 'text')
          .addColumn('correlation_id', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('audit_log_at').on('audit_log').columns(['tenant_id', 'at']).execute();
        await db.schema.createIndex('audit_log_target').on('audit_log').columns(['target_id', 'at']).execute();
        // Events to deliver (back-channel logout, signals), written in the same transaction as the change.
        await db.schema.createTable('outbox')
          .addColumn('id', serial, serialPk)
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('at', ms, (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', ms, (c) => c.notNull())
          .addColumn('delivered_at', ms)
          .addColumn('failed_at', ms)
          .addColumn('last_error', 'text')
          .execute();
        await db.schema.createIndex('outbox_pending').on('outbox').columns(['delivered_at', 'failed_at', 'next_attempt_at']).execute();
        // Directory roles held by apps' service principals (D7: app-only password changes need one).
        await db.schema.createTable('app_directory_roles')
          .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
          .addColumn('role', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('app_directory_roles_pk', ['app_id', 'role'])
          .execute();
        // Smart lockout (spec §9, D12): counters per user and location class, bad-password HMACs.
        await db.schema.createTable('signin_lockouts')
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('location', 'text', (c) => c.notNull())
          .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('lockouts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('locked_until', ms)
          .addColumn('recent_bad', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('updated_at', ms, (c) => c.notNull())
          .addPrimaryKeyConstraint('signin_lockouts_pk', ['user_id', 'location'])
          .execute();
        await db.schema.createTable('familiar_locations')
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('prefix', 'text', (c) => c.notNull())
          .addColumn('last_success_at', ms, (c) => c.notNull())
          .addPrimaryKeyConstraint('familiar_locations_pk', ['user_id', 'prefix'])
          .execute();
        // Groups with members (Graph /groups).
        await db.schema.createTable('groups')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('display_name', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('is_assignable_to_role', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createTable('group_members')
          .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
          .execute();
      },
    },
    '0003_backchannel_logout': {
      async up(db: Kysely<unknown>) {
        // OIDC Back-Channel Logout 1.0: where an app receives logout tokens (null: it does not).
        await db.schema.alterTable('apps').addColumn('backchannel_logout_uri', 'text').execute();
      },
    },
    '0004_signin_aggregate': {
      async up(db: Kysely<unknown>) {
        // D11: successful refreshes are logged once per grant per hour; the key makes the insert idempotent
        // across processes (a plain unique index: NULLs, every other row, never conflict).
        await db.schema.alterTable('signin_log').addColumn('aggregate_key', 'text').execute();
        await db.schema.createIndex('signin_log_aggregate_key').unique().on('signin_log').column('aggregate_key').execute();
        // the methods of the sign-in (JSON amr), for the log's authenticationDetails
        await db.schema.alterTable('signin_log').addColumn('amr', 'text').execute();
        await db.schema.createIndex('signin_log_at').on('signin_log').columns(['tenant_id', 'at']).execute();
        // Graph /groups: mailNickname is required on create; group members are looked up by user too
        await db.schema.alterTable('groups').addColumn('mail_nickname', 'text').execute();
        await db.schema.createIndex('group_members_user').on('group_members').column('user_id').execute();
      },
    },
    '0005_graph_operations': {
      async up(db: Kysely<unknown>) {
        // D17: Graph's long-running operations (resetPassword's Location), kept in the database so the URL
        // answers on any instance and after a restart; the sweeper removes old rows.
        await db.schema.createTable('graph_operations')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('updated_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('graph_operations_created').on('graph_operations').column('created_at').execute();
      },
    },
    '0006_mfa': {
      async up(db: Kysely<unknown>) {
        // Authentication methods other than the password (spec §4): one row per method. Seeds are
        // AES-GCM sealed, TAP values kept as keyed hashes (D14); `state` holds the method's own settings.
        await db.schema.createTable('auth_methods')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
          .addColumn('display_name', 'text')
          .addColumn('secret', 'text')
          .addColumn('state', 'text', (c) => c.notNull().defaultTo('{}'))
          .addColumn('last_step', ms)
          .addColumn('used_at', ms)
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('last_used_at', ms)
          .addColumn('expires_at', ms)
          .execute();
        await db.schema.createIndex('auth_methods_user').on('auth_methods').columns(['user_id', 'type']).execute();
        // Wrong one-time codes per user and method in a sliding window (spec §9).
        await db.schema.createTable('mfa_failures')
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('method', 'text', (c) => c.notNull())
          .addColumn('window_start', ms, (c) => c.notNull())
          .addColumn('count', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('mfa_failures_pk', ['user_id', 'method'])
          .execute();
        // Tenant settings kept in the database and changed through /latchkey/v1 (audited).
        await db.schema.createTable('tenant_settings')
          .addColumn('tenant_id', 'text', (c) => c.primaryKey())
          .addColumn('remember_mfa_days', 'integer', (c) => c.notNull().defaultTo(14))
          .addColumn('registration_policy', 'text', (c) => c.notNull().defaultTo('anywhere'))
          .addColumn('wrong_code_limit', 'integer', (c) => c.notNull().defaultTo(5))
          .addColumn('security_defaults', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('updated_at', ms, (c) => c.notNull())
          .execute();
        // Per-user MFA (Graph beta authentication/requirements) and the default second method.
        await db.schema.alterTable('users').addColumn('per_user_mfa_state', 'text', (c) => c.notNull().defaultTo('disabled')).execute();
        await db.schema.alterTable('users').addColumn('preferred_mfa_method', 'text').execute();
        // An app registration (or API) that requires MFA (spec §8).
        await db.schema.alterTable('apps').addColumn('require_mfa', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        // What a browser session's sign-in did: MFA time, each step's method (D22), the TAP it came from (rule 5).
        await db.schema.alterTable('signin_sessions').addColumn('mfa_at', ms).execute();
        await db.schema.alterTable('signin_sessions').addColumn('methods', 'text', (c) => c.notNull().defaultTo('[]')).execute();
        await db.schema.alterTable('signin_sessions').addColumn('tap_id', 'text').execute();
        await db.schema.alterTable('signin_sessions').addColumn('tap_expires_at', ms).execute();
        // each step's method of an interactive sign-in, for the log's authenticationDetails (D22)
        await db.schema.alterTable('signin_log').addColumn('methods', 'text').execute();
      },
    },
    '0007_admin_plans': {
      async up(db: Kysely<unknown>) {
        // D21: plans made by a dry run of /latchkey/v1, kept until applied once or expired (then swept).
        // `plan` is JSON (input, fingerprint, preview, patch) and holds no secret: a chosen password is
        // there only as its argon2id hash.
        await db.schema.createTable('admin_plans')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('actor_kind', 'text', (c) => c.notNull())
          .addColumn('actor_id', 'text', (c) => c.notNull())
          .addColumn('target_id', 'text', (c) => c.notNull())
          .addColumn('plan', 'text', (c) => c.notNull())
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('expires_at', ms, (c) => c.notNull())
          .addColumn('applied_at', ms)
          .execute();
        await db.schema.createIndex('admin_plans_expires_at').on('admin_plans').column('expires_at').execute();
      },
    },
    '0008_device_code_attempts': {
      async up(db: Kysely<unknown>) {
        // Wrong user codes on the device-code page, per browser session and per IP address, in a one-minute
        // window from the first wrong code (keys are 'session:<keyed hash>' and 'ip:<address>'); the
        // sweeper deletes windows that have passed.
        await db.schema.createTable('device_code_attempts')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('window_start', ms, (c) => c.notNull())
          .addColumn('count', 'integer', (c) => c.notNull())
          .execute();
        // RFC 8628 §3.5: when a device code was last polled, for slow_down (plain, so the check is one
        // conditional update; the row goes with the device code).
        await db.schema.alterTable('oidc_models').addColumn('last_polled_at', ms).execute();
      },
    },
    '0009_methods_policy': {
      async up(db: Kysely<unknown>) {
        // Spec §7: the authentication methods policy, one row per tenant; `version` is bumped with every
        // write so cached copies are replaced. Tenants that exist get D23's defaults, as new ones do.
        await db.schema.createTable('methods_policy')
          .addColumn('tenant_id', 'text', (c) => c.primaryKey())
          .addColumn('policy', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('updated_at', ms, (c) => c.notNull())
          .execute();
        await sql`insert into methods_policy (tenant_id, policy, version, updated_at) select id, ${JSON.stringify(D23_METHODS_POLICY)}, 1, ${Date.now()} from tenants`.execute(db);
      },
    },
    '0010_passkeys': {
      async up(db: Kysely<unknown>) {
        // FIDO2 passkeys (spec §4): the WebAuthn credential id, by which a sign-in without a user name
        // finds its passkey; unique in a tenant (NULL for every other method).
        await db.schema.alterTable('auth_methods').addColumn('credential_id', 'text').execute();
        await db.schema.createIndex('auth_methods_credential').on('auth_methods').columns(['tenant_id', 'credential_id']).unique().execute();
      },
    },
    '0011_system_preferred_mfa': {
      async up(db: Kysely<unknown>) {
        // Graph beta signInPreferences.isSystemPreferredAuthenticationMethodEnabled per user: null follows
        // the tenant (system-preferred MFA on, as Entra manages it), 0 off (the user's default method is
        // offered first), 1 on (spec §8's order).
        await db.schema.alterTable('users').addColumn('system_preferred_mfa', 'integer').execute();
      },
    },
    '0012_drop_oidc_models_session_index': {
      async up(db: Kysely<unknown>) {
        // Nothing looks engine rows up by their session: every refresh token, code and session written paid
        // for an index no query used.
        await db.schema.dropIndex('oidc_models_session').ifExists().execute();
      },
    },
    // app registrations as Entra's application objects, the directory version (src/storage/migration-0013.ts)
    '0013_app_registrations': appRegistrations(ms),
    '0014_service_principals': {
      async up(db: Kysely<unknown>) {
        // Graph's servicePrincipal (issue 8): one per app and tenant; every app that exists gets one. Reads
        // only columns apps has had since 0001, so it runs with or without 0013.
        await db.schema.createTable('service_principals')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
          .addColumn('account_enabled', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('created_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('service_principals_app').unique().on('service_principals').columns(['tenant_id', 'app_id']).execute();
        const now = Date.now();
        const apps = await sql<{ id: string; tenant_id: string }>`select id, tenant_id from apps`.execute(db);
        for (const a of apps.rows) await sql`insert into service_principals (id, tenant_id, app_id, account_enabled, created_at) values (${crypto.randomUUID()}, ${a.tenant_id}, ${a.id}, 1, ${now})`.execute(db);
      },
    },
    '0015_playbook_runs': {
      async up(db: Kysely<unknown>) {
        // the compromised-account playbook's runs (spec §5): resumable step by step, never holding a secret
        await db.schema.createTable('playbook_runs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('target_id', 'text', (c) => c.notNull())
          .addColumn('actor_kind', 'text', (c) => c.notNull())
          .addColumn('actor_id', 'text', (c) => c.notNull())
          .addColumn('steps', 'text', (c) => c.notNull())
          .addColumn('next_step', 'integer', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('results', 'text', (c) => c.notNull())
          .addColumn('error', 'text')
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('updated_at', ms, (c) => c.notNull())
          .addColumn('completed_at', ms)
          .execute();
        await db.schema.createIndex('playbook_runs_target').on('playbook_runs').columns(['target_id', 'created_at']).execute();
      },
    },
    '0016_plan_lines_and_creation_times': {
      async up(db: Kysely<unknown>) {
        // A plan keeps the first page of its lists with the plan and the whole lists in a row of their own,
        // so an apply reads and claims (rewrites) a plan row of constant size whatever the user holds.
        await db.schema.createTable('admin_plan_lines')
          .addColumn('plan_id', 'text', (c) => c.primaryKey().references('admin_plans.id').onDelete('cascade'))
          .addColumn('lines', 'text', (c) => c.notNull())
          .execute();
        // When an engine row was made, so that apply lists the grants made after its plan without reading the
        // others. The account index gains it as its last column: no index more for the token path to write.
        await db.schema.alterTable('oidc_models').addColumn('created_at', ms).execute();
        await db.schema.dropIndex('oidc_models_account').execute();
        await db.schema.createIndex('oidc_models_account').on('oidc_models').columns(['account_id', 'model', 'created_at']).execute();
      },
    },
    '0017_service_principals_once': {
      async up(db: Kysely<unknown>) {
        // Until now every start made a service principal for any app without one; an app without one now
        // gets no token (AADSTS7000229), and a deleted one must stay deleted across restarts. Apps made since
        // the last start (Graph's POST /applications makes none) get theirs once here, as that start would have.
        const now = Date.now();
        const apps = await sql<{ id: string; tenant_id: string }>`select id, tenant_id from apps a where not exists (select 1 from service_principals s where s.app_id = a.id and s.tenant_id = a.tenant_id)`.execute(db);
        for (const a of apps.rows) await sql`insert into service_principals (id, tenant_id, app_id, account_enabled, created_at) values (${crypto.randomUUID()}, ${a.tenant_id}, ${a.id}, 1, ${now})`.execute(db);
      },
    },
  };
}

export class Migrations implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(migrations(this.dialect));
  }
}
