// A small closed-loop load generator: `concurrency` workers over keep-alive HTTP/1.1 (node:http), each
// sending its next form POST as soon as the previous answer is in, until `total` requests or the time cap.
// Latencies are measured per request with process.hrtime; every answer is checked.
import http from 'node:http';

export interface LoadOptions {
  url: string;
  total: number;
  concurrency: number;
  timeCapMs: number;
  /** form body of request i */
  body(i: number): string;
  /** undefined when the answer is right, else why not */
  check(status: number, json: Record<string, unknown> | undefined, i: number): string | undefined;
}

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  seconds: number;
  /** milliseconds, sorted */
  latencies: number[];
  firstFailure?: string;
  cappedByTime: boolean;
}

interface Answer {
  status: number;
  text: string;
}

function post(agent: http.Agent, url: URL, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const url = new URL(o.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`the bench only talks to loopback, not ${url.hostname}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const latencies: number[] = [];
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(o.timeCapMs) * 1_000_000n;
  let cappedByTime = false;

  async function worker() {
    while (next < o.total) {
      if (process.hrtime.bigint() > deadline) {
        cappedByTime = true;
        return;
      }
      const i = next++;
      const t0 = process.hrtime.bigint();
      let why: string | undefined;
      try {
        const a = await post(agent, url, o.body(i));
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(a.text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        why = o.check(a.status, json, i);
        if (why) why = `${why} (HTTP ${a.status}: ${a.text.slice(0, 300)})`;
      } catch (e) {
        why = `request failed: ${e instanceof Error ? e.message : String(e)}`;
      }
      if (why) {
        failed++;
        firstFailure ??= why;
      } else {
        ok++;
      }
    }
  }

  try {
    await Promise.all(Array.from({ length: o.concurrency }, () => worker()));
  } finally {
    agent.destroy();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((a, b) => a - b);
  return { sent: ok + failed, ok, failed, seconds, latencies, firstFailure, cappedByTime };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}
