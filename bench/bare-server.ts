// The baseline: a plain oidc-provider over plain HTTP on loopback, with the engine's own in-memory
// adapter, configured like Latchkey where it matters for the token endpoint: RS256 (an RSA 2048 key made
// at start), JWT access tokens for the resource https://graph.microsoft.com through resourceIndicators,
// a rotating public client for refresh and a client_secret_post client for client credentials.
// Run by bench/run.ts; prints one JSON line ({benchReady, port, pid, ...}) on stdout when it listens.
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import Provider, { type Adapter, type Configuration } from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';
import { mintRefreshTokens, serveParent } from './child.js';
import { CLIENT_SECRET, GRAPH } from './protocol.js';

const PUBLIC_CLIENT = 'bench-native-app';
const CONFIDENTIAL_CLIENT = 'bench-automation-app';
const ACCOUNT_ID = crypto.randomUUID();

let handler: http.RequestListener = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = http.createServer((req, res) => handler(req, res));
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const { port } = server.address() as net.AddressInfo;
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };

// The engine's default adapter keeps at most ~2 000 entries (an LRU of maxSize 1000), which would evict
// the refresh tokens minted ahead of a run; same adapter class, with room for every token of the bench.
const store = new LRU({ maxSize: 1_000_000 });

const account = {
  accountId: ACCOUNT_ID,
  async claims() {
    return { sub: ACCOUNT_ID, name: 'Alice Example', preferred_username: 'alice@contoso.test', email: 'alice@contoso.test' };
  },
};

const configuration: Configuration = {
  adapter: (name: string): Adapter => new MemoryAdapter(name, store),
  jwks: { keys: [jwk as never] },
  clients: [
    {
      client_id: PUBLIC_CLIENT,
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
    },
    {
      client_id: CONFIDENTIAL_CLIENT,
      client_secret: CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: [],
      response_types: [],
      grant_types: ['client_credentials'],
    },
  ],
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'] },
  findAccount: async (_ctx, sub) => (sub === ACCOUNT_ID ? account : undefined),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      useGrantedResource: async () => true,
      defaultResource: async () => GRAPH,
      getResourceServerInfo: async () => ({
        scope: `${GRAPH}/User.Read ${GRAPH}/.default`,
        audience: GRAPH,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 3600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
  rotateRefreshToken: true,
  ttl: { AccessToken: 3600, ClientCredentials: 3600, IdToken: 3600, RefreshToken: 90 * 86400, Grant: 90 * 86400 },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
};

const provider = new Provider(issuer, configuration);
const callback = provider.callback();
// Koa's callback handles its own errors; its promise only says when the answer went out
handler = (req, res) => void callback(req, res);

serveParent({
  info: { name: 'bare', port, tokenUrl: `${issuer}/token`, issuer, refreshClientId: PUBLIC_CLIENT, ccClientId: CONFIDENTIAL_CLIENT, ccClientSecret: CLIENT_SECRET },
  mint: (n) => mintRefreshTokens(provider, PUBLIC_CLIENT, ACCOUNT_ID, n),
  close: () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
});
