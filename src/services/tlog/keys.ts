import type { KeyObject } from 'node:crypto';
import { FormatError, KeylessError } from '../../core/errors.js';
import { pemDecodeAll, pemEncode } from '../../core/encoding.js';
import { sha256, type HashAlgorithm } from '../../core/hash.js';
import { MAX_RSA_BITS, MIN_RSA_BITS, describeKey, type KeyAlgorithm, type PublicKeyInfo } from '../../core/keys.js';
import { TAG, importSpki, parseCertificate, parseDer, readNode, type DerNode } from '../../x509/index.js';

/**
 * A signer's key as submitted in an entry: a certificate or a bare public key. The key
 * is classified from its DER (OpenSSL 3's decoders cost ~0.3 ms per key, more than the
 * signature check); a KeyObject is made only when a message signature needs one.
 */
export interface SubmittedKey {
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
  algorithm: KeyAlgorithm;
  /** The hash Rekor pairs with this key (none for Ed25519). */
  defaultHash: HashAlgorithm | undefined;
  /** The Rekor v2 / sigstore-go default PublicKeyDetails name for this key. */
  keyDetails: string;
  /** The certificate DER, when a certificate was given. */
  certificate?: Buffer;
  /** PEM as Rekor v1 stores it (Go pem.Encode layout). */
  pem: string;
  /** Email SANs, lower-cased, for the search index. */
  emails: string[];
  /** URI SANs (workflow and SPIFFE identities), for the search index. */
  uris: string[];
  /** The key as a PublicKeyInfo (created on first use). */
  info(): PublicKeyInfo;
}

const EC_CURVES: Record<string, { algorithm: KeyAlgorithm; hash: HashAlgorithm; size: number; keyDetails: string }> = {
  '1.2.840.10045.3.1.7': { algorithm: 'ecdsa-p256', hash: 'sha256', size: 32, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
  '1.3.132.0.34': { algorithm: 'ecdsa-p384', hash: 'sha384', size: 48, keyDetails: 'PKIX_ECDSA_P384_SHA_384' },
  '1.3.132.0.35': { algorithm: 'ecdsa-p521', hash: 'sha512', size: 66, keyDetails: 'PKIX_ECDSA_P521_SHA_512' },
};
const OID_EC = '1.2.840.10045.2.1';
const OID_ED25519 = '1.3.101.112';
const OID_RSA = '1.2.840.113549.1.1.1';

function oidOf(node: DerNode | undefined, field: string): string {
  if (!node || node.tag !== TAG.OID) throw new FormatError(field, 'expected an OID');
  const b = node.content;
  if (b.length === 0) throw new FormatError(field, 'empty OID');
  const parts: number[] = [];
  let v = 0;
  for (const byte of b) {
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  const first = parts.shift() ?? 0;
  return [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80, ...parts].join('.');
}

function unsupported(field: string, what: string): KeylessError {
  return new KeylessError('KEY_UNSUPPORTED', `${field}: ${what}`, { check: 'key-type', actual: what });
}

/** Classifies a DER SPKI by Rekor's allow-list: ECDSA P-256/384/521, Ed25519, RSA 2048–4096. */
export function classifySpki(
  spki: Buffer,
  field: string,
): { algorithm: KeyAlgorithm; defaultHash: HashAlgorithm | undefined; keyDetails: string } {
  const root = parseDer(spki, field);
  const kids = root.expect(TAG.SEQUENCE, field).children(field);
  if (kids.length !== 2) throw new FormatError(field, 'SubjectPublicKeyInfo must have two elements');
  const alg = kids[0]!.expect(TAG.SEQUENCE, field).children(field);
  const bits = kids[1]!.expect(TAG.BIT_STRING, field).content;
  if (bits.length < 2 || bits[0] !== 0) throw new FormatError(field, 'malformed public key bit string');
  const key = bits.subarray(1);
  const oid = oidOf(alg[0], field);
  if (oid === OID_EC) {
    const curveOid = oidOf(alg[1], field);
    const curve = EC_CURVES[curveOid];
    if (!curve) throw unsupported(field, `unsupported elliptic curve ${curveOid}`);
    if (!(key.length === 1 + 2 * curve.size && key[0] === 4) && !(key.length === 1 + curve.size && (key[0] === 2 || key[0] === 3))) {
      throw new FormatError(field, 'malformed EC point');
    }
    return { algorithm: curve.algorithm, defaultHash: curve.hash, keyDetails: curve.keyDetails };
  }
  if (oid === OID_ED25519) {
    if (key.length !== 32) throw new FormatError(field, 'malformed Ed25519 key');
    return { algorithm: 'ed25519', defaultHash: undefined, keyDetails: 'PKIX_ED25519_PH' };
  }
  if (oid === OID_RSA) {
    const rsa = readNode(key, 0, key.length, field).expect(TAG.SEQUENCE, field).children(field);
    const n = rsa[0]?.expect(TAG.INTEGER, field).content;
    if (!n || rsa.length !== 2) throw new FormatError(field, 'malformed RSA key');
    let i = 0;
    while (i < n.length - 1 && n[i] === 0) i++;
    const modulusBits = (n.length - i) * 8 - Math.clz32(n[i]!) + 24;
    if (modulusBits < MIN_RSA_BITS || modulusBits > MAX_RSA_BITS)
      throw unsupported(field, `RSA key of ${modulusBits} bits is outside ${MIN_RSA_BITS}-${MAX_RSA_BITS}`);
    if (modulusBits !== 2048 && modulusBits !== 3072 && modulusBits !== 4096)
      throw unsupported(field, `RSA key of ${modulusBits} bits has no Sigstore key details`);
    return { algorithm: 'rsa', defaultHash: 'sha256', keyDetails: `PKIX_RSA_PKCS1V15_${modulusBits}_SHA256` };
  }
  throw unsupported(field, `unsupported key algorithm ${oid}`);
}

/** A class, not an object literal with a getter and a spread (those end up in V8's slow dictionary mode). */
class Submitted implements SubmittedKey {
  readonly algorithm: KeyAlgorithm;
  readonly defaultHash: HashAlgorithm | undefined;
  readonly keyDetails: string;
  private pemText: string | undefined;
  private cached: PublicKeyInfo | undefined;

  constructor(
    readonly spki: Buffer,
    private readonly field: string,
    private readonly encodePem: () => string,
    readonly emails: string[] = [],
    readonly uris: string[] = [],
    readonly certificate?: Buffer,
  ) {
    const cls = classifySpki(spki, field);
    this.algorithm = cls.algorithm;
    this.defaultHash = cls.defaultHash;
    this.keyDetails = cls.keyDetails;
  }

  /** Only Rekor v1 bodies carry PEM: encoded on first use. */
  get pem(): string {
    return (this.pemText ??= this.encodePem());
  }

  info(): PublicKeyInfo {
    if (!this.cached) {
      try {
        this.cached = describeKey(importSpki(this.spki), this.field);
      } catch (e) {
        if (e instanceof KeylessError) throw e;
        throw new FormatError(this.field, 'is not a valid public key');
      }
    }
    return this.cached;
  }
}

function fromCertificateDer(der: Buffer, field: string): SubmittedKey {
  let cert;
  try {
    cert = parseCertificate(der);
  } catch (e) {
    throw new FormatError(field, `is not a valid X.509 certificate (${(e as Error).message})`);
  }
  const sans = cert.subjectAltNames;
  const emails = sans.filter((s) => s.type === 'email').map((s) => String(s.value).toLowerCase());
  const uris = sans.filter((s) => s.type === 'uri').map((s) => String(s.value));
  return new Submitted(Buffer.from(cert.spkiDer), field, () => pemEncode('CERTIFICATE', der), emails, uris, der);
}

function fromSpkiDer(der: Buffer, field: string): SubmittedKey {
  return new Submitted(der, field, () => pemEncode('PUBLIC KEY', der));
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

/** URI identities (GitHub workflow, SPIFFE) are indexed as given: URIs are case-sensitive. */
export function uriIndexKey(uri: string): string {
  return `uri:${uri}`;
}

/** The OIDC issuer a certificate names (Sigstore extension .1.8 or .1.1), as given. */
export function issuerIndexKey(issuer: string): string {
  return `issuer:${issuer}`;
}

export function hashIndexKey(algorithm: string, hex: string): string {
  return `hash:${algorithm}:${hex.toLowerCase()}`;
}

export type { KeyObject };
