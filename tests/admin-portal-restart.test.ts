// The admin portal after a server restart on the same data and origin: an admin signed in before it reloads
// a deep page and sees it without typing the password again (single sign-on through the engine's browser
// session, whose cookie the browser kept), on SQLite and PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { loadConfig } from '../src/config/index.js';
import { createUser } from '../src/directory/users.js';
import { type RunningServer, startServer } from '../src/server.js';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';
import { ADMIN_PASSWORD, noSeriousViolations, openPortal, shot } from './helpers/portal.js';
import { databases, freshPostgres, testCa } from './helpers/server.js';

const skip = browserSkipReason();

for (const dbKind of await databases()) {
  describe(`the admin portal after a server restart (${dbKind})`, { skip }, () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-portal-restart-'));
    let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
    let server: RunningServer | undefined;
    let browser: Browser;
    /** A server on this file's data; a restart is a new instance on the same data, at the port given. */
    const start = async (port = 0) => {
      const config = loadConfig({ LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_SECURITY_DEFAULTS: 'false' }, { dataDir, port, host: '127.0.0.1', tlsCaCert: testCa(), databaseUrl: pg?.url ?? '', bootstrapAdminPassword: ADMIN_PASSWORD, automationClientSecret: 'automation-secret-value' });
      return startServer(config);
    };
    before(async () => {
      pg = dbKind === 'postgres' ? await freshPostgres() : undefined;
      server = await start();
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      await pg?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test('every address of the portal, loaded anew, is served the portal\'s page (a reload or a link opened in a new tab lands on it); other addresses are not found', async () => {
      const s = server!;
      const id = '6f1c2f0e-2b1d-4c55-9d6e-0d3f4b5a6c7d';
      const addresses = [
        '/admin/',
        `/admin/users/${id}`,
        `/admin/users/${id}/authentication-methods`,
        `/admin/users/${id}/sessions`,
        `/admin/users/${id}/playbook`,
        `/admin/playbook/runs/${id}`,
        '/admin/sign-ins',
        '/admin/audit',
        '/admin/groups',
        '/admin/groups/new',
        `/admin/groups/${id}`,
        '/admin/roles',
        `/admin/roles/${id}`,
        '/admin/apps',
        `/admin/apps/${id}`,
        `/admin/apps/${id}/authentication`,
        '/admin/authentication-methods',
        '/admin/security-defaults',
        '/admin/settings',
      ];
      const served = async (p: string) => {
        const res = await fetch(`${s.origin}${p}`, { headers: { accept: 'text/html' } });
        const html = await res.text();
        return [p, res.status, html.includes('<div id="root">') && /script-src 'self'/.test(res.headers.get('content-security-policy') ?? '')];
      };
      assert.deepEqual(await Promise.all(addresses.map(served)), addresses.map((p) => [p, 200, true]));
      assert.deepEqual(await Promise.all(['/admin/playbook', '/admin/playbook/runs', '/admin/nothing-here'].map(served)), [
        ['/admin/playbook', 404, false],
        ['/admin/playbook/runs', 404, false],
        ['/admin/nothing-here', 404, false],
      ]);
    });

    test("an admin signed in before a restart reloads a user's page after it and sees it without typing the password again", async () => {
      const s = server!;
      const user = await createUser(s.store.db, { tenantId: s.tenantId, upn: `restarted@${s.tenantDomain}`, displayName: 'Restarted User', password: 'Restarted-User-Pw-1' });
      const { page, close } = await openPortal(browser, s.origin, `admin@${s.tenantDomain}`, ADMIN_PASSWORD, { start: `/admin/users/${user.id}` });
      try {
        await page.waitForSelector('#userTitle');
        assert.equal((await page.textContent('#userTitle'))?.trim(), 'Restarted User');

        const { origin, port } = s;
        await s.close();
        server = undefined;
        server = await start(port);
        assert.equal(server.origin, origin, 'the same origin');

        // every page the browser loads from now on, to show no sign-in page was on the way
        const loaded: string[] = [];
        page.on('framenavigated', (f) => {
          if (f === page.mainFrame()) loaded.push(new URL(f.url()).pathname);
        });
        const asked: string[] = [];
        page.on('request', (r) => {
          const p = new URL(r.url()).pathname;
          if (p.includes('/oauth2/v2.0/')) asked.push(`${r.method()} ${p.slice(p.indexOf('/oauth2/'))}`);
        });
        await page.goto(`${origin}/admin/users/${user.id}`);
        await page.waitForSelector('#userTitle', { timeout: 30_000 });
        assert.equal((await page.textContent('#userTitle'))?.trim(), 'Restarted User');
        assert.equal(new URL(page.url()).pathname, `/admin/users/${user.id}`, 'the deep page, kept through the silent sign-in');
        assert.equal(await page.locator('#i0116, #i0118').count(), 0, 'no sign-in page');
        assert.deepEqual(loaded.filter((p) => p.includes('/signin/')), [], 'no sign-in page was shown on the way');
        assert.deepEqual(asked, ['GET /oauth2/v2.0/authorize', 'POST /oauth2/v2.0/token'], 'signed in again silently: the engine\'s session answered the authorize request with a code');
        await shot(page, 'after-restart');
        await noSeriousViolations(page, "a user's page after a restart");
      } finally {
        await close();
      }
    });
  });
}
