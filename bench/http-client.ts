// Plain HTTP requests for the scenarios that are more than one token call: a sign-in through the pages
// (cookies, redirects not followed) and Graph calls. Loopback only, keep-alive over a shared agent.
import http from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export function loopbackAgent(sockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: sockets });
}

export function httpRequest(agent: http.Agent, url: URL, opts: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {}): Promise<HttpAnswer> {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return Promise.reject(new Error(`the bench only talks to loopback, not ${url.hostname}`));
  const headers: http.OutgoingHttpHeaders = { ...opts.headers };
  if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Form POST with a JSON answer (token endpoint). */
export async function postForm(agent: http.Agent, url: string, form: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> | undefined; text: string }> {
  const a = await httpRequest(agent, new URL(url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams(form).toString() });
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(a.text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: a.status, json, text: a.text };
}

/** A browser's cookie store, enough for the engine's and the sign-in pages' cookies (paths are not scoped). */
export class Jar {
  private readonly cookies = new Map<string, string>();

  take(a: HttpAnswer): void {
    const set = a.headers['set-cookie'] ?? [];
    for (const c of set) {
      const [pair = '', ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some((x) => /^\s*max-age=(0|-)/i.test(x) || (/^\s*expires=/i.test(x) && Date.parse(x.slice(x.indexOf('=') + 1)) <= Date.now()));
      if (expired || !value) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}
