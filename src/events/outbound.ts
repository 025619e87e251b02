// The one outbound HTTP client (STYLE 15): back-channel logout now, shared signals and webhooks later. It
// resolves the target first and refuses loopback, private, link-local, unique-local and every other
// special-use address (IPv4 and IPv6, IPv4-mapped included), refuses plain http, follows no redirect,
// verifies TLS, and gives up after a timeout; `allowPrivate` (LATCHKEY_ALLOW_PRIVATE_OUTBOUND) lifts the
// address and scheme rules for tests and the demo only.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

/** A target this client will never call (a configuration problem, not a transient failure). */
export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
}

// IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates), plus multicast and the reserved
// block: none of these is a public web server.
const SPECIAL_IPV4: [string, number, string][] = [
  ['0.0.0.0', 8, '"this network"'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'shared address space (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.31.196.0', 24, 'AS112'],
  ['192.52.193.0', 24, 'AMT'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['192.175.48.0', 24, 'AS112'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

// IPv6: only global unicast (2000::/3) may be called, minus its special-use blocks (IANA IPv6
// Special-Purpose Address Registry). Everything else (::, ::1, IPv4-mapped and -compatible, NAT64,
// discard, unique-local fc00::/7, link-local fe80::/10, site-local, multicast) is refused; an IPv4-mapped
// address is named by the IPv4 rule it falls under.
const SPECIAL_IPV6: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::ffff:0:0', 96, 'IPv4-mapped'],
  ['64:ff9b::', 96, 'NAT64'],
  ['64:ff9b:1::', 48, 'NAT64 (local use)'],
  ['100::', 64, 'discard'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
  ['2001::', 23, 'IETF protocol assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['3fff::', 20, 'documentation'],
];

function blockList(entries: [string, number, string][], type: 'ipv4' | 'ipv6'): [net.BlockList, string][] {
  return entries.map(([prefix, bits, label]) => {
    const b = new net.BlockList();
    b.addSubnet(prefix, bits, type);
    return [b, label];
  });
}

const V4 = blockList(SPECIAL_IPV4, 'ipv4');
const V6 = blockList(SPECIAL_IPV6, 'ipv6');
const GLOBAL_UNICAST_V6 = new net.BlockList();
GLOBAL_UNICAST_V6.addSubnet('2000::', 3, 'ipv6');

/**
 * Why an IP address may not be called (e.g. "loopback"), or undefined when it is an ordinary public
 * address. A string that is not an IP address is refused too.
 */
export function specialUseReason(address: string): string | undefined {
  const ip = address.replace(/^\[|\]$/g, '');
  const family = net.isIP(ip);
  if (family === 4) return V4.find(([b]) => b.check(ip, 'ipv4'))?.[1];
  if (family !== 6) return 'not an IP address';
  // net.BlockList matches an IPv4-mapped IPv6 address (::ffff:127.0.0.1, ::ffff:7f00:1) against IPv4 rules
  const v4 = V4.find(([b]) => b.check(ip, 'ipv6'))?.[1];
  if (v4) return `${v4} (IPv4-mapped)`;
  const v6 = V6.find(([b]) => b.check(ip, 'ipv6'))?.[1];
  if (v6) return v6;
  return GLOBAL_UNICAST_V6.check(ip, 'ipv6') ? undefined : 'not global unicast';
}

export interface OutboundOptions {
  /** LATCHKEY_ALLOW_PRIVATE_OUTBOUND: allow loopback and private targets, and plain http (tests, demo) */
  allowPrivate: boolean;
  /**
   * an extra CA certificate (PEM) to trust besides Node's bundled roots, e.g. Latchkey's own local CA.
   * (Node 20 cannot add to the default store per request: with it, NODE_EXTRA_CA_CERTS is not consulted.)
   */
  extraCa?: string | Buffer;
  /**
   * origins allowed even when they resolve to a private or loopback address: Latchkey's own origin, where
   * its demo relying party lives (the operator configured it; nothing a tenant can register)
   */
  ownOrigins?: readonly string[];
  /** whole-request time limit, ms (default 5000) */
  timeoutMs?: number;
  /** response bytes kept (the rest is read and dropped; default 16 KiB) */
  maxResponseBytes?: number;
}

export interface OutboundResponse {
  status: number;
  body: string;
}

/** Resolves the host and checks every address; returns the address to connect to. */
async function resolveTarget(host: string, allowPrivate: boolean): Promise<{ address: string; family: number }> {
  const literal = host.replace(/^\[|\]$/g, '');
  if (net.isIP(literal)) {
    const why = allowPrivate ? undefined : specialUseReason(literal);
    if (why) throw new OutboundRefused(`refused: ${literal} is a ${why} address (LATCHKEY_ALLOW_PRIVATE_OUTBOUND is for tests and demos only)`);
    return { address: literal, family: net.isIP(literal) };
  }
  const addresses = await dns.promises.lookup(literal, { all: true, verbatim: true });
  if (!addresses.length) throw new Error(`${host} did not resolve`);
  if (!allowPrivate) {
    // Every address must be public: the connection below is pinned to one of these, so a second
    // resolution (DNS rebinding) cannot swap in a private one.
    for (const a of addresses) {
      const why = specialUseReason(a.address);
      if (why) throw new OutboundRefused(`refused: ${host} resolves to ${a.address}, a ${why} address (LATCHKEY_ALLOW_PRIVATE_OUTBOUND is for tests and demos only)`);
    }
  }
  return addresses[0]!;
}

/**
 * POSTs `body` to `url` and returns the status and (the start of) the response body, whatever the
 * status. Redirects are not followed (a 3xx is returned as is). Throws OutboundRefused for a target it
 * will not call, and an Error for a network failure or timeout.
 */
export async function outboundPost(url: string, body: string, headers: Record<string, string>, opts: OutboundOptions): Promise<OutboundResponse> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OutboundRefused(`refused: "${url}" is not an absolute URL`);
  }
  const allowPrivate = opts.allowPrivate || (opts.ownOrigins?.includes(u.origin) ?? false);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && opts.allowPrivate)) throw new OutboundRefused(`refused: ${u.protocol}// target (only https is allowed)`);
  if (u.username || u.password) throw new OutboundRefused('refused: credentials in the URL');
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxBytes = opts.maxResponseBytes ?? 16 * 1024;
  const deadline = AbortSignal.timeout(timeoutMs);
  const target = await resolveTarget(u.hostname, allowPrivate);
  if (deadline.aborted) throw new Error(`request to ${u.host} timed out after ${timeoutMs} ms`);

  return new Promise<OutboundResponse>((resolve, reject) => {
    const payload = Buffer.from(body, 'utf8');
    const lookup: net.LookupFunction = (_hostname, options, callback) => {
      // pinned to the checked address (Node 20 asks for `all` when it races address families)
      if ((options as dns.LookupOptions).all) (callback as unknown as (err: null, addrs: dns.LookupAddress[]) => void)(null, [target]);
      else callback(null, target.address, target.family);
    };
    const options: https.RequestOptions = {
      method: 'POST',
      headers: { 'user-agent': 'Latchkey', ...headers, 'content-length': String(payload.length) },
      lookup,
      signal: deadline,
      agent: false,
      ...(u.protocol === 'https:' ? { rejectUnauthorized: true, ...(opts.extraCa ? { ca: [...tls.rootCertificates, opts.extraCa.toString()] } : {}) } : {}),
    };
    const req = (u.protocol === 'https:' ? https : http).request(u, options, (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (c: Buffer) => {
        if (kept < maxBytes) {
          chunks.push(c.subarray(0, maxBytes - kept));
          kept += Math.min(c.length, maxBytes - kept);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', (err: Error & { name?: string }) => reject(err.name === 'AbortError' ? new Error(`request to ${u.host} timed out after ${timeoutMs} ms`) : err));
    req.end(payload);
  });
}
