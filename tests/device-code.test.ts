// The device-code flow's limits: polling faster than the advertised interval is answered slow_down
// (RFC 8628 §3.5) in Entra's shape, and wrong user codes on the device-code page are limited per browser
// session and per IP address (a 429 page, logged in signin_log).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO } from '../src/directory/seed.js';
import { assertRefused, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

for (const dbKind of await databases()) {
  describe(`device-code flow limits (${dbKind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dbKind, { deviceCodeInterval: 2 });
    });
    after(async () => {
      await server?.close();
    });

    async function deviceCode(): Promise<{ device_code: string; user_code: string; interval: number }> {
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/devicecode`, { method: 'POST', body: new URLSearchParams({ client_id: DEMO.nativeAppId, scope: 'openid offline_access User.Read' }) });
      assert.equal(res.status, 200);
      return (await res.json()) as { device_code: string; user_code: string; interval: number };
    }
    const poll = (code: string) => token(server, { grant_type: DEVICE_GRANT, client_id: DEMO.nativeAppId, device_code: code });

    test('polling the token endpoint sooner than the advertised interval is answered slow_down with AADSTS70016; at the interval, authorization_pending', async () => {
      const dc = await deviceCode();
      assert.equal(dc.interval, 2, 'the configured interval is advertised');
      assertRefused(await poll(dc.device_code), 'authorization_pending', 70016, 'first poll');
      const fast = await poll(dc.device_code);
      assertRefused(fast, 'slow_down', 70016, 'a poll sooner than the interval');
      assert.equal(fast.body.suberror, undefined);
      // another device code has its own clock
      const other = await deviceCode();
      assertRefused(await poll(other.device_code), 'authorization_pending', 70016, 'another device code');
      // the interval has passed (the last poll moved back instead of waiting)
      await server.store.db.updateTable('oidc_models').set({ last_polled_at: Date.now() - 2000 }).where('model', '=', 'DeviceCode').where('last_polled_at', 'is not', null).execute();
      assertRefused(await poll(dc.device_code), 'authorization_pending', 70016, 'a poll after the interval');
      const logged = await server.store.db.selectFrom('signin_log').select('reason').where('reason', 'in', ['slow_down', 'authorization_pending']).execute();
      assert.deepEqual(logged, [], 'pending and slow_down answers are not refusals of a sign-in');
    });

    test('an unknown device code is still refused by the engine (AADSTS70008), never slow_down', async () => {
      for (let i = 0; i < 2; i++) assertRefused(await poll('no-such-device-code'), 'invalid_grant', 70008, `unknown device code, poll ${i + 1}`);
    });
  });
}
