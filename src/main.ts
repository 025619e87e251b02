// Entry point: `npm start`. Loads configuration (a bad value stops here with a clear message) and starts.
import { ConfigError, loadConfig, productionWarnings } from './config/index.js';
import { startServer } from './server.js';
import { ensurePortalBuilt } from './admin-portal/build.js';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`latchkey: configuration error: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) console.warn(`latchkey: Node.js ${process.versions.node} works, but Node.js 22 or 24 is recommended.`);
  // the admin portal is built when missing or older than its sources (README: install, then start)
  // (a failed build, e.g. a read-only install, leaves the rest of Latchkey working; /admin then says so)
  await ensurePortalBuilt((line) => console.log(line)).catch((e: unknown) => console.warn(`latchkey: the admin portal could not be built: ${e instanceof Error ? e.message : String(e)}`));
  const server = await startServer(config);
  const lines = [
    '',
    `Latchkey is running for tenant ${server.tenantDomain} (${server.tenantId})`,
    `  issuer:     ${server.issuer}`,
    `  discovery:  ${server.origin}/${server.tenantId}/v2.0/.well-known/openid-configuration`,
  ];
  lines.push(`  admin:      ${server.origin}/admin/`);
  if (config.demo) lines.push(`  demo:       ${server.origin}/demo/`);
  if (server.tls?.caFile) lines.push(`  TLS: trust the local CA ${server.tls.caFile}`, `       Node.js clients: NODE_EXTRA_CA_CERTS=${server.tls.caFile}`, '       browsers: import it as a trusted authority, or accept the certificate warning');
  for (const p of server.printed) lines.push(`  ${p}`);
  for (const w of productionWarnings(config)) lines.push(`  note: ${w}`);
  console.log(lines.join('\n') + '\n');
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error('latchkey: failed to start:', e instanceof Error ? e.message : e);
  process.exit(1);
});
