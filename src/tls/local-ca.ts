// HTTPS out of the box (spec D19): TLS material from configuration, or else a local CA created on first
// start (with the `openssl` command; nothing is downloaded) that signs a certificate for localhost,
// 127.0.0.1 and ::1.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** the CA certificate file clients should trust, when Latchkey made or was given one */
  caFile?: string;
  created: boolean;
}

function openssl(args: string[]) {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates (once) a local CA in `dir`: ca.crt / ca.key, EC P-256, ten years. */
export function ensureCa(dir: string): { caCert: string; caKey: string; created: boolean } {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caCert = path.join(dir, 'ca.crt');
  const caKey = path.join(dir, 'ca.key');
  if (fs.existsSync(caCert) && fs.existsSync(caKey)) return { caCert, caKey, created: false };
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey]);
  fs.chmodSync(caKey, 0o600);
  openssl(['req', '-x509', '-new', '-key', caKey, '-sha256', '-days', '3650', '-subj', '/CN=Latchkey local CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', caCert]);
  return { caCert, caKey, created: true };
}

/** Issues a server certificate for localhost, 127.0.0.1 and ::1 signed by the given CA. */
export function issueServerCert(dir: string, caCert: string, caKey: string, names: string[] = ['localhost']): { cert: string; key: string } {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const key = path.join(dir, 'server.key');
  const csr = path.join(dir, 'server.csr');
  const cert = path.join(dir, 'server.crt');
  const ext = path.join(dir, 'server.ext');
  const san = [...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1', 'IP:::1'].join(',');
  fs.writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  fs.chmodSync(key, 0o600);
  openssl(['req', '-new', '-key', key, '-subj', `/CN=${names[0] ?? 'localhost'}`, '-out', csr]);
  openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '825', '-sha256', '-extfile', ext, '-out', cert]);
  fs.rmSync(csr, { force: true });
  return { cert, key };
}

export function loadTls(opts: { mode: 'auto' | 'files' | 'off'; dataDir: string; certFile: string; keyFile: string; caPair: string }): TlsMaterial | undefined {
  if (opts.mode === 'off') return undefined;
  if (opts.mode === 'files') {
    return { key: fs.readFileSync(opts.keyFile, 'utf8'), cert: fs.readFileSync(opts.certFile, 'utf8'), created: false };
  }
  const dir = path.join(opts.dataDir, 'tls');
  let caCert: string;
  let caKey: string;
  let created = false;
  if (opts.caPair) {
    const [c, k] = opts.caPair.split(',');
    if (!c || !k) throw new Error('LATCHKEY_TLS_CA_CERT must be "cert.pem,key.pem"');
    caCert = c;
    caKey = k;
  } else {
    ({ caCert, caKey, created } = ensureCa(dir));
  }
  const certFile = path.join(dir, 'server.crt');
  const keyFile = path.join(dir, 'server.key');
  const caMarker = path.join(dir, 'server.ca');
  if (created || !fs.existsSync(certFile) || !fs.existsSync(keyFile) || (fs.existsSync(caMarker) ? fs.readFileSync(caMarker, 'utf8') : '') !== caCert) {
    issueServerCert(dir, caCert, caKey);
    fs.writeFileSync(caMarker, caCert);
  }
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), caFile: path.resolve(caCert), created };
}
