// A deleted service principal stays deleted across a restart: start-up makes Latchkey's own apps and
// Microsoft Graph anew, but never an app's service principal an admin deleted (migration 0017 made the
// missing ones once). After the restart, the app still gets no token (AADSTS7000229), on SQLite and
// PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { type RunningServer, startServer } from '../src/server.js';
import { assertRefused, consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { databases, freshPostgres, testCa } from './helpers/server.js';

/** The seeded Automation app (client credentials) and its secret in these tests' configuration. */
const AUTOMATION_APP_ID = '44444444-4444-4444-8444-444444444444';
const AUTOMATION_SECRET = 'automation-secret-value';

for (const dbKind of await databases()) {
  describe(`a deleted service principal across a restart (${dbKind})`, () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-sp-restart-'));
    let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
    let server: RunningServer | undefined;
    const start = () => startServer(loadConfig({ LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_SECURITY_DEFAULTS: 'false' }, { dataDir, port: 0, host: '127.0.0.1', tlsCaCert: testCa(), databaseUrl: pg?.url ?? '', bootstrapAdminPassword: 'Bootstrap-Admin-Pw-1', automationClientSecret: AUTOMATION_SECRET }));
    before(async () => {
      pg = dbKind === 'postgres' ? await freshPostgres() : undefined;
      server = await start();
    });
    after(async () => {
      await server?.close();
      await pg?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    const clientCredentials = async (s: RunningServer) => {
      const res = await fetch(`${s.origin}/${s.tenantId}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: AUTOMATION_APP_ID, client_secret: AUTOMATION_SECRET, scope: 'https://graph.microsoft.com/.default' }) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> & { access_token?: string } };
    };

    test('the app still gets no token after the restart, and its service principal is not made again', async () => {
      const s = server!;
      assert.equal((await clientCredentials(s)).status, 200, 'the app gets tokens before');
      const asTestServer = { ...s, dataDir, dbKind, tenantUrl: `${s.origin}/${s.tenantId}` };
      await consentNativeAppToGraph(asTestServer);
      const admin = await delegatedGraphToken(asTestServer, `admin@${s.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
      const del = await fetch(`${s.origin}/v1.0/servicePrincipals(appId='${AUTOMATION_APP_ID}')`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
      assert.equal(del.status, 204, await del.text());
      assertRefused(await clientCredentials(s), 'invalid_client', 7000229, 'after the delete');

      await s.close();
      server = await start();
      const after = await clientCredentials(server);
      assertRefused(after, 'invalid_client', 7000229, 'after the restart');
      assert.equal(after.body.access_token, undefined);
      const sp = await server.store.db.selectFrom('service_principals').select('id').where('app_id', '=', AUTOMATION_APP_ID).executeTakeFirst();
      assert.equal(sp, undefined, 'no service principal was made at start-up');
      const app = await server.store.db.selectFrom('apps').select('id').where('id', '=', AUTOMATION_APP_ID).executeTakeFirst();
      assert.ok(app, 'the application itself is still there');
    });
  });
}
