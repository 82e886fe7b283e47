import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { FormatError } from '../../core/errors.js';
import { pemDecodeAll, pemEncode } from '../../core/encoding.js';
import { sha256 } from '../../core/hash.js';
import { describeKey, publicKeyDer, type PublicKeyInfo } from '../../core/keys.js';

/** A signer's key as submitted in an entry: a certificate or a bare public key. */
export interface SubmittedKey {
  info: PublicKeyInfo;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
  /** The certificate DER, when a certificate was given. */
  certificate?: Buffer;
  /** PEM as Rekor v1 stores it (Go pem.Encode layout). */
  pem: string;
  /** Email SANs, lower-cased, for the search index. */
  emails: string[];
}

function fromCertificateDer(der: Buffer, field: string): SubmittedKey {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (e) {
    throw new FormatError(field, `is not a valid X.509 certificate (${(e as Error).message})`);
  }
  const info = describeKey(cert.publicKey, field);
  const emails = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('email:'))
    .map((s) => s.slice(6).toLowerCase());
  return { info, spki: publicKeyDer(cert.publicKey), certificate: der, pem: pemEncode('CERTIFICATE', der), emails };
}

function fromSpkiDer(der: Buffer, field: string): SubmittedKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch (e) {
    throw new FormatError(field, `is not a valid public key (${(e as Error).message})`);
  }
  const info = describeKey(key, field);
  return { info, spki: publicKeyDer(key), pem: pemEncode('PUBLIC KEY', publicKeyDer(key)), emails: [] };
}

/** Rekor v1: the PEM text of a certificate or a public key (the first PEM block). */
export function keyFromPem(pemBytes: Uint8Array, field: string): SubmittedKey {
  const text = Buffer.from(pemBytes).toString('utf8');
  const blocks = pemDecodeAll(text, field);
  const block = blocks[0];
  if (!block) throw new FormatError(field, 'is not a PEM certificate or public key');
  if (block.label === 'CERTIFICATE') return fromCertificateDer(block.der, field);
  if (block.label === 'PUBLIC KEY') return fromSpkiDer(block.der, field);
  throw new FormatError(field, `PEM block ${block.label.slice(0, 40)} is neither CERTIFICATE nor PUBLIC KEY`);
}

/** Rekor v2: DER certificate or DER SPKI. */
export function keyFromDer(der: Uint8Array, kind: 'x509Certificate' | 'publicKey', field: string): SubmittedKey {
  return kind === 'x509Certificate' ? fromCertificateDer(Buffer.from(der), field) : fromSpkiDer(Buffer.from(der), field);
}

/** The search-index key of a public key: SHA-256 of its DER SPKI. */
export function publicKeyIndexKey(spki: Uint8Array): string {
  return `key:${sha256(spki).toString('hex')}`;
}

export function emailIndexKey(email: string): string {
  return `email:${email.toLowerCase()}`;
}

export function hashIndexKey(algorithm: string, hex: string): string {
  return `hash:${algorithm}:${hex.toLowerCase()}`;
}
