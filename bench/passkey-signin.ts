// Scenario passkey-signin (Latchkey only): what signing in with a passkey instead of a password does to the
// sign-in rate. In the same Latchkey process, rounds of password-only sign-ins and of passkey sign-ins
// through the real sign-in pages over HTTP (signin.ts: a browser without JavaScript, fresh cookie jar per
// sign-in), alternating which goes first (ABBA). Goal: passkey sign-ins/s ≥ 1.5 × password-only
// sign-ins/s (a passkey's path has no argon2 verify), and (--profile) the SQL statements of each.
//
// A browser without JavaScript cannot run WebAuthn: a software authenticator of this process
// (tests/helpers/passkey.ts) answers the options the page embeds with the credential a browser posts
// (PublicKeyCredential.toJSON()), signed with the key of the passkey the child registered for the user.
// Each worker signs in as a user of its own (one authenticator per user, whose signature counter goes up
// on every assertion: the server refuses one not above the stored counter), as password-only sign-ins do.
import crypto from 'node:crypto';
import type http from 'node:http';
import { pageOptions, SoftAuthenticator } from '../tests/helpers/passkey.js';
import { type ChildHandle, type PasskeySetup, type SigninSetup } from './protocol.js';
import { compareSignins, compareStatements, type Credentials, fmt, profileSignins, signinClient, type SigninKind, type SigninOptions, signinRounds, signinRun, warmUp, withAgent } from './signin.js';

export interface PasskeySigninOptions extends SigninOptions {
  /** the passkey path measured: after the user name (the passkey page) or without a user name */
  usernameless: boolean;
}

/** The goal: passkey sign-ins/s at least this many times password-only ones. */
const RATE_GOAL = 1.5;

/** The load generator's authenticator for one bench user, holding the key of the passkey the child registered. */
function authenticatorOf(origin: string, u: PasskeySetup['users'][number]): SoftAuthenticator {
  const auth = new SoftAuthenticator(origin);
  const privateKey = crypto.createPrivateKey({ key: Buffer.from(u.privateKey, 'base64url'), format: 'der', type: 'pkcs8' });
  auth.keys.set(u.credentialId, { privateKey, cose: Buffer.from(u.cose, 'base64url'), userHandle: u.userHandle, counter: u.counter });
  return auth;
}

export async function passkeySigninScenario(s: ChildHandle, o: PasskeySigninOptions): Promise<string[]> {
  return withAgent(o.concurrency, (agent) => scenario(s, o, agent));
}

async function scenario(s: ChildHandle, o: PasskeySigninOptions, agent: http.Agent): Promise<string[]> {
  const plain = await s.call<SigninSetup>({ cmd: 'signin-setup', users: o.concurrency });
  const setup = await s.call<PasskeySetup>({ cmd: 'passkey-setup', users: o.concurrency });
  process.stderr.write(`  passkey-signin: ${setup.users.length} users with a passkey registered in ${(setup.setupMs / 1000).toFixed(1)} s\n`);
  const passkeyUsers: Credentials[] = setup.users.map((u) => {
    const auth = authenticatorOf(setup.origin, u);
    const assertion = (page: string) => {
      const options = pageOptions(page);
      // after the user name, a browser offers only the passkeys the page allows
      if (!o.usernameless && !options.allowCredentials.some((c) => c.id === u.credentialId)) throw new Error("the passkey page does not list the user's passkey");
      return JSON.stringify(auth.get(options));
    };
    return { upn: u.upn, passkey: { usernameless: o.usernameless, assertion } };
  });
  const signIn = signinClient(s, agent);
  const passwordOnly: SigninKind = ['password only', (total) => signinRun(signIn, total, plain.upns.length, o.timeCapMs, (w) => ({ upn: plain.upns[w]!, password: plain.password }))];
  const withPasskey: SigninKind = ['passkey', (total) => signinRun(signIn, total, passkeyUsers.length, o.timeCapMs, (w) => passkeyUsers[w]!)];
  const path = o.usernameless ? 'without a user name: the assertion posted on the user-name page' : 'after the user name: user name → the passkey page (step passkey) → the assertion';

  await warmUp('passkey-signin', o.warmup, [passwordOnly, withPasskey]);
  const rounds = await signinRounds(s, o, 'passkey-signin', passwordOnly, withPasskey);

  // ----- report -----
  const { a: pw, b: pk, lines, notes } = compareSignins(rounds, [passwordOnly[0], withPasskey[0]], RATE_GOAL, o.timeCapMs);
  const out: string[] = [];
  out.push('passkey-signin — password-only sign-ins against passkey sign-ins (first factor and MFA at once, no password), both through the sign-in pages over HTTP in the same Latchkey process (fresh cookie jar, demo native app with PKCE, Stay signed in = Yes, code at the redirect URI)');
  out.push(`  passkey ${path}; the assertion made here by a software authenticator (ES256, signature counter going up) for the page's WebAuthn options`);
  out.push(`  ${o.rounds} round(s) of ${o.signins} sign-ins of each kind, concurrency ${o.concurrency}, after ${o.warmup} warm-up sign-ins of each; one user per worker for both kinds`);
  out.push('');
  out.push(...lines);
  out.push(
    `CPU per sign-in, passkey minus password only: Latchkey ${(pk.serverCpu - pw.serverCpu).toFixed(2)} ms (a passkey sign-in costs it ${fmt((100 * pk.serverCpu) / pw.serverCpu)}% of a password-only one, which runs an argon2id verify: password-signin prints the CPU of one), the load generator ${(pk.ownCpu - pw.ownCpu).toFixed(2)} ms (its passkey sign-ins include signing the assertion)`,
  );
  out.push(...notes);

  if (o.profileDir) {
    const st = await compareStatements(s, Math.min(50, o.signins), passwordOnly, withPasskey, 'passkey instead of password');
    out.push('');
    out.push(`SQL statements run per password-only sign-in: ${st.a.toFixed(1)}, per passkey sign-in: ${st.b.toFixed(1)} (${st.b >= st.a ? '+' : ''}${(st.b - st.a).toFixed(1)}) ${st.cacheNote}${st.failed ? ` (${st.failed} of the sign-ins counted failed)` : ''}`);
    out.push(...st.tables);
    out.push(...(await profileSignins(s, { ...o, profileDir: o.profileDir }, 'latchkey-passkey-signin.cpuprofile', withPasskey, '')));
  }
  return out;
}
