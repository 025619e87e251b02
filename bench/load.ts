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
  try {
    const r = await runWorkers(o.total, o.concurrency, o.timeCapMs, async (i) => {
      const t0 = process.hrtime.bigint();
      const a = await post(agent, url, o.body(i));
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(a.text) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      const why = o.check(a.status, json, i);
      return why && `${why} (HTTP ${a.status}: ${a.text.slice(0, 300)})`;
    });
    latencies.sort((a, b) => a - b);
    return { sent: r.ok + r.failed, latencies, ...r };
  } finally {
    agent.destroy();
  }
}

/** What runWorkers did: tasks that went well, that failed (and the first failure), and how long it took. */
export interface WorkersRun {
  ok: number;
  failed: number;
  firstFailure?: string;
  seconds: number;
  /** the time cap stopped it before all tasks were started */
  cappedByTime: boolean;
}

/**
 * `total` tasks by `workers` concurrent workers, no task started after `timeCapMs`; `task(i, worker)`
 * returns undefined when it went well, else what went wrong (a throw is a failed request).
 */
export async function runWorkers(total: number, workers: number, timeCapMs: number, task: (i: number, worker: number) => Promise<string | undefined>): Promise<WorkersRun> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  let cappedByTime = false;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(timeCapMs) * 1_000_000n;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (next < total) {
        if (process.hrtime.bigint() > deadline) {
          cappedByTime = true;
          return;
        }
        let why: string | undefined;
        try {
          why = await task(next++, worker);
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
    }),
  );
  return { ok, failed, firstFailure, seconds: Number(process.hrtime.bigint() - start) / 1e9, cappedByTime };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}
