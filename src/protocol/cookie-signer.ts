// The engine's cookie signatures (the `.sig` cookies of `cookies`/Koa), byte for byte what Keygrip makes
// with its defaults (HMAC-SHA1, base64 with `/+` as `_-` and no padding: base64url), so cookies signed
// before stay valid. Keygrip checks a signature by computing it, then comparing through `tsscmp`, which
// draws 32 random bytes and computes two more HMACs; here the comparison is `timingSafeEqual` on the two
// digests, and each key is a KeyObject made once. A cookie read costs one HMAC instead of three.
import crypto from 'node:crypto';

/** What `cookies` asks of its `keys` (Keygrip's interface). */
export interface CookieKeys {
  sign(data: string): string;
  verify(data: string, digest: string): boolean;
  index(data: string, digest: string): number;
}

export class CookieSigner implements CookieKeys {
  private readonly keys: crypto.KeyObject[];

  constructor(keys: readonly (string | Buffer)[]) {
    if (keys.length === 0) throw new Error('cookie signing needs at least one key');
    this.keys = keys.map((k) => crypto.createSecretKey(typeof k === 'string' ? Buffer.from(k, 'utf8') : k));
  }

  private mac(data: string, key: crypto.KeyObject): Buffer {
    return crypto.createHmac('sha1', key).update(data).digest();
  }

  sign(data: string): string {
    return this.mac(data, this.keys[0]!).toString('base64url');
  }

  verify(data: string, digest: string): boolean {
    return this.index(data, digest) > -1;
  }

  index(data: string, digest: string): number {
    if (typeof digest !== 'string') return -1;
    const given = Buffer.from(digest, 'base64url');
    // base64url decoding skips what is not of its alphabet: the text must be exactly the digest's encoding
    if (given.length !== 20 || given.toString('base64url') !== digest) return -1;
    for (let i = 0; i < this.keys.length; i++) {
      if (crypto.timingSafeEqual(given, this.mac(data, this.keys[i]!))) return i;
    }
    return -1;
  }
}

/** The keys the engine signs its cookies with (set by engine-config.ts), to check one of its cookies without a Koa context. */
export function engineCookieKeys(provider: object): CookieKeys {
  const keys = (provider as { keys?: unknown }).keys;
  if (!(keys instanceof CookieSigner)) throw new Error('the engine signs its cookies with a CookieSigner');
  return keys;
}
