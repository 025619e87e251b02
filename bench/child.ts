// The part both server children share: mint refresh tokens with the engine's own models, report the
// ready line, answer the parent's commands over IPC (mint, RSS and CPU time, CPU profile, a server's own), and exit with the parent.
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import { verify as argonVerify } from '@node-rs/argon2';
import type Provider from 'oidc-provider';
import { hashPassword } from '../src/crypto/secrets.js';
import { mainThreadSchedstat } from './machine.js';
import { type Argon2Run, type ChildStats, type Command, GRAPH, MINTED_GRANT_TTL, MINTED_TTL, REFRESH_TOKEN_SCOPE, type ReadyInfo, type Reply } from './protocol.js';

/**
 * Mints n refresh tokens the way a finished sign-in leaves them: one grant per token (as one sign-in
 * each, with the Grant lifetime a sign-in gives; a shared grant would make the memory adapter's per-grant index O(n) per save), password-based
 * (amr pwd), Graph as the resource, openid in scope. Same code for both servers.
 */
export async function mintRefreshTokens(provider: Provider, clientId: string, accountId: string, n: number): Promise<string[]> {
  const client = await provider.Client.find(clientId);
  if (!client) throw new Error(`client ${clientId} not found`);
  const out: string[] = [];
  const authTime = Math.floor(Date.now() / 1000);
  for (let i = 0; i < n; i++) {
    const grant = new provider.Grant({ clientId, accountId });
    (grant as unknown as { expiresIn: number }).expiresIn = MINTED_GRANT_TTL;
    grant.addOIDCScope('openid profile offline_access');
    grant.addResourceScope(GRAPH, `${GRAPH}/User.Read ${GRAPH}/.default`);
    const grantId = await grant.save();
    const rt = new provider.RefreshToken({
      client,
      accountId,
      grantId,
      gty: 'authorization_code',
      scope: REFRESH_TOKEN_SCOPE,
      resource: GRAPH,
      amr: ['pwd'],
      authTime,
      expiresIn: MINTED_TTL,
    });
    out.push(await rt.save());
  }
  return out;
}

/** The password of the sign-in scenarios' users (Latchkey's) and of the floor's one account (the bare engine's). */
export const SIGNIN_PASSWORD = 'Bench-Signin-Password-1!';

const hashes = new Map<string, Promise<string>>();
/** The argon2id hash of a password as Latchkey makes it (hashPassword: its parameters), made once per child. */
export function benchHash(password: string): Promise<string> {
  let h = hashes.get(password);
  if (!h) hashes.set(password, (h = hashPassword(password)));
  return h;
}

/** n raw argon2id verifies (@node-rs/argon2) of a hash made by hashPassword, `concurrency` in flight. */
export async function argon2Verifies(password: string, n: number, concurrency: number): Promise<Argon2Run> {
  const hash = await benchHash(password);
  const msSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
  const latencies: number[] = [];
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        const t = process.hrtime.bigint();
        if (!(await argonVerify(hash, password))) throw new Error('argon2 verify said no to the right password');
        latencies.push(msSince(t));
      }
    }),
  );
  return { n, seconds: msSince(t0) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

export interface BenchChild {
  info: Omit<ReadyInfo, 'benchReady' | 'pid'>;
  mint(n: number): Promise<string[]>;
  /** what the child counted since the last call (reset on read), if it counts anything; `on`: count from now */
  counters?(on: boolean): Record<string, number>;
  /** commands only this server knows (Latchkey's revoke-sessions and password-signin scenarios) */
  extra?(msg: Command): Promise<unknown>;
  close(): Promise<void>;
}

/** The main thread's time on a CPU and waiting for one, µs (Linux's schedstat). */
function mainThreadTimes(): { mainCpu?: number; mainWait?: number } {
  const t = mainThreadSchedstat(process.pid);
  return t ? { mainCpu: t.onCpu, mainWait: t.waiting } : {};
}

export function serveParent(child: BenchChild): void {
  let session: Session | undefined;

  async function handle(msg: Command): Promise<unknown> {
    switch (msg.cmd) {
      case 'mint':
        return child.mint(msg.n);
      case 'stats': {
        const cpu = process.cpuUsage();
        return { rss: process.memoryUsage.rss(), cpuUser: cpu.user, cpuSystem: cpu.system, ...mainThreadTimes() } satisfies ChildStats;
      }
      case 'counters':
        return child.counters?.(msg.on) ?? {};
      case 'profile-start':
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: msg.intervalUs });
        await session.post('Profiler.start');
        return null;
      case 'profile-stop': {
        if (!session) throw new Error('no profile running');
        const { profile } = await session.post('Profiler.stop');
        session.disconnect();
        session = undefined;
        fs.writeFileSync(msg.file, JSON.stringify(profile));
        return msg.file;
      }
      default:
        if (!child.extra) throw new Error(`the ${child.info.name} server does not know the command ${msg.cmd}`);
        return child.extra(msg);
    }
  }

  process.on('message', (m: Command) => {
    handle(m).then(
      (result) => process.send?.({ id: m.id, ok: true, result } satisfies Reply),
      (e: unknown) => process.send?.({ id: m.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies Reply),
    );
  });

  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), 3000).unref();
    child.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // the parent went away (normally or not): go too
  process.on('disconnect', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  const ready: ReadyInfo = { benchReady: true, pid: process.pid, ...child.info };
  process.stdout.write(JSON.stringify(ready) + '\n');
}
