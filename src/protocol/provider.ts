// The OAuth/OIDC engine (oidc-provider) configured to wear Entra ID v2's shape: URLs, scope-based
// resources, claims, client_info, AADSTS errors. Every departure from the engine's defaults that relies
// on undocumented behaviour is pinned by tests/engine-workarounds.test.ts. The pieces: engine-config.ts
// (configuration), account.ts, claims.ts, resource-indicators.ts, grants.ts, pages.ts,
// browser-sessions.ts, entra-middleware.ts.
import Provider from 'oidc-provider';
import { type ProviderDeps, engineConfiguration } from './engine-config.js';
import { type ResourceDirectory, resourceDirectory } from './resource-indicators.js';
import { installEntraShape } from './entra-middleware.js';
import { extendGrantPayload } from './grants.js';

export type { ProviderDeps } from './engine-config.js';
export { clientMetadata } from './client-view.js';
export { ROUTES, MULTI_TENANT_ALIASES, TENANT_ALIAS } from './routes.js';

const directories = new WeakMap<Provider, ResourceDirectory>();

/** The engine's view of app registrations and consents (the directory cache), for the sign-in pages. */
export function resourceDirectoryOf(provider: Provider): ResourceDirectory {
  const d = directories.get(provider);
  if (!d) throw new Error('not an engine made by createProvider');
  return d;
}

export function createProvider(providerDeps: ProviderDeps): Provider {
  const { tenant, origin } = providerDeps;
  const issuer = `${origin}/${tenant.id}/v2.0`;
  // App registrations and consents change rarely and are read on every token request.
  const deps = { ...providerDeps, resources: resourceDirectory(providerDeps.db, tenant.id, providerDeps.directoryCacheMs ?? 5000) };

  const provider = new Provider(issuer, engineConfiguration(deps));
  directories.set(provider, deps.resources);
  provider.proxy = true;
  extendGrantPayload(provider);

  // D14: client secrets are hashed at rest; compare against the stored hashes.
  const Client = provider.Client as unknown as { prototype: Record<string, unknown> };
  Client.prototype.compareClientSecret = async function (this: { clientId: string }, actual: string) {
    return deps.secretVerifier.verify(this.clientId, actual);
  };
  // D16: sid as the engine issues it (one per app per browser session) in every ID token, not only for
  // back-channel-logout clients.
  Client.prototype.includeSid = () => true;

  installEntraShape(provider, deps);
  return provider;
}
