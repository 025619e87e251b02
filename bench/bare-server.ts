// The baseline: a plain oidc-provider over plain HTTP on loopback, with the engine's own in-memory
// adapter, configured like Latchkey where it matters for the token endpoint: RS256 (an RSA 2048 key made
// at start), JWT access tokens for the resource https://graph.microsoft.com through resourceIndicators,
// a rotating public client for refresh and a client_secret_post client for client credentials.
// Run by bench/run.ts; prints one JSON line ({benchReady, port, pid, ...}) on stdout when it listens.
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { verify as argonVerify } from '@node-rs/argon2';
import Provider, { type Adapter, type Configuration } from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';
import { argon2Verifies, benchHash, mintRefreshTokens, serveParent, SIGNIN_PASSWORD } from './child.js';
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
  ttl: { AccessToken: 3600, ClientCredentials: 3600, IdToken: 3600, RefreshToken: 90 * 86400, Grant: 90 * 86400, Interaction: 3600, Session: 14 * 86400 },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
};

const provider = new Provider(issuer, configuration);
const callback = provider.callback();

// The floor of an interactive sign-in on this engine (password-signin's last table): the engine's own
// authorization-code flow with the thinnest interaction one can write around it. GET /interaction/{uid}
// shows a form with one password field; its POST checks the password with one argon2id verify (a hash made
// by Latchkey's hashPassword), grants the scopes asked and finishes the interaction. No user name page,
// no CSRF token, no lockout, no sign-in log, no database: 4 requests, authorize to code.
const INTERACTION = /^\/interaction\/([\w-]{1,64})$/;
async function interaction(req: http.IncomingMessage, res: http.ServerResponse, uid: string): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction cookie mismatch');
  if (req.method === 'GET') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>Sign in</title><form method="post" action="/interaction/${uid}"><input type="password" name="passwd"><button>Sign in</button></form>`);
    return;
  }
  let body = '';
  for await (const chunk of req) body += String(chunk);
  const typed = new URLSearchParams(body).get('passwd') ?? '';
  if (!(await argonVerify(await benchHash(SIGNIN_PASSWORD), typed))) {
    res.statusCode = 400;
    res.end('wrong password');
    return;
  }
  const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: ACCOUNT_ID }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

// The HTTP floor (password-signin's last table): the same four requests and the same argon2id verify with
// nothing of an identity provider around them, node:http alone: GET /http-floor/auth sets a cookie and
// sends the browser to the password page; its POST verifies and sends it on; the last GET checks the
// cookie and answers with a random code and the state. No engine, store, parameter checks or signing.
const HTTP_FLOOR = /^\/http-floor\/(auth|interaction|resume)(?:\/([\w-]{1,64}))?(?:\?|$)/;
const httpFloorFlows = new Map<string, { redirect: string; state: string }>();
async function httpFloor(req: http.IncomingMessage, res: http.ServerResponse, step: string, uid: string | undefined): Promise<void> {
  const url = new URL(req.url ?? '/', issuer);
  if (step === 'auth') {
    const id = crypto.randomBytes(16).toString('base64url');
    httpFloorFlows.set(id, { redirect: url.searchParams.get('redirect_uri') ?? '', state: url.searchParams.get('state') ?? '' });
    res.writeHead(303, { location: `/http-floor/interaction/${id}`, 'set-cookie': `_floor=${id}; path=/http-floor; httponly; samesite=lax` });
    return void res.end();
  }
  const flow = uid === undefined ? undefined : httpFloorFlows.get(uid);
  if (!flow || !req.headers.cookie?.includes(`_floor=${uid}`)) {
    res.statusCode = 400;
    return void res.end('unknown flow');
  }
  if (step === 'interaction' && req.method === 'GET') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    return void res.end(`<!doctype html><title>Sign in</title><form method="post" action="/http-floor/interaction/${uid}"><input type="password" name="passwd"><button>Sign in</button></form>`);
  }
  if (step === 'interaction') {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    if (!(await argonVerify(await benchHash(SIGNIN_PASSWORD), new URLSearchParams(body).get('passwd') ?? ''))) {
      res.statusCode = 400;
      return void res.end('wrong password');
    }
    res.writeHead(303, { location: `/http-floor/resume/${uid}` });
    return void res.end();
  }
  httpFloorFlows.delete(uid!);
  res.writeHead(303, { location: `${flow.redirect}?${new URLSearchParams({ code: crypto.randomBytes(32).toString('base64url'), state: flow.state })}` });
  res.end();
}

handler = (req, res) => {
  const f = HTTP_FLOOR.exec(req.url ?? '');
  if (f)
    return void httpFloor(req, res, f[1]!, f[2]).catch((e: unknown) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  const m = INTERACTION.exec(req.url ?? '');
  if (m)
    return void interaction(req, res, m[1]!).catch((e: unknown) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  // Koa's callback handles its own errors; its promise only says when the answer went out
  void callback(req, res);
};

serveParent({
  info: { name: 'bare', port, tokenUrl: `${issuer}/token`, issuer, refreshClientId: PUBLIC_CLIENT, ccClientId: CONFIDENTIAL_CLIENT, ccClientSecret: CLIENT_SECRET },
  mint: (n) => mintRefreshTokens(provider, PUBLIC_CLIENT, ACCOUNT_ID, n),
  async extra(msg) {
    if (msg.cmd === 'argon2') return argon2Verifies(SIGNIN_PASSWORD, msg.n, msg.concurrency);
    throw new Error(`the bare server does not know the command ${msg.cmd}`);
  },
  close: () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
});
