// The refusal of a Graph URL no route serves, naming what was wrong as the client sent it: the first path
// segment no route reaches ("Resource not found for the segment 'owners'."), never the path the router saw
// after the alternate-key rewrites (`/applications(appId='…')` → `/applications/__appId/…`, see
// rewriteAppIdKey and rewriteAlternateKeys), nor an empty name for a URL that names no resource.
import type { FastifyRequest } from 'fastify';
import { BY_APP_ID } from './applications.js';

/** The path segments of a URL after its version segment (`/v1.0/users/x` → users, x). */
const segmentsOf = (url: string) => url.split(/[?#]/, 1)[0]!.split('/').slice(2);

/**
 * The routed segments folded back into the segments the client sent: `applications`, `__appId`, `{appId}`
 * into `applications(appId='{appId}')` (rewriteAppIdKey), `servicePrincipals`, `appId={appId}` into
 * `servicePrincipals(appId='{appId}')` (rewriteAlternateKeys); `at[i]` is the sent index of routed segment i.
 */
function sentForm(routed: readonly string[]): { sent: string[]; at: number[] } {
  const sent: string[] = [];
  const at: number[] = [];
  for (let i = 0; i < routed.length; i++) {
    const seg = routed[i]!;
    const prev = sent.length - 1;
    const key = /^([A-Za-z]+)=(.*)$/.exec(seg);
    if (seg === BY_APP_ID && routed[i - 1] === 'applications' && i + 1 < routed.length) {
      sent[prev] = `applications(appId='${routed[i + 1]}')`;
      at.push(prev, prev);
      i++;
    } else if (key && i > 0 && /^[A-Za-z]+$/.test(routed[i - 1]!)) {
      sent[prev] = `${routed[i - 1]}(${key[1]}='${key[2]}')`;
      at.push(prev);
    } else {
      sent.push(seg);
      at.push(sent.length - 1);
    }
  }
  return { sent, at };
}

/** Whether a route (its segments after the version) reaches the path's first `upTo + 1` segments. */
function reaches(route: readonly string[], path: readonly string[], upTo: number): boolean {
  if (route.length <= upTo) return false;
  for (let i = 0; i <= upTo; i++) {
    const r = route[i]!;
    if (r === '*') return true;
    if (r !== path[i] && !(r.startsWith(':') && path[i] !== '')) return false;
  }
  return true;
}

/**
 * The message for a Graph URL no route serves. `routes` are the scope's route paths (with their version
 * prefix); `req.url` is the path as routed, after the alternate-key rewrites.
 */
export function notFoundMessage(req: FastifyRequest, routes: readonly string[]): string {
  const path = req.url.split(/[?#]/, 1)[0]!;
  const version = path.split('/')[1] ?? '';
  const routed = segmentsOf(path);
  if (routed.every((s) => s === '')) return `Invalid request: the URL names no resource after '/${version}/'.`;
  const { sent, at } = sentForm(routed);
  const patterns = routes.map(segmentsOf);
  // the first routed segment no route reaches; all reached: the path is served, by other methods
  let failed = 0;
  while (failed < routed.length && patterns.some((p) => reaches(p, routed, failed))) failed++;
  if (failed === routed.length && patterns.some((p) => p.length === routed.length && reaches(p, routed, routed.length - 1))) return `The method '${req.method}' is not supported on '/${[version, ...sent].join('/').slice(0, 300)}'.`;
  const index = at[Math.min(failed, routed.length - 1)]!;
  const segment = sent[index]!;
  if (segment === '') return `Invalid request: the URL has an empty segment after '/${[version, ...sent.slice(0, index)].join('/').slice(0, 300)}'.`;
  return `Resource not found for the segment '${segment.slice(0, 300)}'.`;
}
