// Scenario graph-app (Latchkey only): client-credentials token issuance for an application created through
// Graph's admin actions (create-application, add-application-password, as POST /applications and
// addPassword do) against the seeded Automation app, same request shape (Graph's .default, a secret in the
// form), alternating rounds. The engine's view of both is the same version-stamped cache, so the goal is
// the same rate: ratio Graph-created ÷ seeded ≥ 0.95.
import { percentile, runLoad, type LoadResult } from './load.js';
import { CLIENT_CREDENTIALS_SCOPE, type ChildHandle } from './protocol.js';
import { table } from './report.js';
import { abbaRounds, fmt, type SigninOptions, sum } from './signin.js';

const GOAL = 0.95;

export interface GraphAppOptions {
  requests: number;
  warmup: number;
  concurrency: number;
  rounds: number;
  quietWaitMs: number;
  timeCapMs: number;
  root: string;
}

export async function graphAppScenario(s: ChildHandle, o: GraphAppOptions): Promise<string[]> {
  const created = await s.call<{ clientId: string; secret: string }>({ cmd: 'graph-app-setup' });
  const load = (clientId: string, secret: string, total: number) => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: CLIENT_CREDENTIALS_SCOPE }).toString();
    return runLoad({ url: s.info.tokenUrl, total, concurrency: o.concurrency, timeCapMs: o.timeCapMs, body: () => body, check: (status, j) => (status === 200 && typeof j?.access_token === 'string' ? undefined : `status ${status}: ${JSON.stringify(j).slice(0, 200)}`) });
  };
  const seeded = (n: number) => load(s.info.ccClientId, s.info.ccClientSecret, n);
  const graphMade = (n: number) => load(created.clientId, created.secret, n);
  if (o.warmup) {
    for (const [name, w] of [['seeded', await seeded(o.warmup)], ['Graph-created', await graphMade(o.warmup)]] as const) if (w.failed) throw new Error(`graph-app warm-up (${name}): ${w.failed} failed; first: ${w.firstFailure}`);
  }
  const progress = (name: string) => (v: LoadResult) => `${name} ${(v.ok / v.seconds).toFixed(1).padStart(7)}/s${v.failed ? `, ${v.failed} failed` : ''}`;
  const options: SigninOptions = { signins: o.requests, warmup: o.warmup, concurrency: o.concurrency, rounds: o.rounds, quietWaitMs: o.quietWaitMs, timeCapMs: o.timeCapMs, root: o.root };
  const rounds = await abbaRounds(s, options, 'graph-app', { run: () => seeded(o.requests), progress: progress('seeded       ') }, { run: () => graphMade(o.requests), progress: progress('Graph-created') });
  const used = <T>(xs: T[]) => xs.filter((_, i) => rounds.use[i]);
  const rate = (rs: { value: LoadResult }[]) => sum(rs, (r) => r.value.ok) / sum(rs, (r) => r.value.seconds);
  const lat = (rs: { value: LoadResult }[]) => rs.flatMap((r) => r.value.latencies).sort((a, b) => a - b);
  const failed = sum([...rounds.as, ...rounds.bs], (r) => r.value.failed);
  const a = used(rounds.as);
  const b = used(rounds.bs);
  const ratio = rate(b) / rate(a);
  return [
    `graph-app — client-credentials grants for Graph (.default) by an app created through Graph's admin actions against the seeded Automation app; ${o.rounds} round(s) of ${o.requests} requests each, concurrency ${o.concurrency}, after ${o.warmup} warm-up requests each`,
    '',
    table([
      ['', 'grants/s', 'p50 / p99 ms'],
      ['seeded app', rate(a).toFixed(1), `${fmt(percentile(lat(a), 50))} / ${fmt(percentile(lat(a), 99))}`],
      ['Graph-created app', rate(b).toFixed(1), `${fmt(percentile(lat(b), 50))} / ${fmt(percentile(lat(b), 99))}`],
    ]),
    '',
    `ratio Graph-created ÷ seeded: ${ratio.toFixed(2)} (goal ≥ ${GOAL}: ${ratio >= GOAL ? 'met' : 'NOT met'})${failed ? `; ${failed} requests failed` : ''}${rounds.allDisturbed ? '; every round was disturbed by other processes: not reliable' : ''}`,
  ];
}
