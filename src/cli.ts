// Command line for operators: `npm run cli -- <command>`. Commands are named for what they do.
//   keys rotate   add a new token-signing key (used from the next start); the old one stays published
//                 until the tokens it signed have expired
//   sweep         delete expired engine rows and sign-in flows now
import { ConfigError, loadConfig } from './config/index.js';
import { Secrets } from './crypto/secrets.js';
import { rotateSigningKey } from './protocol/keys.js';
import { openStore } from './storage/db.js';
import { sweepExpired } from './storage/oidc-adapter.js';

const USAGE = 'usage: npm run cli -- keys rotate | sweep';

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const cmd = argv.join(' ');
    if (cmd === 'keys rotate') {
      const kid = await rotateSigningKey(store.db, Secrets.load(config.masterKey, config.dataDir));
      console.log(`new signing key ${kid}; restart Latchkey to sign with it (the previous key stays published until its tokens expire)`);
      return 0;
    }
    if (cmd === 'sweep') {
      console.log(`${await sweepExpired(store.db)} expired rows deleted`);
      return 0;
    }
    console.error(USAGE);
    return 2;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`latchkey: ${e instanceof ConfigError ? 'configuration error: ' : ''}${e instanceof Error ? e.message : String(e)}`);
    process.exit(e instanceof ConfigError ? 2 : 1);
  },
);
