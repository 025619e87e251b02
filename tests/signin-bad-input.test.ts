// Garbage sent to the sign-in pages, and malformed percent-encoding anywhere, is refused with a 4xx
// (an HTML page on the sign-in routes), never a 500, and the server keeps serving. Plain fetch over HTTPS
// with the test CA; no browser.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO } from '../src/directory/seed.js';
import { createUser, findUserById } from '../src/directory/users.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { Jar, signinFormAction } from './helpers/http-signin.js';

interface Flow {
  uid: string;
  path: string;
  /** the engine's cookies and the flow's own (the flow lives in a sealed cookie, updated by each answer) */
  jar: Jar;
  csrf: string;
}

describe('sign-in pages and URLs refuse bad input without a 500 (sqlite)', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer('sqlite');
  });
  after(async () => {
    await server?.close();
  });

  function authorizeUrl(extra = ''): string {
    const q = new URLSearchParams({
      client_id: DEMO.webAppId,
      response_type: 'code',
      redirect_uri: `${server.origin}/demo/callback`,
      scope: 'openid profile',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 'st',
    });
    return `${server.tenantUrl}/oauth2/v2.0/authorize?${q}${extra}`;
  }

  /** Starts a real sign-in flow the way a browser does: authorize answers with the user-name page, whose form posts to /signin/{uid}. */
  async function startFlow(): Promise<Flow> {
    const res = await fetch(authorizeUrl(), { redirect: 'manual' });
    assert.equal(res.status, 200);
    const jar = new Jar();
    jar.take(res);
    const html = await res.text();
    const path = signinFormAction(html, server.origin)?.pathname ?? '';
    assert.match(path, /^\/signin\/[\w-]+$/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    assert.ok(csrf, 'the page carries a CSRF token');
    assert.match(html, /id="i0116"/);
    return { uid: path.slice('/signin/'.length), path, jar, csrf };
  }

  /** Posts to a sign-in page; with a flow, as its browser (its cookies sent, the answer's kept). */
  async function post(path: string, init: { flow?: Flow; cookie?: string; contentType?: string; body?: string | Buffer } = {}) {
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = init.flow ? init.flow.jar.header() : init.cookie;
    if (cookie) headers.cookie = cookie;
    if (init.contentType) headers['content-type'] = init.contentType;
    const res = await fetch(server.origin + path, { method: 'POST', headers, body: init.body, redirect: 'manual' });
    init.flow?.jar.take(res);
    return { status: res.status, type: res.headers.get('content-type') ?? '', location: res.headers.get('location'), body: await res.text() };
  }

  function assertRefusedWithPage(r: { status: number; type: string; body: string; location: string | null }, what: string, status?: number) {
    assert.ok(r.status >= 400 && r.status < 500, `${what}: expected a 4xx, got ${r.status} ${r.body.slice(0, 200)}`);
    if (status !== undefined) assert.equal(r.status, status, `${what}: ${r.body.slice(0, 200)}`);
    assert.match(r.type, /^text\/html/, `${what}: an HTML page, got ${r.type}`);
    assert.match(r.body, /<html/, what);
    assert.equal(r.location, null, `${what}: no redirect`);
  }

  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const FORM = 'application/x-www-form-urlencoded';

  test('POSTs without a live flow are refused with a page: unknown uid, no interaction cookie', async () => {
    const flow = await startFlow();
    assertRefusedWithPage(await post('/signin/not-a-real-uid', { flow: flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'username', loginfmt: 'alice@contoso.test' }) }), 'unknown uid', 400);
    assertRefusedWithPage(await post(flow.path, { contentType: FORM, body: form({ csrf: flow.csrf, step: 'username', loginfmt: 'alice@contoso.test' }) }), 'no interaction cookie', 400);
    assertRefusedWithPage(await post(`/signin/${'a'.repeat(90)}`, { contentType: FORM, body: 'x=1' }), 'a long unknown uid', 400);
    // past the router's parameter limit the framework answers before the sign-in route (414, not ours to style)
    const tooLong = await post(`/signin/${'a'.repeat(4000)}`, { contentType: FORM, body: 'x=1' });
    assert.ok(tooLong.status >= 400 && tooLong.status < 500, `a very long uid: ${tooLong.status}`);
  });

  test('the flow lives in a sealed cookie of its own path: tampered with, or moved to another flow, it is refused', async () => {
    const flow = await startFlow();
    const upn = `alice@${server.tenantDomain}`;
    const res = await fetch(server.origin + flow.path, { method: 'POST', headers: { cookie: flow.jar.header(), 'content-type': FORM }, body: form({ csrf: flow.csrf, step: 'username', loginfmt: upn }), redirect: 'manual' });
    assert.equal(res.status, 200);
    const set = res.headers.getSetCookie().find((c) => c.startsWith('latchkey_flow='));
    assert.ok(set, 'the answer carries the moved flow');
    const attrs = set.split(';').map((a) => a.trim().toLowerCase());
    for (const a of [`path=${flow.path.toLowerCase()}`, 'secure', 'httponly', 'samesite=lax']) assert.ok(attrs.includes(a), `${a} in ${set}`);
    const sealed = set.slice('latchkey_flow='.length, set.indexOf(';'));
    assert.ok(!sealed.includes('alice') && !Buffer.from(sealed.split('.')[2] ?? '', 'base64url').toString('latin1').includes('alice'), 'the user name is not readable in the cookie');
    flow.jar.take(res);
    await res.text();
    const withFlowCookie = (jar: string, value: string) => jar.replace(/latchkey_flow=[^;]*/, `latchkey_flow=${value}`);
    const passwordPost = (cookie: string) => post(flow.path, { cookie, contentType: FORM, body: form({ csrf: flow.csrf, step: 'password', passwd: DEMO.demoPassword }) });
    // one character of the ciphertext changed
    const flipped = sealed.slice(0, -3) + (sealed.at(-3) === 'A' ? 'B' : 'A') + sealed.slice(-2);
    const tampered = await passwordPost(withFlowCookie(flow.jar.header(), flipped));
    assertRefusedWithPage(tampered, 'a tampered flow cookie', 400);
    assert.match(tampered.body, /expired/);
    // another flow's cookie (at its password step too) does not open this flow
    const other = await startFlow();
    await post(other.path, { flow: other, contentType: FORM, body: form({ csrf: other.csrf, step: 'username', loginfmt: upn }) });
    const otherSealed = /latchkey_flow=([^;]*)/.exec(other.jar.header())![1]!;
    assertRefusedWithPage(await passwordPost(withFlowCookie(flow.jar.header(), otherSealed)), "another flow's cookie", 400);
    // the genuine cookie still works: nothing above moved the flow
    const ok = await passwordPost(flow.jar.header());
    assert.equal(ok.status, 200, ok.body.slice(0, 300));
    assert.match(ok.body, /Stay signed in\?/);
  });

  test('garbage bodies on a live flow are refused with a page and never a 500', async () => {
    const flow = await startFlow();
    const cases: [string, Parameters<typeof post>[1], number?][] = [
      ['missing body (no content type)', { flow }, 415],
      ['empty form', { flow, contentType: FORM, body: '' }, 403],
      ['JSON body without a token', { flow, contentType: 'application/json', body: JSON.stringify({ step: 'username', loginfmt: 'alice@contoso.test' }) }, 415],
      ['JSON body with an object as token', { flow, contentType: 'application/json', body: JSON.stringify({ csrf: { $ne: '' }, step: 'username' }) }, 415],
      ['JSON null', { flow, contentType: 'application/json', body: 'null' }, 415],
      ['JSON array', { flow, contentType: 'application/json', body: '[1,2,3]' }, 415],
      ['JSON string', { flow, contentType: 'application/json', body: '"csrf"' }, 415],
      ['invalid JSON', { flow, contentType: 'application/json', body: '{"csrf":' }, 400],
      ['text/plain body', { flow, contentType: 'text/plain', body: `csrf=${flow.csrf}&step=username` }, 415],
      ['a form posted as text/plain with its token', { flow, contentType: 'text/plain', body: form({ csrf: flow.csrf, step: 'username', loginfmt: 'alice@contoso.test' }) }, 415],
      ['a form as JSON with its token', { flow, contentType: 'application/json', body: JSON.stringify({ csrf: flow.csrf, step: 'username', loginfmt: 'alice@contoso.test' }) }, 415],
      ['multipart body', { flow, contentType: 'multipart/form-data; boundary=xyz', body: '--xyz\r\nContent-Disposition: form-data; name="csrf"\r\n\r\nx\r\n--xyz--\r\n' }, 415],
      ['body over the size limit', { flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'username', loginfmt: 'a'.repeat(300 * 1024) }) }, 413],
      ['repeated token', { flow, contentType: FORM, body: `csrf=${flow.csrf}&csrf=${flow.csrf}&step=username&loginfmt=alice%40contoso.test` }, 403],
      ['token with a wrong length', { flow, contentType: FORM, body: form({ csrf: flow.csrf + 'x', step: 'username', loginfmt: 'alice@contoso.test' }) }, 403],
      ['token with multibyte characters of the same length', { flow, contentType: FORM, body: form({ csrf: 'é'.repeat(flow.csrf.length), step: 'username' }) }, 403],
      ['malformed percent-encoding in the body', { flow, contentType: FORM, body: `csrf=%E0%A4%A&step=%ZZ&loginfmt=%` }, 403],
      ['prototype keys', { flow, contentType: FORM, body: '__proto__=x&constructor=y&csrf[toString]=z' }, 403],
      ['repeated user name', { flow, contentType: FORM, body: `csrf=${flow.csrf}&step=username&loginfmt=alice%40contoso.test&loginfmt=bob%40contoso.test` }, 400],
      ['user name as a JSON number', { flow, contentType: 'application/json', body: JSON.stringify({ csrf: flow.csrf, step: 'username', loginfmt: 12345 }) }, 415],
      ['user name as a JSON array', { flow, contentType: 'application/json', body: JSON.stringify({ csrf: flow.csrf, step: 'username', loginfmt: ['alice@contoso.test'] }) }, 415],
      ['huge user name under the body limit', { flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'username', loginfmt: 'a'.repeat(200 * 1024) }) }, 400],
      ['unknown step', { flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'nonsense' }) }, 409],
      ['step as an array', { flow, contentType: FORM, body: `csrf=${flow.csrf}&step=username&step=kmsi&loginfmt=alice%40contoso.test` }, 409],
      ['skipping ahead to "Stay signed in?"', { flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'kmsi', kmsi: 'yes' }) }, 409],
      ['skipping ahead to the password change', { flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'change_password', oldpasswd: 'x', newpasswd: 'Another-Passw0rd-1', confirmnewpasswd: 'Another-Passw0rd-1' }) }, 409],
      ['"back" at the first step', { flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'back' }) }, 409],
      ['user name with control characters', { flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'username', loginfmt: 'al\u0000ice\r\n@contoso.test' }) }, 400],
    ];
    for (const [what, init, status] of cases) {
      assertRefusedWithPage(await post(flow.path, init), what, status);
    }

    // none of that moved the flow: it is still at the user name, and the genuine form still works
    const page = await fetch(server.origin + flow.path, { headers: { cookie: flow.jar.header() } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /id="i0116"/);
    const ok = await post(flow.path, { flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'username', loginfmt: `alice@${server.tenantDomain}` }) });
    assert.equal(ok.status, 200, ok.body.slice(0, 300));
    assert.match(ok.body, /id="i0118"/);

    // garbage at the password step does not sign anyone in either
    for (const [what, body, status] of [
      ['password as an array', `csrf=${flow.csrf}&step=password&passwd=${encodeURIComponent(DEMO.demoPassword)}&passwd=x`, 400],
      ['huge password', form({ csrf: flow.csrf, step: 'password', passwd: 'p'.repeat(100 * 1024) }), 400],
      ['empty password', form({ csrf: flow.csrf, step: 'password', passwd: '' }), 400],
    ] as const) {
      const r = await post(flow.path, { flow, contentType: FORM, body });
      assertRefusedWithPage(r, what, status);
      assert.match(r.body, /AADSTS50126/, what);
    }
  });

  test('malformed percent-encoding in a path or query gets a 400, never a 500, and the server keeps serving', async () => {
    const tid = server.tenantId;
    const paths = [
      '/signin/%E0%A4%A',
      '/signin/%E0%A4%A?a=%E0',
      '/signin/%',
      '/%E0%A4%A/v2.0/.well-known/openid-configuration',
      '/%ZZ',
      '/%E0%A4%A',
      `/${tid}/oauth2/v2.0/authorize?x=%E0%A4%A`,
      `/${tid}/oauth2/v2.0/authorize?client_id=%E0%A4%A`,
      `/${tid}/%E0%A4%A`,
      `/${tid}/oauth2/v2.0/%E0%A4%A`,
      `/${tid}/oauth2/v2.0/authorize/%E0%A4%A`,
      `/${tid}/discovery/v2.0/keys%E0`,
      `/organizations/%E0%A4%A`,
      `/${tid}/openid/%E0%A4%A`,
      '/demo/%E0%A4%A',
    ];
    for (const p of paths) {
      const res = await fetch(server.origin + p, { redirect: 'manual', headers: { accept: 'text/html' } });
      const body = await res.text();
      assert.equal(res.status, 400, `${p}: ${res.status} ${body.slice(0, 200)}`);
    }
    // the sign-in page does not read its query: a malformed one on an unknown flow gets the flow's 400 page
    const q = await fetch(`${server.origin}/signin/x?y=%E0%A4%A`, { headers: { accept: 'text/html' } });
    assert.equal(q.status, 400);
    await q.text();
    const health = await fetch(`${server.origin}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const discovery = await fetch(`${server.tenantUrl}/v2.0/.well-known/openid-configuration`);
    assert.equal(discovery.status, 200);
    assert.equal(((await discovery.json()) as { issuer: string }).issuer, server.issuer);
  });

  /** Follows the flow over plain HTTP up to "Stay signed in?" for a user with the given password. */
  async function toKmsi(upn: string, password: string): Promise<Flow> {
    const flow = await startFlow();
    const u = await post(flow.path, { flow: flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'username', loginfmt: upn }) });
    assert.match(u.body, /id="i0118"/);
    const p = await post(flow.path, { flow: flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'password', passwd: password }) });
    assert.match(p.body, /Stay signed in\?/);
    return flow;
  }

  test('an account change while the flow is open is not outrun by the last click', async () => {
    const db = server.store.db;
    const password = 'Flow-Race-Passw0rd';
    for (const change of ['revoke sessions', 'admin reset', 'disable'] as const) {
      const user = await createUser(db, { tenantId: server.tenantId, upn: `race-${change.replace(' ', '-')}@${server.tenantDomain}`, displayName: change, password });
      const flow = await toKmsi(user.upn, password);
      const now = Date.now() + 1;
      if (change === 'revoke sessions') await db.updateTable('users').set({ sign_in_sessions_valid_from: now }).where('id', '=', user.id).execute();
      if (change === 'admin reset') await db.updateTable('users').set({ last_password_change_at: now, admin_reset_at: now }).where('id', '=', user.id).execute();
      if (change === 'disable') await db.updateTable('users').set({ account_enabled: 0, disabled_at: now }).where('id', '=', user.id).execute();
      const r = await post(flow.path, { flow: flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'kmsi', kmsi: 'yes' }) });
      assertRefusedWithPage(r, change, change === 'disable' ? 403 : 409);
      if (change !== 'disable') assert.match(r.body, /id="i0116"/, `${change}: the flow starts again at the user name`);
      const log = await db.selectFrom('signin_log').selectAll().where('user_id', '=', user.id).execute();
      assert.equal(log.filter((l) => l.status === 'success').length, 0, `${change}: no successful sign-in`);
      assert.ok(log.some((l) => l.status === 'failure' && l.error_code === (change === 'disable' ? 50057 : 50173)), `${change}: the refusal is logged`);
    }
  });

  test('a user flagged to change the password with MFA is also sent to the change step', async () => {
    const password = 'Mfa-Flag-Passw0rd';
    const user = await createUser(server.store.db, { tenantId: server.tenantId, upn: `mfaflag@${server.tenantDomain}`, displayName: 'mfa flag', password });
    await server.store.db.updateTable('users').set({ force_change_password_mfa: 1 }).where('id', '=', user.id).execute();
    const flow = await startFlow();
    await post(flow.path, { flow: flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'username', loginfmt: user.upn }) });
    const p = await post(flow.path, { flow: flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'password', passwd: password }) });
    assert.equal(p.status, 200);
    assert.match(p.body, /id="newPassword"/);
    // and a flag set while the flow waits at "Stay signed in?" sends it back to the change
    const other = await createUser(server.store.db, { tenantId: server.tenantId, upn: `lateflag@${server.tenantDomain}`, displayName: 'late flag', password });
    const f2 = await toKmsi(other.upn, password);
    await server.store.db.updateTable('users').set({ force_change_password: 1 }).where('id', '=', other.id).execute();
    const k = await post(f2.path, { flow: f2, contentType: FORM, body: form({ csrf: f2.csrf, step: 'kmsi', kmsi: 'yes' }) });
    assert.equal(k.location, null, 'no code before the change');
    assert.match(k.body, /id="newPassword"/);
  });

  test('new passwords are counted in characters and checked against common passwords after normalising', async () => {
    const password = 'Policy-Old-Passw0rd';
    const user = await createUser(server.store.db, { tenantId: server.tenantId, upn: `policy@${server.tenantDomain}`, displayName: 'policy', password, forceChangePassword: true });
    const flow = await startFlow();
    await post(flow.path, { flow: flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'username', loginfmt: user.upn }) });
    await post(flow.path, { flow: flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'password', passwd: password }) });
    const change = (pw: string) => post(flow.path, { flow: flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'change_password', oldpasswd: password, newpasswd: pw, confirmnewpasswd: pw }) });
    // a field left empty is named, not taken for a wrong current password
    for (const [fields, message] of [
      [{ oldpasswd: '', newpasswd: 'Another-Passw0rd-1', confirmnewpasswd: 'Another-Passw0rd-1' }, 'Enter your current password.'],
      [{ newpasswd: 'Another-Passw0rd-1', confirmnewpasswd: 'Another-Passw0rd-1' }, 'Enter your current password.'],
      [{ oldpasswd: password, newpasswd: '', confirmnewpasswd: '' }, 'Enter a new password.'],
      [{ oldpasswd: password }, 'Enter a new password.'],
      [{ oldpasswd: 'not-the-password', newpasswd: 'Another-Passw0rd-1', confirmnewpasswd: 'Another-Passw0rd-1' }, 'Your current password is incorrect.'],
    ] as const) {
      const r = await post(flow.path, { flow: flow, contentType: FORM, body: form({ csrf: flow.csrf, step: 'change_password', ...fields }) });
      assert.equal(r.status, 400, JSON.stringify(fields));
      assert.match(r.body, new RegExp(`role="alert"[^>]*>${message.replace('.', '\\.')}<`), JSON.stringify(fields));
    }
    for (const [pw, message] of [
      ['\u{1F600}'.repeat(4), /at least 8 characters/], // 8 UTF-16 units, 4 characters
      ['P@ssw0rd2026!', /harder for people to guess/],
      ['Summer2026!', /harder for people to guess/],
      ['x'.repeat(257), /at most 256 characters/],
    ] as const) {
      const r = await change(pw);
      assert.equal(r.status, 400, pw);
      assert.match(r.body, message, pw);
    }
    assert.equal((await findUserById(server.store.db, user.id))!.password_hash, user.password_hash, 'nothing changed');
    // 256 characters that are 512 UTF-16 units: accepted, and accepted again at the next sign-in
    const longest = '\u{1F600}'.repeat(250) + '-abcde';
    const ok = await change(longest);
    assert.equal(ok.status, 200, ok.body.slice(0, 300));
    assert.match(ok.body, /Stay signed in\?/);
    const again = await startFlow();
    await post(again.path, { flow: again, contentType: FORM, body: form({ csrf: again.csrf, step: 'username', loginfmt: user.upn }) });
    const signedIn = await post(again.path, { flow: again, contentType: FORM, body: form({ csrf: again.csrf, step: 'password', passwd: longest }) });
    assert.match(signedIn.body, /Stay signed in\?/, 'the new password signs in');
  });

  test('an authorization request with malformed percent-encoding in a parameter is refused with 400', async () => {
    for (const extra of ['&state2=%E0%A4%A', '&login_hint=%E0%A4%A']) {
      const res = await fetch(authorizeUrl(extra), { redirect: 'manual' });
      await res.text();
      assert.equal(res.status, 400, `${extra}: ${res.status} ${res.headers.get('location')}`);
    }
    const res = await fetch(authorizeUrl().replace('state=st', 'state=%E0%A4%A') + '&prompt=none', { redirect: 'manual' });
    await res.text();
    assert.equal(res.status, 400, `a malformed state: ${res.status} ${res.headers.get('location')}`);
  });
});
