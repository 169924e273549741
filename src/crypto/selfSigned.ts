// A self-signed X.509 v3 server certificate (RFC 5280) for ESEAL_RELAY_TLS=auto: an RSA-2048 key,
// sha256WithRSAEncryption, basicConstraints cA=false, keyUsage, extendedKeyUsage serverAuth and
// subjectAltName with the DNS names and IP addresses mine devices connect to. Devices cannot
// check it against a CA, so operators pin its SHA-256 fingerprint.

import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import {
  decodeDer,
  derBitString,
  derBoolean,
  derExplicit,
  derImplicit,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derSetOf,
  derTime,
  derToPem,
  derUnsignedInteger,
  derUtf8String,
  readBitString,
  readSequence,
} from './asn1.ts';
import { ESEAL_ERR_CRYPTO_CERT } from './errors.ts';

export interface SelfSignedOptions {
  commonName: string;
  /** DNS names (a leading "*." allowed) and IPv4/IPv6 literals (IPv6 may be in brackets) */
  altNames: string[];
  /** validity in days from now */
  days: number;
  /** the moment the validity counts from (default: now); for tests */
  now?: Date;
}

export interface SelfSignedCertificate {
  certPem: string;
  /** PKCS#8 PEM of the RSA-2048 key */
  keyPem: string;
  /** SHA-256 of the certificate DER as X509Certificate#fingerprint256 writes it (AA:BB:…) */
  fingerprint256: string;
}

const OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

const MAX_DAYS = 36500;
/** notBefore lies a little in the past so a device whose clock runs behind still accepts it */
const BACKDATE_MS = 5 * 60 * 1000;
const DNS_NAME = /^(\*\.)?([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;

function certError(message: string): never {
  throw ESEAL_ERR_CRYPTO_CERT(message);
}

function ipv6Bytes(text: string): Buffer {
  const out = Buffer.alloc(16);
  let address = text;
  const lastColon = address.lastIndexOf(':');
  const tail = address.slice(lastColon + 1);
  if (tail.includes('.')) {
    Buffer.from(tail.split('.').map(Number)).copy(out, 12);
    address = `${address.slice(0, lastColon + 1)}0:0`;
  }
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const [left, right] = address.split('::') as [string, string | undefined];
  const head = groupsOf(left);
  const rest = right === undefined ? [] : groupsOf(right);
  const groups = right === undefined ? head : [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  groups.forEach((g, i) => {
    if (i < 6 || !tail.includes('.')) out.writeUInt16BE(g, 2 * i);
  });
  return out;
}

/** GeneralName encodings of the alt names: dNSName [2] or iPAddress [7]. */
function generalNames(altNames: string[]): Buffer[] {
  const seen = new Set<string>();
  const out: Buffer[] = [];
  for (const raw of altNames) {
    const name = raw.trim().replace(/^\[(.*)\]$/, '$1');
    let encoded: Buffer;
    if (isIPv4(name)) {
      encoded = derImplicit(7, Buffer.from(name.split('.').map(Number)));
    } else if (isIPv6(name)) {
      if (name.includes('%')) certError(`altNames: "${raw}" has a zone index, which a certificate cannot hold`);
      encoded = derImplicit(7, ipv6Bytes(name));
    } else {
      const host = name.replace(/\.$/, '').toLowerCase();
      if (host.length === 0 || host.length > 253 || !DNS_NAME.test(host)) {
        certError(`altNames: "${raw}" is neither an IP address nor an ASCII DNS name`);
      }
      encoded = derImplicit(2, Buffer.from(host, 'ascii'));
    }
    const id = encoded.toString('hex');
    if (!seen.has(id)) {
      seen.add(id);
      out.push(encoded);
    }
  }
  return out;
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? derSequence(derOid(oid), derBoolean(true), derOctetString(value))
    : derSequence(derOid(oid), derOctetString(value));
}

function name(commonName: string): Buffer {
  const rdn = (oid: string, value: string) => derSetOf(derSequence(derOid(oid), derUtf8String(value)));
  return derSequence(rdn(OID.organizationName, 'eseal-relay'), rdn(OID.commonName, commonName));
}

export function fingerprint256Of(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

interface CheckedOptions {
  commonName: string;
  sans: Buffer[];
  notBefore: Date;
  notAfter: Date;
}

function checkOptions(options: SelfSignedOptions): CheckedOptions {
  const { commonName, days } = options;
  if (typeof commonName !== 'string' || commonName.trim().length === 0 || [...commonName.trim()].length > 64) {
    certError('commonName must be 1 to 64 characters');
  }
  if (!Number.isFinite(days) || days <= 0 || days > MAX_DAYS) certError(`days must be more than 0 and at most ${MAX_DAYS}`);
  const altNames = options.altNames.length > 0 ? options.altNames : [commonName];
  const now = options.now ?? new Date();
  return {
    commonName: commonName.trim(),
    sans: generalNames(altNames),
    notBefore: new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000),
    notAfter: new Date(Math.floor(now.getTime() / 1000) * 1000 + Math.round(days * 86_400) * 1000),
  };
}

function tbsCertificate(checked: CheckedOptions, publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const [, subjectPublicKey] = readSequence(decodeDer(spki), 2, 2);
  const keyId = createHash('sha1').update(readBitString(subjectPublicKey!).bytes).digest();

  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, never zero, at most 16 bytes when encoded

  const subject = name(checked.commonName);
  const extensions = [
    extension(OID.basicConstraints, true, derSequence()),
    // digitalSignature (bit 0) and keyEncipherment (bit 2): 101 followed by 5 unused bits
    extension(OID.keyUsage, true, derBitString(Buffer.from([0xa0]), 5)),
    extension(OID.extKeyUsage, false, derSequence(derOid(OID.serverAuth))),
    extension(OID.subjectAltName, false, derSequence(...checked.sans)),
    extension(OID.subjectKeyIdentifier, false, derOctetString(keyId)),
    extension(OID.authorityKeyIdentifier, false, derSequence(derImplicit(0, keyId))),
  ];
  return derSequence(
    derExplicit(0, derInteger(2)), // v3
    derUnsignedInteger(serial),
    signatureAlgorithm(),
    subject, // issuer: self-signed
    derSequence(derTime(checked.notBefore), derTime(checked.notAfter)),
    subject,
    spki,
    derExplicit(3, derSequence(...extensions)),
  );
}

function signatureAlgorithm(): Buffer {
  return derSequence(derOid(OID.sha256WithRSAEncryption), derNull());
}

export function createSelfSignedCertificate(options: SelfSignedOptions): SelfSignedCertificate {
  const checked = checkOptions(options);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const tbs = tbsCertificate(checked, publicKey);
  const certificate = derSequence(tbs, signatureAlgorithm(), derBitString(sign('sha256', tbs, privateKey)));
  return {
    certPem: derToPem(certificate, 'CERTIFICATE'),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    fingerprint256: fingerprint256Of(certificate),
  };
}
