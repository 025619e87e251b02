// The one documented, validated source of configuration: every key has a default, a description and
// its environment variable. docs/configuration.md is generated from `settings` (scripts/gen-config-docs.ts).

export type Kind = 'string' | 'int' | 'bool' | 'url' | 'enum' | 'secret';

interface Setting<T> {
  env: string;
  kind: Kind;
  description: string;
  default: T;
  /** shown instead of the default in the docs when the default is computed */
  defaultDoc?: string;
  values?: readonly string[];
  min?: number;
  max?: number;
  /** printed once at start when the default is in force and should change in production */
  productionWarning?: string;
}

function s<T>(def: Setting<T>): Setting<T> {
  return def;
}

export const settings = {
  dataDir: s({ env: 'LATCHKEY_DATA_DIR', kind: 'string', default: './data', description: 'Folder for the SQLite database, the master key and the generated TLS material.' }),
  databaseUrl: s({ env: 'LATCHKEY_DATABASE_URL', kind: 'string', default: '', description: 'PostgreSQL connection URL (`postgres://...`). Empty: an embedded SQLite database in the data folder.' }),
  host: s({ env: 'LATCHKEY_HOST', kind: 'string', default: '127.0.0.1', description: 'Address to listen on. `::` or `0.0.0.0` to listen on every interface.' }),
  port: s({ env: 'LATCHKEY_PORT', kind: 'int', default: 8443, min: 0, max: 65535, description: 'Port to listen on (0: any free port).' }),
  publicUrl: s({ env: 'LATCHKEY_PUBLIC_URL', kind: 'string', default: '', defaultDoc: '`https://localhost:{port}`', description: 'Origin that browsers and clients use, without a trailing slash. The issuer is `{publicUrl}/{tenantId}/v2.0`.' }),
  tls: s({ env: 'LATCHKEY_TLS', kind: 'enum', values: ['auto', 'files', 'off'] as const, default: 'auto' as 'auto' | 'files' | 'off', description: '`auto`: use the CA and certificate in `tls/` of the data folder, creating a local CA on first start; `files`: use `tlsCert`/`tlsKey`; `off`: plain HTTP, for running behind a TLS-terminating proxy (set `publicUrl` and `trustProxy`).' }),
  tlsCert: s({ env: 'LATCHKEY_TLS_CERT', kind: 'string', default: '', description: 'PEM certificate chain file (with `tls=files`).' }),
  tlsKey: s({ env: 'LATCHKEY_TLS_KEY', kind: 'string', default: '', description: 'PEM private key file (with `tls=files`).' }),
  tlsCaCert: s({ env: 'LATCHKEY_TLS_CA_CERT', kind: 'string', default: '', description: 'PEM CA certificate and key files to sign the server certificate with, as `cert.pem,key.pem` (with `tls=auto`). Empty: a local CA is created in the data folder.' }),
  trustProxy: s({ env: 'LATCHKEY_TRUST_PROXY', kind: 'bool', default: false, description: 'Trust `X-Forwarded-*` headers (only behind a proxy you control).' }),
  masterKey: s({ env: 'LATCHKEY_MASTER_KEY', kind: 'secret', default: '', description: 'Base64 32-byte key that encrypts signing keys and engine secrets at rest. Empty: a 0600 file `master.key` in the data folder is used (created on first start).', productionWarning: 'the master key is a file next to the database; set LATCHKEY_MASTER_KEY from a secret store in production' }),
  tenantId: s({ env: 'LATCHKEY_TENANT_ID', kind: 'string', default: '', defaultDoc: 'random GUID at first start', description: 'Tenant id (GUID) to create at first start.' }),
  tenantDomain: s({ env: 'LATCHKEY_TENANT_DOMAIN', kind: 'string', default: 'contoso.test', description: 'Verified domain of the tenant created at first start; user names end with `@{domain}`.' }),
  demo: s({ env: 'LATCHKEY_DEMO', kind: 'bool', default: true, description: 'Create the demo users and apps at first start, and serve the demo portal and API under `/demo`.' }),
  securityDefaults: s({ env: 'LATCHKEY_SECURITY_DEFAULTS', kind: 'bool', default: true, description: "Security defaults (Graph's `identitySecurityDefaultsEnforcementPolicy`, spec D18) of the tenant created at first start: on, every interactive sign-in asks for MFA, and a user with no MFA method registers one at sign-in, with no skip (D26). A tenant that exists keeps its own value; Graph PATCH changes it." }),
  bootstrapAdminUsername: s({ env: 'LATCHKEY_BOOTSTRAP_ADMIN_USERNAME', kind: 'string', default: 'admin', description: 'Local part of the Global Administrator created at first start.' }),
  bootstrapAdminPassword: s({ env: 'LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD', kind: 'secret', default: '', description: 'Password of the bootstrap admin. Empty: a one-time password is generated, printed once, and must be changed at first sign-in.' }),
  automationClientSecret: s({ env: 'LATCHKEY_AUTOMATION_CLIENT_SECRET', kind: 'secret', default: '', description: 'Client secret of the automation app created at first start. Empty: generated and printed once.' }),
  seedFile: s({ env: 'LATCHKEY_SEED_FILE', kind: 'string', default: '', description: 'JSON seed file (see docs/seed.md) applied at first start to create users and apps.' }),
  passwordMinLength: s({ env: 'LATCHKEY_PASSWORD_MIN_LENGTH', kind: 'int', default: 8, min: 8, max: 256, description: 'Minimum password length (spec D13).' }),
  lockoutThreshold: s({ env: 'LATCHKEY_LOCKOUT_THRESHOLD', kind: 'int', default: 10, min: 1, max: 1000, description: 'Smart lockout: failed passwords (distinct ones; spec §9) from one kind of location, familiar or unfamiliar, that lock the account.' }),
  lockoutDurationSeconds: s({ env: 'LATCHKEY_LOCKOUT_DURATION', kind: 'int', default: 60, min: 1, max: 86400, description: 'Smart lockout: seconds the first lockout lasts; each further lockout doubles it, up to an hour (or this value, if longer).' }),
  accessTokenMinTtl: s({ env: 'LATCHKEY_ACCESS_TOKEN_MIN_TTL', kind: 'int', default: 3600, min: 1, description: 'Shortest access-token lifetime, seconds; each token gets a random lifetime between min and max (spec D1).' }),
  accessTokenMaxTtl: s({ env: 'LATCHKEY_ACCESS_TOKEN_MAX_TTL', kind: 'int', default: 5400, min: 1, description: 'Longest access-token lifetime, seconds.' }),
  idTokenTtl: s({ env: 'LATCHKEY_ID_TOKEN_TTL', kind: 'int', default: 3600, min: 1, description: 'ID-token lifetime, seconds.' }),
  refreshTokenTtl: s({ env: 'LATCHKEY_REFRESH_TOKEN_TTL', kind: 'int', default: 90 * 86400, min: 1, description: 'Refresh-token lifetime for public and confidential clients, seconds (sliding through rotation for public clients, from issue for confidential ones; spec D2).' }),
  spaRefreshTokenTtl: s({ env: 'LATCHKEY_SPA_REFRESH_TOKEN_TTL', kind: 'int', default: 86400, min: 1, description: 'Refresh-token lifetime for SPA clients, seconds, fixed.' }),
  sessionTtl: s({ env: 'LATCHKEY_SESSION_TTL', kind: 'int', default: 86400, min: 1, description: 'Inactivity limit of a browser session that is not persistent (Stay signed in = No), seconds.' }),
  persistentSessionTtl: s({ env: 'LATCHKEY_PERSISTENT_SESSION_TTL', kind: 'int', default: 90 * 86400, min: 1, description: 'Sliding lifetime of a persistent browser session (Stay signed in = Yes), seconds.' }),
  authorizationCodeTtl: s({ env: 'LATCHKEY_AUTHORIZATION_CODE_TTL', kind: 'int', default: 60, min: 1, max: 600, description: 'Authorization-code lifetime, seconds.' }),
  deviceCodeTtl: s({ env: 'LATCHKEY_DEVICE_CODE_TTL', kind: 'int', default: 900, min: 1, description: 'Device-code lifetime, seconds.' }),
  deviceCodeInterval: s({ env: 'LATCHKEY_DEVICE_CODE_INTERVAL', kind: 'int', default: 5, min: 1, max: 60, description: 'Seconds a device must wait between polls of the token endpoint (the `interval` of a device-code response); polling faster is answered `slow_down` (RFC 8628 §3.5).' }),
  wrongCodeWindow: s({ env: 'LATCHKEY_WRONG_CODE_WINDOW', kind: 'int', default: 600, min: 1, max: 86_400, description: 'Window, seconds, over which wrong one-time codes are counted per user and method (the limit itself is a tenant setting, default 5; spec §9).' }),
  signInFlowTtl: s({ env: 'LATCHKEY_SIGNIN_FLOW_TTL', kind: 'int', default: 3600, min: 1, description: 'Lifetime of an unfinished sign-in flow, seconds.' }),
  adminPlanTtl: s({ env: 'LATCHKEY_ADMIN_PLAN_TTL', kind: 'int', default: 600, min: 1, max: 86_400, description: 'Lifetime, seconds, of a plan made by a dry run of `/latchkey/v1` (spec D21): applying it later is refused with 412, and the sweeper deletes it.' }),
  webauthnRpId: s({ env: 'LATCHKEY_WEBAUTHN_RP_ID', kind: 'string', default: '', defaultDoc: "the host name of `publicUrl`", description: 'WebAuthn relying-party id of passkeys (a host name: the public URL\'s or a registrable parent of it). Passkeys registered under one id do not work under another.' }),
  webauthnOrigins: s({ env: 'LATCHKEY_WEBAUTHN_ORIGINS', kind: 'string', default: '', defaultDoc: '`publicUrl`', description: 'Comma-separated origins whose passkey ceremonies are accepted (`https://login.contoso.com,https://id.contoso.com`). Empty: the public URL only.' }),
  sweepInterval: s({ env: 'LATCHKEY_SWEEP_INTERVAL', kind: 'int', default: 300, min: 1, description: 'Seconds between sweeps of expired rows.' }),
  logLevel: s({ env: 'LATCHKEY_LOG_LEVEL', kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, default: 'info' as 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent', description: 'Log level.' }),
  allowPrivateOutbound: s({ env: 'LATCHKEY_ALLOW_PRIVATE_OUTBOUND', kind: 'bool', default: false, description: 'Allow outbound calls (back-channel logout, signals) to loopback and private addresses; for tests and the demo only.' }),
} as const;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: Settings[K]['default'] };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseValue(key: string, def: Setting<unknown>, raw: string): unknown {
  const where = `${def.env} (${key})`;
  switch (def.kind) {
    case 'string':
    case 'secret':
    case 'url':
      return raw;
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new ConfigError(`${where} must be true or false, got "${raw}"`);
    }
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${where} must be a whole number, got "${raw}"`);
      const n = Number(raw);
      if (def.min !== undefined && n < def.min) throw new ConfigError(`${where} must be at least ${def.min}, got ${n}`);
      if (def.max !== undefined && n > def.max) throw new ConfigError(`${where} must be at most ${def.max}, got ${n}`);
      return n;
    }
    case 'enum':
      if (!def.values?.includes(raw)) throw new ConfigError(`${where} must be one of ${def.values?.join(', ')}, got "${raw}"`);
      return raw;
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads configuration from the environment (and overrides, used by tests); throws ConfigError on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(settings) as [string, Setting<unknown>][]) {
    const raw = env[def.env];
    out[key] = raw === undefined || raw === '' ? def.default : parseValue(key, def, raw);
  }
  const config = { ...(out as Config), ...overrides };
  if (config.accessTokenMinTtl > config.accessTokenMaxTtl) {
    throw new ConfigError(`LATCHKEY_ACCESS_TOKEN_MIN_TTL (${config.accessTokenMinTtl}) must not exceed LATCHKEY_ACCESS_TOKEN_MAX_TTL (${config.accessTokenMaxTtl})`);
  }
  if (config.tenantId && !GUID.test(config.tenantId)) throw new ConfigError(`LATCHKEY_TENANT_ID must be a GUID, got "${config.tenantId}"`);
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(config.tenantDomain)) throw new ConfigError(`LATCHKEY_TENANT_DOMAIN must be a domain name such as contoso.test, got "${config.tenantDomain}"`);
  if (config.tls === 'files' && (!config.tlsCert || !config.tlsKey)) throw new ConfigError('LATCHKEY_TLS=files needs LATCHKEY_TLS_CERT and LATCHKEY_TLS_KEY');
  if (config.tls === 'off' && !config.publicUrl) throw new ConfigError('LATCHKEY_TLS=off needs LATCHKEY_PUBLIC_URL (the https origin of the TLS proxy)');
  if (config.publicUrl) {
    let u: URL;
    try {
      u = new URL(config.publicUrl);
    } catch {
      throw new ConfigError(`LATCHKEY_PUBLIC_URL must be an absolute URL, got "${config.publicUrl}"`);
    }
    if (u.pathname !== '/' || config.publicUrl.endsWith('/') || u.search || u.hash) throw new ConfigError(`LATCHKEY_PUBLIC_URL must be an origin without path or trailing slash, got "${config.publicUrl}"`);
    if (u.protocol !== 'https:') throw new ConfigError(`LATCHKEY_PUBLIC_URL must be https (browsers need Secure cookies), got "${config.publicUrl}"`);
  }
  if (config.databaseUrl && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) throw new ConfigError('LATCHKEY_DATABASE_URL must start with postgres:// or postgresql://');
  if (config.masterKey && Buffer.from(config.masterKey, 'base64').length !== 32) throw new ConfigError('LATCHKEY_MASTER_KEY must be 32 bytes, base64-encoded');
  return config;
}

/** Markdown for docs/configuration.md. */
export function configurationMarkdown(): string {
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/index.ts by `npm run docs:config`; a test fails when this file is stale. -->',
    '',
    'Every setting is read from an environment variable. A bad value stops start-up with a message naming the variable.',
    '',
    '| variable | type | default | description |',
    '|---|---|---|---|',
  ];
  for (const def of Object.values(settings) as Setting<unknown>[]) {
    const type = def.kind === 'enum' ? def.values?.map((v) => `\`${v}\``).join(' \\| ') : def.kind;
    const dflt = def.defaultDoc ?? (def.default === '' ? '(empty)' : `\`${String(def.default)}\``);
    lines.push(`| \`${def.env}\` | ${type} | ${dflt} | ${def.description.replace(/\|/g, '\\|')} |`);
  }
  return lines.join('\n') + '\n';
}

export function productionWarnings(config: Config): string[] {
  const out: string[] = [];
  for (const [key, def] of Object.entries(settings) as [keyof Config, Setting<unknown>][]) {
    if (def.productionWarning && config[key] === def.default) out.push(def.productionWarning);
  }
  return out;
}
