// The admin portal's build (portal/, React + Vite): made when missing or older than its sources, by
// `npm start` and by the test command before any server starts, so a running server always finds it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PORTAL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../portal');
export const PORTAL_DIST = path.join(PORTAL_DIR, 'dist');

/** The newest modification time among the portal's sources (its folder without the build). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Why the portal must be built now, or undefined when its build is there and newer than its sources. */
export function portalBuildNeeded(): string | undefined {
  const index = path.join(PORTAL_DIST, 'index.html');
  if (!fs.existsSync(index)) return 'the portal has not been built yet';
  // package-lock.json: an upgraded dependency changes the bundle too
  const sources = Math.max(newestSource(PORTAL_DIR), fs.statSync(path.join(PORTAL_DIR, '../package-lock.json'), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  if (fs.statSync(index).mtimeMs < sources) return 'its sources are newer than its build';
  return undefined;
}

/** Builds the portal with Vite into portal/dist. */
export async function buildPortal(): Promise<void> {
  const { build } = await import('vite');
  await build({ root: PORTAL_DIR, configFile: path.join(PORTAL_DIR, 'vite.config.ts'), logLevel: 'warn' });
}

/** Builds the portal when needed; says so on `log`. */
export async function ensurePortalBuilt(log: (line: string) => void = () => {}): Promise<void> {
  const why = portalBuildNeeded();
  if (!why) return;
  log(`latchkey: building the admin portal (${why})…`);
  const started = Date.now();
  await buildPortal();
  log(`latchkey: admin portal built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
