// The relay's TLS material. `auto` (the default) makes a self-signed certificate in the data dir on
// first start and prints its fingerprint, so an operator can pin it on mine devices; `files` reads
// an operator's certificate; `off` serves plain HTTP (tests, or behind a VPN concentrator that
// terminates TLS).
import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { RelayConfig } from './config.ts';
import type { RelayMetrics } from './metrics.ts';
import { parseListen } from '../src/config/load.ts';
import { createSelfSignedCertificate } from '../src/crypto/selfSigned.ts';
import { writeFileDurable } from '../src/store/fsync.ts';
import { defineError } from '../src/errors.ts';

export const TlsFiles = defineError('ESEAL_ERR_TLS_FILES', 500, 'the TLS certificate or key cannot be read');

export interface TlsMaterial {
  key: string;
  cert: string;
  fingerprint256: string;
  /** true when this start created the certificate */
  created: boolean;
  certPath: string;
}

/** With `metrics`, the certificate's expiry is exported as eseal_tls_cert_expiry_seconds. */
export async function resolveTls(config: RelayConfig, metrics?: RelayMetrics): Promise<TlsMaterial | undefined> {
  const material = await loadTls(config);
  if (material && metrics) metrics.setTlsCertificate(config.relay.tls.mode, Date.parse(new X509Certificate(material.cert).validTo));
  return material;
}

async function loadTls(config: RelayConfig): Promise<TlsMaterial | undefined> {
  const tls = config.relay.tls;
  if (tls.mode === 'off') return undefined;
  if (tls.mode === 'files') {
    try {
      const [cert, key] = await Promise.all([readFile(tls.cert, 'utf8'), readFile(tls.key, 'utf8')]);
      return { cert, key, fingerprint256: new X509Certificate(cert).fingerprint256, created: false, certPath: tls.cert };
    } catch (err) {
      throw TlsFiles(`relay.tls: cannot read ${tls.cert} / ${tls.key}: ${(err as Error).message}`, { cause: err });
    }
  }
  const dir = join(config.dataDir, 'tls');
  const certPath = join(dir, 'relay.crt');
  const keyPath = join(dir, 'relay.key');
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { cert, key, fingerprint256: new X509Certificate(cert).fingerprint256, created: false, certPath };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { host } = parseListen(config.relay.listen);
  // A host name that is not a plain ASCII DNS name cannot go into the certificate; skip it.
  const names = new Set(['localhost', '127.0.0.1', '::1']);
  if (/^[A-Za-z0-9.-]{1,253}$/.test(hostname())) names.add(hostname());
  if (host !== '0.0.0.0' && host !== '::') names.add(host);
  const made = createSelfSignedCertificate({ commonName: 'eseal-relay', altNames: [...names], days: 3650 });
  await writeFileDurable(keyPath, made.keyPem, { mode: 0o600 });
  await writeFileDurable(certPath, made.certPem, { mode: 0o644 });
  return { cert: made.certPem, key: made.keyPem, fingerprint256: made.fingerprint256, created: true, certPath };
}
