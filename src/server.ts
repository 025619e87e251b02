// Starts Latchkey: configuration → store (migrations) → master key → tenant and seed → signing keys →
// TLS → HTTP server, plus the sweeper of expired rows and the outbox deliverer. Used by main.ts and by
// the tests.
import fs from 'node:fs';
import net from 'node:net';
import type { Config } from './config/index.js';
import { Secrets } from './crypto/secrets.js';
import { ensureDemoAppUris, ensureTenant } from './directory/seed.js';
import { createMethodsPolicy } from './methods/policy.js';
import { ensureFirstPartyApps } from './directory/first-party.js';
import { ensureAdminPortalApp } from './admin-portal/app-registration.js';
import { bumpDirectoryVersion } from './directory/version.js';
import { backchannelLogoutSubscribers } from './events/backchannel-logout.js';
import { type Deliverer, startDeliverer } from './events/deliver.js';
import { buildApp, type LatchkeyApp } from './http/app.js';
import { loadSigningKeys } from './protocol/keys.js';
import { openStore, type Store } from './storage/db.js';
import { sweepExpired } from './storage/oidc-adapter.js';
import { loadTls, type TlsMaterial } from './tls/local-ca.js';
import { inBackground } from './storage/scope.js';

export interface RunningServer extends LatchkeyApp {
  config: Config;
  store: Store;
  secrets: Secrets;
  tls: TlsMaterial | undefined;
  /** delivers the outbox (back-channel logout) */
  deliverer: Deliverer;
  tenantId: string;
  tenantDomain: string;
  issuer: string;
  port: number;
  /** what first start printed once (one-time passwords, secrets) */
  printed: string[];
  close(): Promise<void>;
}

/** A free loopback port (port 0 in configuration): the issuer must name the port before the app is built. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startServer(config: Config): Promise<RunningServer> {
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  let sweeper: NodeJS.Timeout | undefined;
  let deliverer: Deliverer | undefined;
  try {
    const secrets = Secrets.load(config.masterKey, config.dataDir);
    const tls = loadTls({ mode: config.tls, dataDir: config.dataDir, certFile: config.tlsCert, keyFile: config.tlsKey, caPair: config.tlsCaCert });
    const port = config.port === 0 ? await freePort(config.host) : config.port;
    const origin = config.publicUrl || `${tls ? 'https' : 'http'}://localhost:${port}`;
    const seed = await ensureTenant(store.db, config, origin);
    // D23: a new tenant's authentication methods policy (a tenant that has one keeps it)
    await createMethodsPolicy(store.db, seed.tenant.id);
    await ensureFirstPartyApps(store.db, seed.tenant.id, origin);
    await ensureAdminPortalApp(store.db, seed.tenant.id, origin); // new and existing tenants; the redirect URI follows the origin
    await ensureDemoAppUris(store.db, origin);
    await bumpDirectoryVersion(store.db, seed.tenant.id); // other instances drop their client views of what the start changed
    const maxTokenLifetimeMs = Math.max(config.accessTokenMaxTtl, config.idTokenTtl) * 1000;
    const keys = await loadSigningKeys(store.db, secrets, maxTokenLifetimeMs);
    const built = buildApp({ config, db: store.db, secrets, tenant: seed.tenant, keys, tls, origin });
    await built.app.listen({ port, host: config.host });
    sweeper = setInterval(() => {
      inBackground(() => sweepExpired(store.db)).catch((err: unknown) => built.app.log.warn({ err }, 'sweep of expired rows failed'));
    }, config.sweepInterval * 1000);
    sweeper.unref();
    // Outbound calls trust Latchkey's own CA besides the system roots, so that an app served beside it
    // (the demo portal) verifies.
    const extraCa = tls?.caFile ? fs.readFileSync(tls.caFile) : undefined;
    deliverer = startDeliverer({
      db: store.db,
      subscribers: backchannelLogoutSubscribers({ db: store.db, provider: built.provider, outbound: { allowPrivate: config.allowPrivateOutbound, extraCa, ownOrigins: [origin] } }),
      log: built.app.log,
    });
    const running = deliverer;
    return {
      ...built,
      config,
      store,
      secrets,
      tls,
      deliverer: running,
      tenantId: seed.tenant.id,
      tenantDomain: seed.tenant.domain,
      issuer: `${origin}/${seed.tenant.id}/v2.0`,
      port,
      printed: seed.printed,
      async close() {
        clearInterval(sweeper);
        await running.stop();
        await built.app.close();
        await store.close();
      },
    };
  } catch (e) {
    clearInterval(sweeper);
    await deliverer?.stop();
    await store.close();
    throw e;
  }
}
