import t from 'tap';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:https';
import { connect, type PeerCertificate } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createSelfSignedCertificate } from '../../../src/crypto/selfSigned.ts';
import { ESEAL_ERR_CRYPTO_CERT } from '../../../src/crypto/errors.ts';

const now = new Date();
const made = createSelfSignedCertificate({
  commonName: 'eseal-relay.test',
  altNames: ['localhost', '127.0.0.1', '::1', 'relay.mine.example.cn', '[fd00::a:1]', '10.1.2.3', '::ffff:192.168.7.9', 'LOCALHOST'],
  days: 30,
  now,
});
const cert = new X509Certificate(made.certPem);

t.test('a v3 certificate that parses and verifies with its own key', async (t) => {
  t.match(made.certPem, /^-----BEGIN CERTIFICATE-----\n/);
  t.match(made.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  t.equal(cert.subject, 'O=eseal-relay\nCN=eseal-relay.test');
  t.equal(cert.issuer, cert.subject);
  t.ok(cert.verify(cert.publicKey), 'self-signature verifies');
  t.ok(cert.checkPrivateKey(createPrivateKey(made.keyPem)), 'key matches');
  t.equal(cert.publicKey.asymmetricKeyType, 'rsa');
  t.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  t.equal(cert.ca, false);
  t.same(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extendedKeyUsage serverAuth');
  t.equal(made.fingerprint256, cert.fingerprint256);
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  t.ok(from <= now.getTime() && from > now.getTime() - 10 * 60_000, 'valid from a few minutes ago');
  t.equal(Math.round((to - now.getTime()) / 86_400_000), 30, 'valid for 30 days');
  t.not(createSelfSignedCertificate({ commonName: 'x', altNames: ['x'], days: 1 }).fingerprint256, made.fingerprint256);
});

t.test('subjectAltName carries every DNS name and IP address', async (t) => {
  const san = cert.subjectAltName ?? '';
  for (const entry of ['DNS:localhost', 'DNS:relay.mine.example.cn', 'IP Address:127.0.0.1', 'IP Address:10.1.2.3']) {
    t.ok(san.includes(entry), entry);
  }
  t.equal(san.split('DNS:localhost').length, 2, 'duplicates (LOCALHOST) dropped');
  t.equal(cert.checkHost('localhost'), 'localhost');
  t.equal(cert.checkHost('relay.mine.example.cn'), 'relay.mine.example.cn');
  t.equal(cert.checkHost('other.example.cn'), undefined);
  t.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  t.equal(cert.checkIP('::1'), '::1');
  t.equal(cert.checkIP('fd00::a:1'), 'fd00::a:1');
  t.equal(cert.checkIP('::ffff:192.168.7.9'), '::ffff:192.168.7.9');
  t.equal(cert.checkIP('10.1.2.4'), undefined);
});

t.test('openssl sees the extensions', async (t) => {
  const r = spawnSync('openssl', ['x509', '-noout', '-text'], { input: made.certPem });
  if (r.status !== 0) {
    t.comment(`openssl x509 unavailable: ${r.error?.message ?? r.stderr?.toString()}`);
    return;
  }
  const text = r.stdout.toString();
  t.match(text, /Version: 3 \(0x2\)/);
  t.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  t.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
  t.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
  t.match(text, /X509v3 Extended Key Usage:\s+TLS Web Server Authentication/);
  t.match(text, /IP Address:0:0:0:0:0:0:0:1/);
  t.match(text, /X509v3 Subject Key Identifier/);
});

async function withServer(fn: (port: number) => Promise<void>): Promise<void> {
  const server = createServer({ key: made.keyPem, cert: made.certPem }, (_req, res) => res.end('sealed'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function handshake(port: number, options: { ca?: string; pin?: string }): Promise<{ authorized: boolean; peer: PeerCertificate; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: options.ca,
      rejectUnauthorized: options.ca !== undefined,
    });
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      if (options.pin !== undefined && peer.fingerprint256 !== options.pin) {
        socket.destroy();
        reject(new Error(`pinned ${options.pin}, server sent ${peer.fingerprint256}`));
        return;
      }
      let body = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (body += chunk));
      socket.on('end', () => resolve({ authorized: socket.authorized, peer, body }));
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    });
    socket.once('error', reject);
  });
}

t.test('TLS handshake on 127.0.0.1 with a client that pins the fingerprint', async (t) => {
  await withServer(async (port) => {
    const pinned = await handshake(port, { pin: made.fingerprint256 });
    t.equal(pinned.peer.fingerprint256, made.fingerprint256);
    t.match(pinned.body, /sealed$/);

    const other = createSelfSignedCertificate({ commonName: 'impostor', altNames: ['127.0.0.1'], days: 1 });
    await t.rejects(handshake(port, { pin: other.fingerprint256 }), /pinned/, 'another pin is refused');

    // Trusting the certificate itself also checks the IP address SAN against 127.0.0.1.
    const trusted = await handshake(port, { ca: made.certPem });
    t.equal(trusted.authorized, true);
    await t.rejects(handshake(port, { ca: other.certPem }), 'a client trusting another certificate refuses');
  });
});

t.test('names and validity that cannot go into a certificate', async (t) => {
  const certError = { code: ESEAL_ERR_CRYPTO_CERT.code };
  const base = { commonName: 'relay', altNames: ['localhost'], days: 10 };
  t.throws(() => createSelfSignedCertificate({ ...base, altNames: ['bad name'] }), certError);
  t.throws(() => createSelfSignedCertificate({ ...base, altNames: ['煤矿.cn'] }), certError, 'IDN must be punycode');
  t.throws(() => createSelfSignedCertificate({ ...base, altNames: ['fe80::1%eth0'] }), certError, 'zone index');
  t.throws(() => createSelfSignedCertificate({ ...base, commonName: '' }), certError);
  t.throws(() => createSelfSignedCertificate({ ...base, commonName: 'x'.repeat(65) }), certError);
  t.throws(() => createSelfSignedCertificate({ ...base, days: 0 }), certError);
  t.throws(() => createSelfSignedCertificate({ ...base, days: Number.NaN }), certError);
  const fromCn = new X509Certificate(createSelfSignedCertificate({ ...base, commonName: 'relay.local', altNames: [] }).certPem);
  t.equal(fromCn.subjectAltName, 'DNS:relay.local', 'no altNames: the common name is used');
  const farFuture = new X509Certificate(createSelfSignedCertificate({ ...base, days: 365 * 40 }).certPem);
  t.ok(new Date(farFuture.validTo).getUTCFullYear() >= 2060, 'GeneralizedTime after 2049');
});
