// Summarises a V8 .cpuprofile (as written by --cpu-prof or the inspector's Profiler.stop): where the busy
// time went, by package or source file (self and inclusive) and by function.
import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  /** µs on the monotonic clock (process.hrtime's, in ns, in the load generator) */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Package, Node.js module or Latchkey source file a frame belongs to. */
function category(f: CallFrame, root: string): string {
  const url = f.url.startsWith('file://') ? decodeURIComponent(new URL(f.url).pathname) : f.url;
  if (!url) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith(root + path.sep)) return path.relative(root, url);
  return url;
}

function frameName(f: CallFrame, root: string): string {
  const url = f.url.startsWith('file://') ? decodeURIComponent(new URL(f.url).pathname) : f.url;
  let where = url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) where = url.slice(nm + '/node_modules/'.length);
  else if (url.startsWith(root + path.sep)) where = path.relative(root, url);
  return `${f.functionName || '(anonymous)'}${where ? ` ${where}:${f.lineNumber + 1}` : ''}`;
}

/** A profile read, with each node's label: its function and where it is, and its category. */
function readProfile(file: string, root: string) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Native frames (no script: better-sqlite3's statement methods, crypto jobs, ...) are named after the
  // JavaScript frame that called them, so that e.g. SQLite's `run` and a crypto job's `run` stay apart.
  const labels = new Map<number, { name: string; cat: string }>();
  function label(id: number): { name: string; cat: string } {
    let l = labels.get(id);
    if (l) return l;
    const f = byId.get(id)!.callFrame;
    const p = parent.get(id);
    if (!f.url && !f.functionName.startsWith('(') && p !== undefined && byId.get(p)!.callFrame.functionName !== '(root)') {
      const caller = label(p);
      l = { name: `${f.functionName || '(anonymous)'} [native, called by ${caller.name}]`, cat: `native, called from ${caller.cat}` };
    } else {
      l = { name: frameName(f, root), cat: category(f, root) };
    }
    labels.set(id, l);
    return l;
  }
  return { prof, byId, parent, label };
}

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

export function summarizeProfile(file: string, root: string, top = 20): string {
  const { prof, byId, parent, label } = readProfile(file, root);
  const self = new Map<string, number>();
  const selfCat = new Map<string, number>();
  const incl = new Map<string, number>();
  const inclCat = new Map<string, number>();
  let total = 0;
  let idle = 0;

  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]!);
    if (!node) continue;
    const us = prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const l = label(node.id);
    add(self, l.name, us);
    add(selfCat, l.cat, us);
    const seenF = new Set<string>();
    const seenC = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      if (byId.get(id)!.callFrame.functionName === '(root)') break;
      const a = label(id);
      seenF.add(a.name);
      seenC.add(a.cat);
    }
    for (const k of seenF) add(incl, k, us);
    for (const k of seenC) add(inclCat, k, us);
  }

  const pct = (v: number) => `${((100 * v) / total).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `    ${pct(v)}  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  return [
    `  busy ${(total / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms (${((100 * total) / (total + idle)).toFixed(0)}% busy); percentages of busy time`,
    '  self time by package / module / source file:',
    ...list(selfCat, top),
    '  inclusive time by package / module / source file (a sample counts once per category on its stack):',
    ...list(inclCat, top),
    '  self time by function:',
    ...list(self, top),
    '  inclusive time by function:',
    ...list(incl, top + 10),
  ].join('\n');
}

/** A request of the load generator: its kind, and when it was sent and answered (process.hrtime, ns). */
export interface RequestSpan {
  kind: string;
  sent: bigint;
  answered: bigint;
}

/**
 * The profiled thread's busy time per kind of request, `per` of them run one at a time (no two spans
 * overlap): each sample goes to the request in flight at its time, with the functions it spent most in.
 */
export function busyByRequest(file: string, root: string, spans: RequestSpan[], per: number, top = 6): string[] {
  const { prof, label } = readProfile(file, root);
  const sorted = spans.map((x) => ({ kind: x.kind, from: Number(x.sent / 1000n), to: Number(x.answered / 1000n) })).sort((a, b) => a.from - b.from);
  const busy = new Map<string, number>();
  const fns = new Map<string, Map<string, number>>();
  let t = prof.startTime;
  let at = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    const l = label(prof.samples[i]!);
    if (l.name.startsWith('(idle)')) continue;
    while (at < sorted.length && sorted[at]!.to < t) at++;
    const kind = at < sorted.length && sorted[at]!.from <= t ? sorted[at]!.kind : '(between requests)';
    const us = prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0;
    add(busy, kind, us);
    if (!fns.has(kind)) fns.set(kind, new Map());
    add(fns.get(kind)!, l.name, us);
  }
  const ms = (us: number) => (us / 1000 / per).toFixed(2).padStart(6);
  const lines = [...busy.entries()].sort((a, b) => b[1] - a[1]).flatMap(([kind, us]) => [
    `  ${kind.padEnd(20)} ${ms(us)} ms per sign-in, most in:`,
    ...[...fns.get(kind)!.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([f, v]) => `      ${ms(v)} ms  ${f}`),
  ]);
  const total = [...busy.values()].reduce((a, b) => a + b, 0);
  return [...lines, `  ${'all'.padEnd(20)} ${ms(total)} ms per sign-in`];
}

// `tsx bench/profile-summary.ts file.cpuprofile` summarises a profile written earlier.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.dirname, 'profile-summary.ts')) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile>');
    process.exit(2);
  }
  console.log(summarizeProfile(file, path.resolve(import.meta.dirname, '..')));
}
