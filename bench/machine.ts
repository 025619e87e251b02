// The shared machine: how busy other processes keep it, waiting for it to calm down before a measured run,
// and telling a measured run that other processes disturbed from one that they did not (every scenario).
import fs from 'node:fs';
import os from 'node:os';
import type { ChildStats } from './protocol.js';

/** A measured run during which other processes took more than this share of the machine is run again. */
export const NOISY = 0.15;
/** tries of a measured run before a disturbed one is kept (and left out of the figures) */
export const ATTEMPTS = 3;

/** CPU time the whole machine has spent busy so far, ms (all CPUs). */
export function machineBusyMs(): number {
  return os.cpus().reduce((sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
}

/**
 * A process's main thread's time on a CPU and waiting, runnable, for one, µs (Linux's
 * /proc/{pid}/task/{pid}/schedstat: ns on the CPU, ns waiting); undefined where /proc has no schedstat.
 */
export function mainThreadSchedstat(pid: number): { onCpu: number; waiting: number } | undefined {
  try {
    const [onCpu, waiting] = fs.readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return Number.isFinite(onCpu) && Number.isFinite(waiting) ? { onCpu: onCpu! / 1000, waiting: waiting! / 1000 } : undefined;
  } catch {
    return undefined;
  }
}

export const cpuMs = (st: ChildStats) => (st.cpuUser + st.cpuSystem) / 1000;

/**
 * On a shared machine, waits (up to maxWaitMs) until other processes use less than NOISY of the CPU,
 * sampled over half a second while the servers are idle; returns how long it waited, ms.
 */
export async function waitForQuiet(maxWaitMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < maxWaitMs) {
    const m0 = machineBusyMs();
    const p0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 500));
    const p1 = process.cpuUsage(p0);
    const share = (machineBusyMs() - m0 - (p1.user + p1.system) / 1000) / (500 * os.cpus().length);
    if (share < NOISY) break;
  }
  return Date.now() - start;
}

/** What the machine did during one measured run. */
export interface Watch {
  /** CPU time of the server process (all threads) during the run, ms */
  serverCpuMs: number;
  /** of it, the server's main thread's, and how long that thread waited, runnable, for a CPU (ms; undefined without schedstat) */
  serverMainCpuMs?: number;
  serverMainWaitMs?: number;
  /** CPU time of this process (the load generator) during the run, ms */
  ownCpuMs: number;
  /** CPU time of everything else on the machine (not this process, not the server under load), ms */
  foreignCpuMs: number;
  /** elapsed × CPUs, ms */
  capacityMs: number;
  waitedMs: number;
  /** other processes took more than NOISY of the machine during the run */
  disturbed: boolean;
}

/**
 * Runs `fn` as one measured run on `server`: after waiting for a quieter machine, with the CPU time of the
 * server, of this process and of everything else counted around it.
 */
export async function watched<T>(server: { stats(): Promise<ChildStats> }, quietWaitMs: number, fn: () => Promise<T>): Promise<{ value: T; watch: Watch }> {
  const waitedMs = await waitForQuiet(quietWaitMs);
  const m0 = machineBusyMs();
  const p0 = process.cpuUsage();
  const c0 = await server.stats();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const c1 = await server.stats();
  const p1 = process.cpuUsage(p0);
  const m1 = machineBusyMs();
  const serverCpuMs = cpuMs(c1) - cpuMs(c0);
  const main = c0.mainCpu !== undefined && c1.mainCpu !== undefined && c0.mainWait !== undefined && c1.mainWait !== undefined ? { serverMainCpuMs: (c1.mainCpu - c0.mainCpu) / 1000, serverMainWaitMs: (c1.mainWait - c0.mainWait) / 1000 } : {};
  const ownCpuMs = (p1.user + p1.system) / 1000;
  const foreignCpuMs = Math.max(0, m1 - m0 - serverCpuMs - ownCpuMs);
  const capacityMs = elapsedMs * os.cpus().length;
  return { value, watch: { serverCpuMs, ...main, ownCpuMs, foreignCpuMs, capacityMs, waitedMs, disturbed: foreignCpuMs / capacityMs > NOISY } };
}

/** ` — disturbed, run again` and the like, for a progress line. */
export function disturbanceNote(w: Watch, attempt: number): string {
  const waited = w.waitedMs >= 1000 ? ` (after waiting ${(w.waitedMs / 1000).toFixed(0)} s for a quieter machine)` : '';
  const verdict = !w.disturbed ? '' : attempt < ATTEMPTS ? ' — disturbed, run again' : ' — disturbed, left out';
  return `other processes ${(100 * (w.foreignCpuMs / w.capacityMs)).toFixed(0).padStart(2)}% of the machine${waited}${verdict}`;
}

/**
 * Runs a measured run until other processes leave it alone (at most ATTEMPTS tries); prints a progress
 * line per try. The last try is kept even when disturbed (its `watch.disturbed` says so).
 */
export async function untilUndisturbed<T>(server: { stats(): Promise<ChildStats> }, quietWaitMs: number, fn: () => Promise<T>, progress: (value: T, watch: Watch) => string): Promise<{ value: T; watch: Watch }> {
  for (let attempt = 1; ; attempt++) {
    const r = await watched(server, quietWaitMs, fn);
    process.stderr.write(`  ${progress(r.value, r.watch)}, ${disturbanceNote(r.watch, attempt)}\n`);
    if (!r.watch.disturbed || attempt >= ATTEMPTS) return r;
  }
}
