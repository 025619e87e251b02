// Requests that no route sees as sent: a request line in absolute form (read as its path: a Graph list's
// next page once answered 500), a path segment longer than the router takes, and a URL that is not valid
// percent-encoding. Each is answered in the wire format of the endpoint it names: Graph's error shape for
// Graph and /latchkey/v1, an HTML page for the pages a browser opens, an OAuth error body for the rest.
// Raw HTTPS requests (fetch cannot send an absolute-form request line), trusting the test CA as fetch does.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { DEMO } from '../src/directory/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';

interface Answer {
  status: number;
  type: string;
  body: string;
}

describe('requests no route sees as sent are answered in their endpoint’s wire format (sqlite)', () => {
  let server: TestServer;
  let appToken: string;

  /** One request with `target` as the request line's target, exactly as given. */
  function raw(method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
    const { hostname, port } = new URL(server.origin);
    return new Promise((resolve, reject) => {
      const req = https.request({ host: hostname, port, method, path: target, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  const graphShaped = (a: Answer) => {
    assert.match(a.type, /^application\/json/);
    const e = (JSON.parse(a.body) as { error: { code: string; message: string; innerError: object } }).error;
    assert.equal(typeof e.code, 'string');
    assert.equal(typeof e.innerError, 'object');
    return e;
  };
  const oauthShaped = (a: Answer) => {
    assert.match(a.type, /^application\/json/);
    const e = JSON.parse(a.body) as { error: string; error_description: string };
    assert.equal(e.error, 'invalid_request');
    return e;
  };
  const pageShaped = (a: Answer) => {
    assert.match(a.type, /^text\/html/);
    assert.match(a.body, /<h1>Bad request<\/h1>/);
    return /id="errorMessage">([^<]*)</.exec(a.body)?.[1];
  };

  before(async () => {
    server = await startTestServer('sqlite');
    const t = await fetch(`${server.tenantUrl}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: 'https://graph.microsoft.com/.default' }),
    });
    appToken = ((await t.json()) as { access_token: string }).access_token;
    assert.ok(appToken);
  });
  after(async () => {
    await server?.close();
  });

  test('a request line in absolute form is read as its path: Graph pages, the tenant alias, the pages', async () => {
    for (const host of ['https://evil.example', server.origin, 'http://x']) {
      const a = await raw('GET', `${host}/v1.0/users?$top=1`, { authorization: `Bearer ${appToken}` });
      assert.equal(a.status, 200, `${host}: ${a.body.slice(0, 300)}`);
      const list = JSON.parse(a.body) as { value: unknown[]; '@odata.nextLink'?: string };
      assert.equal(list.value.length, 1);
      // the next page is on the configured origin, whatever host the request line named
      assert.ok(list['@odata.nextLink']?.startsWith(`${server.origin}/v1.0/users?`), list['@odata.nextLink']);
    }
    // the tenant alias (the domain) is rewritten as for an origin-form request
    const d = await raw('GET', `https://evil.example/${'contoso.test'}/v2.0/.well-known/openid-configuration`);
    assert.equal(d.status, 200, d.body.slice(0, 300));
    assert.equal((JSON.parse(d.body) as { issuer: string }).issuer, server.issuer);
    // Graph's /beta check reads the path
    const who = (JSON.parse((await raw('GET', '/v1.0/users?$top=1', { authorization: `Bearer ${appToken}` })).body) as { value: { id: string }[] }).value[0]!.id;
    const beta = await raw('GET', `https://x/beta/users/${who}/authentication/requirements`, { authorization: `Bearer ${appToken}` });
    assert.notEqual(beta.status, 500);
    assert.doesNotMatch(beta.body, /Resource not found for the segment/);
  });

  test('a path segment longer than the router takes: 414 in the endpoint’s own format', async () => {
    const long = 'a'.repeat(1001);
    const graph = graphShaped(await raw('GET', `/v1.0/users/${long}`, { authorization: `Bearer ${appToken}` }));
    assert.match(graph.message, /too long/);
    for (const target of [`/v1.0/groups/${long}`, `/latchkey/v1/users/${long}/actions`, `/latchkey/v1/plans/${long}`]) {
      const a = await raw('GET', target, { authorization: `Bearer ${appToken}` });
      assert.equal(a.status, 414, target);
      graphShaped(a);
    }
    for (const [method, target] of [
      ['GET', `/signin/${long}`],
      ['POST', `/signin/${long}`],
    ] as const) {
      const a = await raw(method, target, { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, method === 'POST' ? 'step=username' : undefined);
      assert.equal(a.status, 414, `${method} ${target.slice(0, 20)}`);
      assert.match(pageShaped(a) ?? '', /too long/);
      assert.doesNotMatch(a.body, /aaaaaaaaaa/, 'the URL is not echoed');
    }
  });

  test('a URL that is not valid percent-encoding: 400 in the endpoint’s own format', async () => {
    const tid = server.tenantId;
    for (const target of ['/latchkey/v1/users/%ZZ/actions', '/latchkey/v1/tenant/settings?x=%ZZ', '/v1.0/users/%ZZ']) {
      const a = await raw('GET', target, { authorization: `Bearer ${appToken}` });
      assert.equal(a.status, 400, target);
      assert.match(graphShaped(a).message, /percent-encod/, target);
    }
    for (const [method, target] of [
      ['POST', `/${tid}/oauth2/v2.0/token?x=%ZZ`],
      ['GET', `/${tid}/openid/userinfo?%ZZ`],
      ['GET', `/${tid}/v2.0/.well-known/openid-configuration?x=%ZZ`],
      ['POST', `/${tid}/oauth2/v2.0/devicecode?x=%E0%A4%A`],
      ['GET', '/%ZZ/discovery/v2.0/keys'],
    ] as const) {
      const a = await raw(method, target);
      assert.equal(a.status, 400, target);
      assert.match(oauthShaped(a).error_description, /percent-encod/, target);
    }
    for (const target of [`/${tid}/oauth2/v2.0/authorize?client_id=%ZZ`, `/organizations/oauth2/v2.0/logout?x=%ZZ`, `/${tid}/oauth2/deviceauth?user_code=%ZZ`, '/signin/%ZZ', '/mysecurityinfo?code=%ZZ', '/demo/callback?code=%ZZ', '/admin/%ZZ', '/?%ZZ']) {
      const a = await raw('GET', target, { accept: 'text/html' });
      assert.equal(a.status, 400, target);
      assert.match(pageShaped(a) ?? '', /percent-encod/, target);
      assert.equal(a.type.startsWith('text/html') && a.body.includes('<!doctype html>'), true);
    }
    // the server keeps serving
    assert.equal((await raw('GET', '/healthz')).status, 200);
  });

  test('$count is true or false: anything else is a Graph 400 naming it', async () => {
    for (const v of ['junk', '1', '']) {
      const a = await raw('GET', `/v1.0/users?$count=${v}`, { authorization: `Bearer ${appToken}` });
      assert.equal(a.status, 400, v);
      assert.match(graphShaped(a).message, /\$count/, v);
    }
    for (const v of ['true', 'false', 'TRUE']) assert.equal((await raw('GET', `/v1.0/users?$count=${v}`, { authorization: `Bearer ${appToken}` })).status, 200, v);
  });

  test('a path or method under the tenant that the engine has no route for: 404 as JSON, or a page for a browser', async () => {
    const tid = server.tenantId;
    for (const [method, path] of [
      ['GET', '/oauth2/v2.0/token'],
      ['GET', '/oauth2/v2.0/devicecode'],
      ['POST', '/discovery/v2.0/keys'],
      ['PUT', '/oauth2/v2.0/logout'],
      ['GET', '/oauth2/v2.0/junk'],
      ['GET', '/'],
    ] as const) {
      const a = await raw(method, `/${tid}${path}`);
      assert.equal(a.status, 404, `${method} ${path}`);
      assert.match(a.type, /^application\/json/, `${method} ${path}: ${a.type} ${a.body.slice(0, 100)}`);
      assert.equal((JSON.parse(a.body) as { error: string }).error, 'not_found');
    }
    const page = await raw('PUT', `/${tid}/oauth2/deviceauth`, { accept: 'text/html' });
    assert.equal(page.status, 404);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /<h1>Not found<\/h1>/);
  });

  test('a body refused before its handler (its content type) is refused in the endpoint’s own format', async () => {
    const multipart = { 'content-type': 'multipart/form-data; boundary=x', accept: 'text/html' };
    const page = await raw('POST', '/mysecurityinfo', multipart, '--x\r\nContent-Disposition: form-data; name="op"\r\n\r\ndelete\r\n--x--\r\n');
    assert.equal(page.status, 415);
    assert.equal(pageShaped(page), 'The request body&#39;s content type &#39;multipart/form-data&#39; is not accepted here: send application/x-www-form-urlencoded.');
    const xml = await raw('POST', '/mysecurityinfo', { 'content-type': 'application/xml', accept: 'text/html' }, '<op>delete</op>');
    assert.equal(xml.status, 415);
    assert.equal(pageShaped(xml), 'The request body&#39;s content type &#39;application/xml&#39; is not accepted here: send application/x-www-form-urlencoded.');
    // Graph and /latchkey/v1 name JSON
    for (const target of ['/v1.0/groups', '/latchkey/v1/tenant/settings']) {
      const g = await raw('POST', target, { 'content-type': 'text/csv', authorization: `Bearer ${appToken}` }, 'a,b');
      assert.equal(g.status, 415, `${target}: ${g.body}`);
      assert.match(graphShaped(g).message, /application\/json/, target);
    }
    // an OAuth route keeps its JSON
    const introspect = await raw('POST', `/${server.tenantId}/oauth2/v2.0/introspect`, { 'content-type': 'application/xml' }, '<token/>');
    assert.ok(introspect.status >= 400 && introspect.status < 500, String(introspect.status));
    assert.match(introspect.type, /^application\/json/);
  });
  test("the demo's JSON endpoints refuse a body before their handler in JSON, not as a page", async () => {
    for (const [type, body, status] of [['application/json', 'logout_token=abc', 400], ['application/xml', '<logout_token/>', 415]] as const) {
      const a = await raw('POST', '/demo/backchannel-logout', { 'content-type': type, accept: 'text/html' }, body);
      assert.equal(a.status, status, `${type}: ${a.body.slice(0, 200)}`);
      oauthShaped(a);
    }
  });

  test('a client gone mid-body at the token and device-code endpoints is logged, not printed as a stack on stderr', async () => {
    const printed: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const consoleError = console.error;
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      printed.push(String(chunk));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    console.error = (...args: unknown[]) => {
      printed.push(args.map(String).join(' '));
      consoleError(...args);
    };
    try {
      const { hostname, port } = new URL(server.origin);
      for (const path of [`/${server.tenantId}/oauth2/v2.0/token`, `/${server.tenantId}/oauth2/v2.0/devicecode`]) {
        // the headers promise 500 bytes of form; a few are sent and the connection is dropped
        await new Promise<void>((resolve, reject) => {
          const socket = tls.connect({ host: hostname, port: Number(port), servername: 'localhost' }, () => {
            socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\ngrant_type=client_credentials`);
            setTimeout(() => {
              socket.destroy();
              resolve();
            }, 200);
          });
          socket.on('error', reject);
        });
      }
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      process.stderr.write = write;
      console.error = consoleError;
    }
    assert.deepEqual(printed.filter((p) => /aborted|ECONNRESET|at .*\(node:/.test(p)), [], 'nothing printed outside the logger');
    // and the server goes on answering
    const alive = await raw('GET', `/${server.tenantId}/v2.0/.well-known/openid-configuration`);
    assert.equal(alive.status, 200);
  });

  /** `text` written on a TLS connection as it is; the whole answer read until the server closes it. */
  function onSocket(text: string): Promise<Answer & { headers: string }> {
    const { hostname, port } = new URL(server.origin);
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = tls.connect({ host: hostname, port: Number(port), servername: 'localhost' }, () => socket.write(text));
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => {
        const all = Buffer.concat(chunks).toString('utf8');
        const [head = '', body = ''] = all.split('\r\n\r\n', 2);
        resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), type: /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? '', body, headers: head });
      });
    });
  }

  test("requests Node's HTTP parser refuses (headers too large, broken framing) and an Expect other than 100-continue: answered in the endpoint's own format", async () => {
    const big = `X-Big: ${'b'.repeat(20_000)}\r\n`;
    const tenantPath = `/${server.tenantId}/oauth2/v2.0/token`;
    // [request line target, extra header lines, expected status, the endpoint's format, the message]
    const cases: [string, string, number, 'graph' | 'page' | 'oauth', RegExp][] = [
      ['/v1.0/users', big, 431, 'graph', /^The request line and headers are too large\.$/],
      ['/latchkey/v1/users/x/actions', big, 431, 'graph', /^The request line and headers are too large\.$/],
      ['/signin/abc', big, 431, 'page', /^The request line and headers are too large\.$/],
      [tenantPath, big, 431, 'oauth', /^The request line and headers are too large\.$/],
      ['/v1.0/users', 'Bad Header Line\r\n', 400, 'graph', /^The request is not valid HTTP\/1\.1 \(Invalid header token\)\.$/],
      ['/mysecurityinfo', 'Bad Header Line\r\n', 400, 'page', /^The request is not valid HTTP\/1\.1 \(Invalid header token\)\.$/],
      [tenantPath, 'Bad Header Line\r\n', 400, 'oauth', /^The request is not valid HTTP\/1\.1 \(Invalid header token\)\.$/],
      ['/v1.0/users', 'Expect: 200-ok\r\n', 417, 'graph', /^The request's Expect header is not supported: only '100-continue' is\.$/],
      ['/signin/abc', 'Expect: 200-ok\r\n', 417, 'page', /^The request's Expect header is not supported: only '100-continue' is\.$/],
      [tenantPath, 'Expect: 200-ok\r\n', 417, 'oauth', /^The request's Expect header is not supported: only '100-continue' is\.$/],
    ];
    for (const [target, extra, status, format, message] of cases) {
      const what = `${target} ${extra.slice(0, 20)}`;
      const a = await onSocket(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${extra}\r\n`);
      assert.equal(a.status, status, `${what}: ${a.headers.slice(0, 200)}`);
      if (format === 'graph') {
        const e = graphShaped(a);
        assert.equal(e.code, 'BadRequest', what);
        assert.match(e.message, message, what);
      } else if (format === 'oauth') assert.match(oauthShaped(a).error_description, message, what);
      else {
        assert.match((pageShaped(a) ?? '').replaceAll('&#39;', "'"), message, what);
        assert.match(a.headers, /\r\nx-content-type-options: nosniff/i, `${what}: a page's headers`);
      }
      assert.doesNotMatch(a.body, /bbbbbbbbbb/, `${what}: the request is not echoed`);
    }
    // past the parser's own limit (64 KiB) the overflowing TLS record no longer holds the request line: an
    // OAuth error body, the format of the endpoints outside Graph and the pages
    const huge = await onSocket(`GET /v1.0/users HTTP/1.1\r\nHost: localhost\r\nX-Huge: ${'h'.repeat(70_000)}\r\n\r\n`);
    assert.equal(huge.status, 431);
    assert.equal(oauthShaped(huge).error_description, 'The request line and headers are too large.');
    // and the server goes on answering
    assert.equal((await raw('GET', `/${server.tenantId}/v2.0/.well-known/openid-configuration`)).status, 200);
  });
});
