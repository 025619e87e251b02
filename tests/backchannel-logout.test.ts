// Back-channel logout from the outbox: revoking a user's sessions signs her out of the demo portal (real
// Chromium) within seconds, with a logout token for the sid the portal holds (D16); a relying party that
// fails is retried with backoff and marked failed, independently of the others; several deliverers never
// deliver an event twice; the outbound client refuses loopback and private targets unless configured for
// tests, and never calls them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { type JSONWebKeySet, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { Browser } from 'playwright-core';
import { createApp } from '../src/directory/apps.js';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn } from '../src/directory/users.js';
import { BACKCHANNEL_LOGOUT_EVENT, backchannelLogoutSubscribers, logoutToken } from '../src/events/backchannel-logout.js';
import { type Deliverer, startDeliverer } from '../src/events/deliver.js';
import { OutboundRefused, outboundPost, specialUseReason } from '../src/events/outbound.js';
import { enqueue } from '../src/events/outbox.js';
import { browserSkipReason, launchBrowser, signInToDemoPortal } from './helpers/browser.js';
import { token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';
import { eventually } from './helpers/eventually.js';

const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';


interface Received {
  contentType: string | undefined;
  body: URLSearchParams;
}

/** A tiny relying party: answers every POST with `status(n)` (n = its request number, from 1) and records them. */
async function fakeRp(tlsMaterial: { key: string; cert: string } | undefined, status: (n: number) => number): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ contentType: req.headers['content-type'], body: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
      res.statusCode = status(received.length);
      res.end();
    });
  };
  const server = tlsMaterial ? https.createServer({ key: tlsMaterial.key, cert: tlsMaterial.cert }, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `${tlsMaterial ? 'https' : 'http'}://localhost:${port}/backchannel-logout`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function newRpApp(server: TestServer, name: string, backchannelLogoutUri?: string) {
  return createApp(server.store.db, { tenantId: server.tenantId, displayName: name, kind: 'web', redirectUris: [`https://${name.toLowerCase()}.example/cb`], backchannelLogoutUri });
}

function outboxRows(server: TestServer, type: string) {
  return server.store.db.selectFrom('outbox').selectAll().where('type', '=', type).orderBy('id').execute();
}

async function idpKeys(server: TestServer) {
  return createLocalJWKSet((await (await fetch(`${server.tenantUrl}/discovery/v2.0/keys`)).json()) as JSONWebKeySet);
}

describe('outbound client: address classification (no network)', () => {
  const refused: [string, RegExp][] = [
    ['127.0.0.1', /loopback/],
    ['127.8.9.10', /loopback/],
    ['0.0.0.0', /this network/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['169.254.1.1', /link-local/],
    ['169.254.169.254', /link-local/],
    ['100.64.0.1', /shared address space/],
    ['192.0.2.10', /documentation/],
    ['198.18.0.1', /benchmarking/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /reserved/],
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['fc00::1', /unique-local/],
    ['fd12:3456::1', /unique-local/],
    ['fe80::1', /link-local/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /loopback \(IPv4-mapped\)/],
    ['::ffff:7f00:1', /loopback \(IPv4-mapped\)/],
    ['::ffff:10.0.0.1', /private/],
    ['::ffff:8.8.8.8', /IPv4-mapped/],
    ['64:ff9b::7f00:1', /NAT64/],
    ['2001:db8::1', /documentation/],
    ['2002:7f00:1::1', /6to4/],
    ['[::1]', /loopback/],
    ['localhost', /not an IP address/],
  ];
  for (const [address, why] of refused) {
    test(`${address} is refused (${why.source})`, () => {
      assert.match(specialUseReason(address) ?? '(allowed)', why);
    });
  }
  for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2001:4860::8888', '2606:4700:4700::1111', '[2001:4860::8888]']) {
    test(`${address} is allowed`, () => {
      assert.equal(specialUseReason(address), undefined);
    });
  }

  test('outboundPost refuses before connecting: plain http, a loopback literal, a name resolving to loopback, credentials', async () => {
    const strict = { allowPrivate: false };
    await assert.rejects(outboundPost('http://rp.example/logout', 'x', {}, strict), (e: unknown) => e instanceof OutboundRefused && /only https/.test(e.message));
    await assert.rejects(outboundPost('https://127.0.0.1:1/logout', 'x', {}, strict), (e: unknown) => e instanceof OutboundRefused && /loopback/.test(e.message));
    await assert.rejects(outboundPost('https://[::1]:1/logout', 'x', {}, strict), (e: unknown) => e instanceof OutboundRefused && /loopback/.test(e.message));
    await assert.rejects(outboundPost('https://[::ffff:127.0.0.1]:1/logout', 'x', {}, strict), (e: unknown) => e instanceof OutboundRefused && /loopback/.test(e.message));
    await assert.rejects(outboundPost('https://localhost:1/logout', 'x', {}, strict), (e: unknown) => e instanceof OutboundRefused && /localhost resolves to .* loopback/.test(e.message));
    await assert.rejects(outboundPost('https://user:pw@rp.example/logout', 'x', {}, strict), (e: unknown) => e instanceof OutboundRefused && /credentials/.test(e.message));
    await assert.rejects(outboundPost('not a url', 'x', {}, strict), OutboundRefused);
  });
});

describe('demo portal back-channel logout receiver', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite', { allowPrivateOutbound: true });
  });
  after(async () => {
    await server?.close();
  });

  const post = (body: Record<string, string>) => fetch(`${server.origin}/demo/backchannel-logout`, { method: 'POST', body: new URLSearchParams(body) });

  test('a missing, unsigned, tampered or foreign-audience logout token is answered 400 invalid_request, no-store', async () => {
    const client = (await server.provider.Client.find(DEMO.webAppId))!;
    const good = await logoutToken(server.provider, client, 'some-user', 'some-sid');
    const [h, p] = good.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sid: 'other' })).toString('base64url')}.${good.split('.')[2]}`;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'logout+jwt' })).toString('base64url')}.${p}.`;
    const otherApp = await logoutToken(server.provider, (await server.provider.Client.find(DEMO.automationAppId))!, 'some-user', 'some-sid');
    for (const [what, body] of [['missing', {}], ['garbage', { logout_token: 'not.a.jwt' }], ['tampered', { logout_token: forged }], ['unsigned', { logout_token: unsigned }], ['for another app', { logout_token: otherApp }]] as const) {
      const res = await post(body);
      assert.equal(res.status, 400, what);
      assert.equal(res.headers.get('cache-control'), 'no-store', what);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_request', what);
    }
    assert.equal((await post({ logout_token: good })).status, 200, 'a valid token for a session the portal does not have');
  });
});

describe('back-channel logout to the demo portal in Chromium', { skip: browserSkipReason() }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer('sqlite', { allowPrivateOutbound: true });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('revokeSignInSessions signs the user out of the portal within seconds, by the sid the portal holds (D16)', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await signInToDemoPortal(page, server.origin, `alice@${server.tenantDomain}`, DEMO.demoPassword);
    const idClaims = Object.fromEntries(await page.$$eval('#idClaims tr', (rows) => rows.map((r) => [r.children[0]?.textContent ?? '', r.children[1]?.textContent ?? '']))) as Record<string, string>;
    const heldSid = idClaims.sid;
    assert.ok(heldSid, 'the portal holds an ID token with a sid');
    const alice = (await findUserByUpn(server.store.db, server.tenantId, `alice@${server.tenantDomain}`))!;
    assert.equal(idClaims.sub, alice.id);

    // A genuine logout token for another sid of the same user leaves the portal session alone: the portal
    // ends only the session whose ID token carries the token's sid.
    const client = (await server.provider.Client.find(DEMO.webAppId))!;
    const other = await fetch(`${server.origin}/demo/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: await logoutToken(server.provider, client, alice.id, `${heldSid}-other`) }) });
    assert.equal(other.status, 200);
    await page.reload();
    assert.equal(await page.textContent('#userName'), 'Alice Example', 'still signed in after a logout token for another sid');

    const cc = await token(server, { grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: 'https://graph.microsoft.com/.default' });
    assert.ok(cc.body.access_token, JSON.stringify(cc.body));
    const revokedAt = Date.now();
    const res = await fetch(`${server.origin}/v1.0/users/${alice.id}/revokeSignInSessions`, { method: 'POST', headers: { authorization: `Bearer ${cc.body.access_token}` } });
    assert.equal(res.status, 200);

    await eventually('the portal shows signed out', async () => {
      await page.goto(`${server.origin}/demo/`);
      return (await page.content()).includes('You are not signed in') ? true : undefined;
    });
    const signedOutAfter = Date.now() - revokedAt;
    assert.ok(signedOutAfter < 5000, `signed out after ${signedOutAfter} ms`);

    // the event written with the revocation carries the portal's sid, and it was delivered
    const [revoked] = await outboxRows(server, 'user.sessions.revoked');
    assert.ok(revoked?.delivered_at, 'the revocation event is delivered');
    const payload = JSON.parse(revoked.payload) as { userId: string; sessions: { apps: { clientId: string; sid: string }[] }[] };
    assert.equal(payload.userId, alice.id);
    assert.deepEqual(payload.sessions.flatMap((s) => s.apps).filter((a) => a.clientId === DEMO.webAppId).map((a) => a.sid), [heldSid]);
    const logouts = await outboxRows(server, BACKCHANNEL_LOGOUT_EVENT);
    assert.deepEqual(logouts.map((r) => [JSON.parse(r.payload) as unknown, r.attempts, r.delivered_at !== null, r.failed_at]), [[{ userId: alice.id, clientId: DEMO.webAppId, sid: heldSid, reason: 'revokeSessions' }, 1, true, null]]);
    await context.close();
  });
});

for (const dbKind of await databases()) {
  describe(`outbox delivery: retries, failure, claims (${dbKind})`, () => {
    let server: TestServer;
    let deliverers: Deliverer[] = [];
    const rps: { close: () => Promise<void> }[] = [];
    // the RP answers at once; a long time limit keeps a loaded machine from ending an attempt after the RP
    // read it (a timed-out attempt is retried by design, and would be a second receipt)
    const fast = (extra: { maxAttempts?: number } = {}) =>
      startDeliverer({
        db: server.store.db,
        subscribers: backchannelLogoutSubscribers({ db: server.store.db, provider: server.provider, outbound: { allowPrivate: true, extraCa: server.tls?.caFile ? fs.readFileSync(server.tls.caFile) : undefined, timeoutMs: 60_000 } }),
        pollMs: 10,
        backoffBaseMs: 20,
        ...extra,
      });
    before(async () => {
      server = await startTestServer(dbKind, { allowPrivateOutbound: true });
      // this suite drives its own deliverers, with fast backoff
      await server.deliverer.stop();
    });
    after(async () => {
      for (const d of deliverers) await d.stop();
      for (const rp of rps) await rp.close();
      await server?.close();
    });

    test('an RP answering 500 is retried with backoff and marked failed; another RP in the same event gets its token once', async () => {
      const failing = await fakeRp(server.tls, () => 500);
      const healthy = await fakeRp(server.tls, () => 204);
      rps.push(failing, healthy);
      const bad = await newRpApp(server, 'Failing', failing.url);
      const good = await newRpApp(server, 'Healthy', healthy.url);
      const noUri = await newRpApp(server, 'NoLogout');
      deliverers = [fast({ maxAttempts: 3 })];
      await enqueue(server.store.db, server.tenantId, 'user.sessions.revoked', {
        userId: 'user-1',
        reason: 'revokeSessions',
        sessions: [{ sessionUid: 's-1', apps: [{ clientId: bad.id, sid: 'sid-bad' }, { clientId: good.id, sid: 'sid-good' }, { clientId: noUri.id, sid: 'sid-none' }] }],
      });
      const rows = await eventually('both logout events settle', async () => {
        const r = await outboxRows(server, BACKCHANNEL_LOGOUT_EVENT);
        return r.length === 2 && r.every((x) => x.delivered_at !== null || x.failed_at !== null) ? r : undefined;
      });
      const byClient = new Map(rows.map((r) => [(JSON.parse(r.payload) as { clientId: string }).clientId, r]));
      assert.equal(byClient.size, 2, 'no event for the app without a back-channel logout URI');
      const failed = byClient.get(bad.id)!;
      assert.equal(failed.attempts, 3);
      assert.ok(failed.failed_at !== null && failed.delivered_at === null);
      assert.match(failed.last_error ?? '', /answered 500/);
      // at most once per attempt (never twice for one); on a loaded machine an attempt can time out before
      // the RP has read its request, so fewer may arrive
      assert.ok(failing.received.length >= 1 && failing.received.length <= 3, `called at most once per attempt: ${failing.received.length}`);
      const delivered = byClient.get(good.id)!;
      assert.equal(delivered.attempts, 1);
      assert.ok(delivered.delivered_at !== null && delivered.failed_at === null);
      assert.equal(healthy.received.length, 1);
      const [source] = await outboxRows(server, 'user.sessions.revoked');
      assert.ok(source?.delivered_at, 'the source event is delivered once its logout events are written');

      // the wire: a form POST of a logout token the engine's keys sign (OIDC Back-Channel Logout 1.0 §2.4)
      assert.equal(healthy.received[0]!.contentType, 'application/x-www-form-urlencoded');
      const jwt = healthy.received[0]!.body.get('logout_token')!;
      assert.equal(decodeProtectedHeader(jwt).typ, 'logout+jwt');
      assert.equal(decodeProtectedHeader(jwt).alg, 'RS256');
      const { payload } = await jwtVerify(jwt, await idpKeys(server), { issuer: server.issuer, audience: good.id, typ: 'logout+jwt' });
      assert.equal(payload.sub, 'user-1');
      assert.equal(payload.sid, 'sid-good');
      assert.deepEqual(payload.events, { [LOGOUT_EVENT]: {} });
      assert.ok(typeof payload.jti === 'string' && typeof payload.iat === 'number' && payload.exp === payload.iat + 120);
      assert.equal(payload.nonce, undefined);
      const retried = failing.received.map((r) => (JSON.parse(Buffer.from(r.body.get('logout_token')!.split('.')[1]!, 'base64url').toString()) as { jti: string; sid: string }));
      assert.deepEqual(retried.map((c) => c.sid), ['sid-bad', 'sid-bad', 'sid-bad']);
      assert.equal(new Set(retried.map((c) => c.jti)).size, 3, 'each attempt is a fresh token');
      for (const d of deliverers) await d.stop();
    });

    test('an RP that fails twice then answers 200 is delivered on the third attempt, with backoff between', async () => {
      const flaky = await fakeRp(server.tls, (n) => (n < 3 ? 503 : 200));
      rps.push(flaky);
      const app = await newRpApp(server, 'Flaky', flaky.url);
      const times: number[] = [];
      const origPush = flaky.received.push.bind(flaky.received);
      flaky.received.push = (...items: Received[]) => {
        times.push(Date.now());
        return origPush(...items);
      };
      deliverers = [fast({ maxAttempts: 5 })];
      await enqueue(server.store.db, server.tenantId, 'user.disabled', { userId: 'user-2', reason: 'disableAccount', sessions: [{ sessionUid: 's-2', apps: [{ clientId: app.id, sid: 'sid-flaky' }] }] });
      const row = await eventually('the flaky RP is delivered', async () => {
        const r = (await outboxRows(server, BACKCHANNEL_LOGOUT_EVENT)).find((x) => (JSON.parse(x.payload) as { clientId: string }).clientId === app.id);
        return r?.delivered_at ? r : undefined;
      });
      assert.equal(row.attempts, 3);
      assert.match(row.last_error ?? '', /answered 503/, 'the last failure stays recorded');
      assert.equal(flaky.received.length, 3);
      assert.ok(times[1]! - times[0]! >= 20 && times[2]! - times[1]! >= 40, `backoff doubles: ${times.map((t) => t - times[0]!).join(', ')} ms`);
      for (const d of deliverers) await d.stop();
    });

    test('two deliverers on one database deliver each event exactly once', async () => {
      const rp = await fakeRp(server.tls, () => 200);
      rps.push(rp);
      const app = await newRpApp(server, 'Shared', rp.url);
      deliverers = [fast(), fast(), fast()];
      for (let i = 0; i < 8; i++) await enqueue(server.store.db, server.tenantId, 'user.deleted', { userId: `user-del-${i}`, reason: 'deleteUser', sessions: [{ sessionUid: `s-${i}`, apps: [{ clientId: app.id, sid: `sid-${i}` }] }] });
      await eventually('all eight delivered', async () => {
        const r = (await outboxRows(server, BACKCHANNEL_LOGOUT_EVENT)).filter((x) => (JSON.parse(x.payload) as { clientId: string }).clientId === app.id);
        return r.length === 8 && r.every((x) => x.delivered_at !== null) ? r : undefined;
      });
      for (const d of deliverers) await d.stop();
      const sids = rp.received.map((r) => (JSON.parse(Buffer.from(r.body.get('logout_token')!.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid).sort();
      assert.deepEqual(sids, Array.from({ length: 8 }, (_, i) => `sid-${i}`).sort());
      const sources = await server.store.db.selectFrom('outbox').selectAll().where('type', '=', 'user.deleted').execute();
      assert.ok(sources.every((s) => s.attempts === 1 && s.delivered_at !== null));
    });
  });
}

describe('outbox delivery with private outbound refused (the default)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite', { allowPrivateOutbound: false });
  });
  after(async () => {
    await server?.close();
  });

  test('a loopback or plain-http back-channel logout URI is refused, recorded as last_error, and never called', async () => {
    const rp = await fakeRp(server.tls, () => 200);
    try {
      const loopback = await newRpApp(server, 'Loopback', rp.url.replace('localhost', '127.0.0.1'));
      const named = await newRpApp(server, 'Named', rp.url);
      const plain = await newRpApp(server, 'Plain', 'http://rp.example/backchannel-logout');
      await enqueue(server.store.db, server.tenantId, 'user.password.reset', {
        userId: 'user-3',
        reason: 'resetPassword',
        sessions: [{ sessionUid: 's-3', apps: [{ clientId: loopback.id, sid: 'sid-a' }, { clientId: named.id, sid: 'sid-b' }, { clientId: plain.id, sid: 'sid-c' }] }],
      });
      const rows = await eventually('the three logout events fail', async () => {
        const r = await outboxRows(server, BACKCHANNEL_LOGOUT_EVENT);
        return r.length === 3 && r.every((x) => x.failed_at !== null) ? r : undefined;
      });
      const errorOf = (id: string) => rows.find((r) => (JSON.parse(r.payload) as { clientId: string }).clientId === id)!;
      assert.match(errorOf(loopback.id).last_error ?? '', /refused: 127\.0\.0\.1 is a loopback address/);
      assert.match(errorOf(named.id).last_error ?? '', /refused: localhost resolves to .*loopback/);
      assert.match(errorOf(plain.id).last_error ?? '', /refused: http:\/\/ target/);
      assert.ok(rows.every((r) => r.attempts === 1 && r.delivered_at === null), 'a refused target is not retried');
      assert.equal(rp.received.length, 0, 'never called');
    } finally {
      await rp.close();
    }
  });
});
