// Scenario revoke-sessions (Latchkey only): what Revoke sessions costs for a user holding N live refresh
// tokens. Each N gets a fresh user with N minted tokens (one grant each, as the refresh scenario mints
// them); one is refreshed first as a control (its rotated successor keeps the count at N). Three paths are timed:
//   - direct: the admin action called in the Latchkey process (plan(), then apply(), each timed there) with
//     ctx = { db, secrets, tenantId, config }: the full preview, which lists every credential;
//   - lean: the same with ctx.lean (what the Graph route passes: browser sessions listed, grants not);
//   - graph: POST /v1.0/users/{id}/revokeSignInSessions with the automation app's client-credentials
//     token, timed here around the HTTP call (the route authenticates, then runs plan() and apply());
//   - api: what the admin portal does, over HTTP with the same token: a /latchkey/v1 dry run (the full
//     preview, its plan kept with the first page of its lists) and then the apply of that plan, each timed
//     here around its HTTP call.
// The figures say which of them stays constant in N.
// After every call a refresh with one of the N tokens must be refused (AADSTS50173); then the user's
// stamps are put back to their value at setup, which makes the same N tokens live again for the next call
// (a revoke is a stamp on the user: the token rows themselves are not touched, which the child checks).
import fs from 'node:fs';
import path from 'node:path';
import { httpRequest, loopbackAgent, postForm } from './http-client.js';
import { percentile } from './load.js';
import { untilUndisturbed, type Watch } from './machine.js';
import { summarizeProfile } from './profile-summary.js';
import { table } from './report.js';
import { type ChildHandle, CLIENT_CREDENTIALS_SCOPE, REFRESH_REQUEST_SCOPE, type RevokeReset, type RevokeSetup, type RevokeTiming } from './protocol.js';

export interface RevokeOptions {
  /** live refresh tokens held by the user, one run per count */
  counts: number[];
  /** measured calls per count and path */
  calls: number;
  /** unmeasured calls per path before the first count (on a user of the smallest count) */
  warmupCalls: number;
  quietWaitMs: number;
  /** a folder for a CPU profile of the direct path at the largest count, or undefined */
  profileDir?: string;
  root: string;
}

type Path = 'direct' | 'lean' | 'graph' | 'api';

interface CallTiming {
  planMs?: number;
  applyMs?: number;
  totalMs: number;
}

interface PathRun {
  calls: CallTiming[];
  watch: Watch;
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
const fmt = (v: number) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));

export async function revokeSessionsScenario(s: ChildHandle, o: RevokeOptions): Promise<string[]> {
  const agent = loopbackAgent(1);
  try {
    return await scenario(s, o, agent);
  } finally {
    agent.destroy();
  }
}

async function scenario(s: ChildHandle, o: RevokeOptions, agent: ReturnType<typeof loopbackAgent>): Promise<string[]> {
  const base = `http://127.0.0.1:${s.info.port}`;
  // The automation app's app-only Graph token (client credentials), as a script calling Graph gets it.
  const cc = await postForm(agent, s.info.tokenUrl, { grant_type: 'client_credentials', client_id: s.info.ccClientId, client_secret: s.info.ccClientSecret, scope: CLIENT_CREDENTIALS_SCOPE });
  const accessToken = cc.json?.access_token;
  if (cc.status !== 200 || typeof accessToken !== 'string') throw new Error(`revoke-sessions: no client-credentials token (HTTP ${cc.status}: ${cc.text.slice(0, 300)})`);

  const refresh = (token: string) => postForm(agent, s.info.tokenUrl, { grant_type: 'refresh_token', client_id: s.info.refreshClientId, refresh_token: token, scope: REFRESH_REQUEST_SCOPE });

  async function setup(n: number): Promise<{ setup: RevokeSetup; mintSeconds: number }> {
    const t0 = process.hrtime.bigint();
    const st = await s.call<RevokeSetup>({ cmd: 'revoke-setup', n });
    const mintSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    // control: before any revoke, a minted token refreshes (so the guard's refusal below is the revoke's doing)
    const c = await refresh(st.control);
    if (c.status !== 200 || typeof c.json?.access_token !== 'string') throw new Error(`revoke-sessions N=${n}: the control refresh before any revoke failed (HTTP ${c.status}: ${c.text.slice(0, 300)})`);
    const live = await s.call<RevokeReset>({ cmd: 'revoke-reset', userId: st.userId });
    if (live.liveRows !== n) throw new Error(`revoke-sessions N=${n}: the user holds ${live.liveRows} live refresh tokens, not ${n}`);
    return { setup: st, mintSeconds };
  }

  /** One revoke by `path`, the correctness guard, and the reset; returns the revoke's timing. */
  async function oneCall(p: Path, n: number, st: RevokeSetup): Promise<CallTiming> {
    let t: CallTiming;
    if (p === 'direct' || p === 'lean') {
      const r = await s.call<RevokeTiming>({ cmd: 'revoke-direct', userId: st.userId, lean: p === 'lean' });
      // the full preview lists the N grants as ending; a lean one lists only browser sessions (this user has none)
      const listed = p === 'lean' ? 0 : n;
      if (r.previewEnding !== listed || r.ended !== listed) throw new Error(`revoke-sessions N=${n} (${p}): the preview lists ${r.previewEnding} credentials as ending and apply() reports ${r.ended} ended, not ${listed}`);
      t = { planMs: r.planMs, applyMs: r.applyMs, totalMs: r.planMs + r.applyMs };
    } else if (p === 'api') {
      const json = { authorization: `Bearer ${accessToken as string}`, 'content-type': 'application/json' };
      const t0 = process.hrtime.bigint();
      const d = await httpRequest(agent, new URL(`${base}/latchkey/v1/users/${st.userId}/actions/revokeSessions`), { method: 'POST', headers: json, body: JSON.stringify({ dryRun: true }) });
      const planMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const plan = parsed(d.text) as { planId?: string; preview?: { endingCount?: number; ending?: unknown[] } } | undefined;
      if (d.status !== 200 || typeof plan?.planId !== 'string') throw new Error(`revoke-sessions N=${n}: the /latchkey/v1 dry run answered HTTP ${d.status}: ${d.text.slice(0, 300)}`);
      if (plan.preview?.endingCount !== n) throw new Error(`revoke-sessions N=${n} (api): the preview counts ${String(plan.preview?.endingCount)} credentials as ending, not ${n}`);
      const t1 = process.hrtime.bigint();
      const a = await httpRequest(agent, new URL(`${base}/latchkey/v1/plans/${plan.planId}/apply`), { method: 'POST', headers: json, body: '{}' });
      const applyMs = Number(process.hrtime.bigint() - t1) / 1e6;
      const applied = parsed(a.text) as { endedCount?: number } | undefined;
      if (a.status !== 200 || applied?.endedCount !== n) throw new Error(`revoke-sessions N=${n} (api): apply answered HTTP ${a.status} with endedCount ${String(applied?.endedCount)}, not ${n}: ${a.text.slice(0, 300)}`);
      t = { planMs, applyMs, totalMs: planMs + applyMs };
    } else {
      const t0 = process.hrtime.bigint();
      const a = await httpRequest(agent, new URL(`${base}/v1.0/users/${st.userId}/revokeSignInSessions`), { method: 'POST', headers: { authorization: `Bearer ${accessToken as string}` }, body: '' });
      const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const value = (parsed(a.text) as { value?: unknown } | undefined)?.value;
      if (a.status !== 200 || value !== true) throw new Error(`revoke-sessions N=${n}: Graph revokeSignInSessions answered HTTP ${a.status}: ${a.text.slice(0, 300)}`);
      t = { totalMs };
    }
    // correctness guard: one of the N tokens no longer refreshes
    const g = await refresh(st.guard);
    const codes = g.json?.error_codes;
    if (g.status !== 400 || g.json?.error !== 'invalid_grant' || !Array.isArray(codes) || !codes.includes(50173)) {
      throw new Error(`revoke-sessions N=${n} (${p}): a refresh with a minted token after the revoke was not refused with invalid_grant AADSTS50173 (HTTP ${g.status}: ${g.text.slice(0, 300)})`);
    }
    const r = await s.call<RevokeReset>({ cmd: 'revoke-reset', userId: st.userId });
    if (!r.stamped) throw new Error(`revoke-sessions N=${n} (${p}): the revoke did not move signInSessionsValidFrom`);
    if (r.liveRows !== n) throw new Error(`revoke-sessions N=${n} (${p}): after the reset the user holds ${r.liveRows} live refresh tokens, not ${n}`);
    return t;
  }

  const paths: Path[] = ['direct', 'lean', 'graph', 'api'];
  const smallest = Math.min(...o.counts);
  if (o.warmupCalls) {
    const { setup: warm } = await setup(smallest);
    for (const p of paths) for (let i = 0; i < o.warmupCalls; i++) await oneCall(p, smallest, warm);
  }

  const results = new Map<number, Map<Path, PathRun>>();
  const mintNotes: string[] = [];
  for (const n of o.counts) {
    const { setup: st, mintSeconds } = await setup(n);
    mintNotes.push(`N=${n} minted in ${mintSeconds.toFixed(1)} s`);
    const byPath = new Map<Path, PathRun>();
    // alternate the order of the paths from one count to the next
    const order = results.size % 2 === 0 ? paths : [...paths].reverse();
    for (const p of order) {
      const r = await untilUndisturbed(
        s,
        o.quietWaitMs,
        async () => {
          const calls: CallTiming[] = [];
          for (let i = 0; i < o.calls; i++) calls.push(await oneCall(p, n, st));
          return calls;
        },
        (calls) => `revoke-sessions N=${String(n).padEnd(6)} ${p.padEnd(6)} ${fmt(median(calls.map((c) => c.totalMs))).padStart(7)} ms per call (median of ${calls.length})`,
      );
      byPath.set(p, { calls: r.value, watch: r.watch });
    }
    results.set(n, byPath);
  }

  // ----- report -----
  const lo = Math.min(...o.counts);
  const hi = Math.max(...o.counts);
  const col = (n: number, f: (r: Map<Path, PathRun>) => number[]) => median(f(results.get(n)!));
  const series: { name: string; of: (r: Map<Path, PathRun>) => number[] }[] = [
    { name: 'plan() ms', of: (r) => r.get('direct')!.calls.map((c) => c.planMs!) },
    { name: 'apply() ms', of: (r) => r.get('direct')!.calls.map((c) => c.applyMs!) },
    { name: 'plan+apply ms', of: (r) => r.get('direct')!.calls.map((c) => c.totalMs) },
    { name: 'lean plan() ms', of: (r) => r.get('lean')!.calls.map((c) => c.planMs!) },
    { name: 'lean apply() ms', of: (r) => r.get('lean')!.calls.map((c) => c.applyMs!) },
    { name: 'Graph POST ms', of: (r) => r.get('graph')!.calls.map((c) => c.totalMs) },
    { name: 'API dry run ms', of: (r) => r.get('api')!.calls.map((c) => c.planMs!) },
    { name: 'API apply ms', of: (r) => r.get('api')!.calls.map((c) => c.applyMs!) },
  ];
  const rows: string[][] = [['live refresh tokens N', ...series.map((x) => x.name)]];
  for (const n of o.counts) rows.push([String(n), ...series.map((x) => fmt(col(n, x.of)))]);
  const ratios = series.map((x) => col(hi, x.of) / col(lo, x.of));
  rows.push([`ratio t(${hi}) / t(${lo})`, ...ratios.map((r) => r.toFixed(1))]);
  // cost of each further live token, from the two ends
  rows.push(['µs per further live token', ...series.map((x) => ((1000 * (col(hi, x.of) - col(lo, x.of))) / (hi - lo)).toFixed(1))]);

  const out: string[] = [];
  out.push(`revoke-sessions — Revoke sessions of a user holding N live refresh tokens (demo native app, one grant each, amr pwd); median per call of ${o.calls} calls per N and path, after ${o.warmupCalls} warm-up call(s) per path`);
  out.push('  direct: plan(ctx, system actor, userId) then apply(ctx, plan), timed in the Latchkey process, full preview; lean: the same with ctx.lean (as the Graph route runs it: grants not listed); Graph: POST /v1.0/users/{id}/revokeSignInSessions with the automation app\'s client-credentials token, timed by the client; API: the admin portal\'s way, a /latchkey/v1 dry run then the apply of its plan, each timed by the client (the issue\'s goal: API apply t(10000) / t(10) ≤ 2); one call at a time');
  out.push('');
  out.push(table(rows));
  out.push('');
  const verdict = (name: string, r: number) => `${name} ${r.toFixed(1)}× (${r <= CONSTANT ? 'constant: met' : 'NOT constant'})`;
  out.push(`goal: constant in the count (t(${hi}) / t(${lo}) ≤ ${CONSTANT} taken as constant): ${series.map((x, i) => verdict(x.name.replace(' ms', ''), ratios[i]!)).join('; ')}`);
  const spread = o.counts.map((n) => {
    const range = (p: Path) => {
      const t = results.get(n)!.get(p)!.calls.map((c) => c.totalMs);
      return `${p} ${fmt(Math.min(...t))}–${fmt(Math.max(...t))}`;
    };
    return `N=${n} ${paths.map(range).join(', ')}`;
  });
  out.push(`range of the calls, ms: ${spread.join('; ')}`);
  out.push(`correctness: before the first revoke of each N a minted token refreshed (control); after every one of the ${o.counts.length * paths.length * o.calls} measured calls a refresh with one of the N minted tokens was refused (invalid_grant AADSTS50173), the full preview listed and apply() reported exactly N credentials ending (0 when lean: grants are not listed, and the user has no browser session), the API's preview and apply counted N, and the N token rows stayed live (a revoke only stamps the user)`);
  out.push(`setup (not measured): ${mintNotes.join(', ')}`);
  const disturbed = o.counts.flatMap((n) => paths.filter((p) => results.get(n)!.get(p)!.watch.disturbed).map((p) => `N=${n} ${p}`));
  if (disturbed.length) out.push(`note: stayed disturbed by other processes after its tries (figures less reliable): ${disturbed.join(', ')}`);

  if (o.profileDir) {
    const { setup: st } = await setup(hi);
    const file = path.join(o.profileDir, `latchkey-revoke-sessions-${hi}.cpuprofile`);
    const calls = 3;
    await s.call({ cmd: 'profile-start', intervalUs: 250 });
    for (let i = 0; i < calls; i++) await oneCall('direct', hi, st);
    await s.call({ cmd: 'profile-stop', file });
    out.push('');
    out.push(`CPU profile of ${calls} direct calls at N=${hi} (each with its guard refresh and reset), Latchkey's main thread — ${file}`);
    out.push(summarizeProfile(file, o.root, 20));
    if (!fs.existsSync(file)) out.push('(the profile was not written)');
  }
  return out;
}

/**
 * t(largest N) / t(smallest N) up to which a cost counts as constant in the count: calls of a millisecond
 * or less move by tens of percent with GC and caches, while a cost linear in N would give ~N(max)/N(min).
 */
const CONSTANT = 2;

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

