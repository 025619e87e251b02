// The subset of CBOR (RFC 8949) that WebAuthn's attestation objects and COSE keys use: unsigned and
// negative integers, byte and text strings, arrays, maps and the simple values false/true/null, all of
// definite length. Anything else (indefinite lengths, tags, floats, nesting deeper than 16) is refused:
// an authenticator never sends it, and a decoder that refuses is one less parser to trust.

export type CborValue = number | Uint8Array | string | CborValue[] | Map<CborValue, CborValue> | boolean | null;

export class CborError extends Error {
  override name = 'CborError';
}

const MAX_DEPTH = 16;

/** Decodes one item at `offset`; returns it and the offset just after it. */
export function decodeCbor(buf: Uint8Array, offset = 0, depth = 0): { value: CborValue; end: number } {
  if (depth > MAX_DEPTH) throw new CborError('nested too deeply');
  if (offset >= buf.length) throw new CborError('truncated');
  const initial = buf[offset]!;
  const major = initial >> 5;
  const info = initial & 0x1f;
  let pos = offset + 1;
  const need = (n: number) => {
    if (pos + n > buf.length) throw new CborError('truncated');
  };
  let arg: number;
  if (info < 24) arg = info;
  else if (info === 24) {
    need(1);
    arg = buf[pos]!;
    pos += 1;
  } else if (info === 25) {
    need(2);
    arg = (buf[pos]! << 8) | buf[pos + 1]!;
    pos += 2;
  } else if (info === 26) {
    need(4);
    arg = ((buf[pos]! << 24) >>> 0) + (buf[pos + 1]! << 16) + (buf[pos + 2]! << 8) + buf[pos + 3]!;
    pos += 4;
  } else if (info === 27) {
    need(8);
    const hi = ((buf[pos]! << 24) >>> 0) + (buf[pos + 1]! << 16) + (buf[pos + 2]! << 8) + buf[pos + 3]!;
    const lo = ((buf[pos + 4]! << 24) >>> 0) + (buf[pos + 5]! << 16) + (buf[pos + 6]! << 8) + buf[pos + 7]!;
    if (hi >= 0x200000) throw new CborError('integer too large');
    arg = hi * 0x1_0000_0000 + lo;
    pos += 8;
  } else throw new CborError('indefinite length or reserved value');

  switch (major) {
    case 0:
      return { value: arg, end: pos };
    case 1:
      return { value: -1 - arg, end: pos };
    case 2:
    case 3: {
      need(arg);
      const bytes = buf.subarray(pos, pos + arg);
      return { value: major === 2 ? new Uint8Array(bytes) : new TextDecoder('utf-8', { fatal: true }).decode(bytes), end: pos + arg };
    }
    case 4: {
      const items: CborValue[] = [];
      for (let i = 0; i < arg; i++) {
        const r = decodeCbor(buf, pos, depth + 1);
        items.push(r.value);
        pos = r.end;
      }
      return { value: items, end: pos };
    }
    case 5: {
      const map = new Map<CborValue, CborValue>();
      for (let i = 0; i < arg; i++) {
        const k = decodeCbor(buf, pos, depth + 1);
        if (typeof k.value !== 'number' && typeof k.value !== 'string') throw new CborError('map key is not an integer or a text');
        if (map.has(k.value)) throw new CborError('duplicate map key');
        const v = decodeCbor(buf, k.end, depth + 1);
        map.set(k.value, v.value);
        pos = v.end;
      }
      return { value: map, end: pos };
    }
    case 7:
      if (info === 20) return { value: false, end: pos };
      if (info === 21) return { value: true, end: pos };
      if (info === 22) return { value: null, end: pos };
      throw new CborError('unsupported simple value or float');
    default:
      throw new CborError('tags are not supported');
  }
}

/** Decodes a buffer holding exactly one item. */
export function decodeCborExact(buf: Uint8Array): CborValue {
  const { value, end } = decodeCbor(buf);
  if (end !== buf.length) throw new CborError('trailing bytes');
  return value;
}
