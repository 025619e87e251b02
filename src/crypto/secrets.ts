// Secrets at rest (spec D14): the master key, authenticated encryption of what must be read back, keyed
// hashes of bearer values that are only looked up, and argon2id for passwords and client secrets.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';

/**
 * Random 96-bit GCM nonces, drawn from the CSPRNG 256 at a time (one call to it per 256 encryptions instead
 * of one each); each is handed out once and the pool is drawn again when spent.
 */
const IV_BYTES = 12;
const ivPool = Buffer.alloc(IV_BYTES * 256);
let ivNext = ivPool.length;
function nextIv(): Buffer {
  if (ivNext === ivPool.length) {
    crypto.randomFillSync(ivPool);
    ivNext = 0;
  }
  // a copy: the pool is overwritten at the next draw
  const iv = Buffer.from(ivPool.subarray(ivNext, ivNext + IV_BYTES));
  ivNext += IV_BYTES;
  return iv;
}

export class Secrets {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
    this.encKey = Buffer.from(crypto.hkdfSync('sha256', masterKey, Buffer.alloc(0), 'latchkey/enc/v1', 32));
    this.macKey = Buffer.from(crypto.hkdfSync('sha256', masterKey, Buffer.alloc(0), 'latchkey/mac/v1', 32));
  }

  /** Loads the key from LATCHKEY_MASTER_KEY, else from (or into) a 0600 file in the data folder. */
  static load(masterKeyB64: string, dataDir: string): Secrets {
    if (masterKeyB64) return new Secrets(Buffer.from(masterKeyB64, 'base64'));
    const file = path.join(dataDir, 'master.key');
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      return new Secrets(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const key = crypto.randomBytes(32);
    fs.writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return new Secrets(key);
  }

  /** AES-256-GCM; the associated data binds the ciphertext to where it is stored. */
  encrypt(plain: string, context: string): string {
    const iv = nextIv();
    const c = crypto.createCipheriv('aes-256-gcm', this.encKey, iv);
    c.setAAD(Buffer.from(context));
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `v1.${iv.toString('base64url')}.${body.toString('base64url')}.${c.getAuthTag().toString('base64url')}`;
  }

  decrypt(sealed: string, context: string): string {
    const [v, iv, body, tag] = sealed.split('.');
    if (v !== 'v1' || !iv || !body || tag === undefined) throw new Error('sealed value is malformed');
    const d = crypto.createDecipheriv('aes-256-gcm', this.encKey, Buffer.from(iv, 'base64url'));
    d.setAAD(Buffer.from(context));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
  }

  /** Keyed hash for lookup of a high-entropy bearer value (token ids, codes, session ids). */
  lookupHash(value: string, context: string): string {
    return crypto.createHmac('sha256', this.macKey).update(context).update('\0').update(value).digest('base64url');
  }
}

export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

// argon2id (OWASP 2024 minimum m=19 MiB, t=2, p=1).
const ARGON = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argonHash(password, ARGON);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argonVerify(hash, password);
  } catch {
    return false;
  }
}
