// The engine's cookie signatures: the same bytes as Keygrip's (cookies signed before stay valid), one
// HMAC per check, and nothing but the exact digest accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { CookieSigner } from '../src/protocol/cookie-signer.js';
import { startTestServer } from './helpers/server.js';

const require = createRequire(import.meta.url);
const Keygrip = require('keygrip') as (keys: string[]) => { sign(d: string): string; index(d: string, s: string): number };

test('signs as Keygrip signs, and checks what Keygrip signed, with every key of the list', () => {
  const keygrip = Keygrip(['first-key', 'second-key']);
  const signer = new CookieSigner(['first-key', 'second-key']);
  for (const data of ['__Secure-lk_interaction=abc', '_session=' + 'x'.repeat(300), 'ü=✓']) {
    assert.equal(signer.sign(data), keygrip.sign(data));
    assert.equal(signer.index(data, keygrip.sign(data)), 0);
    assert.equal(keygrip.index(data, signer.sign(data)), 0);
    assert.equal(signer.index(data, Keygrip(['second-key']).sign(data)), 1, 'an older key still verifies');
  }
});

test('refuses anything but the exact digest: another value, another key, padding, stray characters, other lengths, no string', () => {
  const signer = new CookieSigner(['k']);
  const good = signer.sign('name=value');
  assert.equal(signer.verify('name=value', good), true);
  assert.equal(signer.verify('name=value2', good), false);
  assert.equal(signer.verify('name=value', new CookieSigner(['other']).sign('name=value')), false);
  assert.equal(signer.verify('name=value', `${good}=`), false);
  assert.equal(signer.verify('name=value', `${good.slice(0, 10)}*${good.slice(10)}`), false);
  assert.equal(signer.verify('name=value', `${good.slice(0, 10)}.${good.slice(10)}`), false);
  assert.equal(signer.verify('name=value', good.slice(1)), false);
  assert.equal(signer.verify('name=value', `${good}AA`), false);
  assert.equal(signer.verify('name=value', ''), false);
  assert.equal(signer.verify('name=value', undefined as unknown as string), false);
  assert.throws(() => new CookieSigner([]), /at least one key/);
});

test("the engine signs and checks its cookies with it", async () => {
  const server = await startTestServer('sqlite');
  try {
    assert.ok((server.provider as unknown as { keys: unknown }).keys instanceof CookieSigner);
  } finally {
    await server.close();
  }
});
