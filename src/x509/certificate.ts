// X.509 certificates, parsed strictly with the small DER reader (no heavy imports).
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { FormatError, KeylessError } from '../core/errors.js';
import { base64Decode, pemDecodeAll } from '../core/encoding.js';
import {
  encodeTlv,
  parseDer,
  readBitString,
  readIntegerBytes,
  readOid,
  readSmallInteger,
  readTime,
  sequence,
  TAG,
  type DerNode,
} from './der.js';
import {
  decodeAuthorityKeyIdentifier,
  decodeBasicConstraints,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeSigstoreExtension,
  decodeSubjectAltNames,
  decodeSubjectKeyIdentifier,
  parseExtension,
  SIGSTORE_EXTENSION_NAMES,
  type Extension,
  type KeyUsage,
  type SubjectAltName,
} from './extensions.js';
import { parseName, type DistinguishedName } from './name.js';
import { OID } from './oids.js';
import { verifyWithAlgorithm, verifyWithAlgorithmAsync } from './signature.js';

/** Larger than any real certificate; refuses absurd inputs before parsing. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;

export class Certificate {
  readonly der: Buffer;
  readonly tbsDer: Buffer;
  readonly version: number;
  /** Serial as unsigned big-endian bytes (leading zero stripped). */
  readonly serialBytes: Buffer;
  readonly signatureAlgorithm: string;
  readonly signature: Buffer;
  readonly issuer: DistinguishedName;
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** DER SubjectPublicKeyInfo. */
  readonly spkiDer: Buffer;
  /** Contents of the SPKI's subjectPublicKey BIT STRING (used for key identifiers). */
  readonly subjectPublicKeyBits: Buffer;
  readonly extensions: readonly Extension[];
  /** TBS children, kept to re-encode the TBS without an extension (SCT verification). */
  private readonly tbsNode: DerNode;
  private keyCache: KeyObject | undefined;
  private verifiedIssuers: WeakSet<Certificate> | undefined;
  /** Decoded extension values, computed once (certificates are immutable). */
  private readonly memo = new Map<string, unknown>();

  private once<T>(key: string, compute: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const v = compute();
    if (Array.isArray(v)) Object.freeze(v); // shared between callers
    this.memo.set(key, v);
    return v;
  }

  constructor(der: Buffer) {
    const f = 'certificate';
    const root = parseDer(der, f);
    const [tbs, sigAlg, sigValue] = sequence(root, f, 3, 3);
    this.der = der;
    this.tbsNode = tbs!;
    this.tbsDer = tbs!.expect(TAG.SEQUENCE, `${f}.tbsCertificate`).bytes;
    this.signatureAlgorithm = readAlgorithmOid(sigAlg!, `${f}.signatureAlgorithm`);
    const sig = readBitString(sigValue!, `${f}.signatureValue`);
    if (sig.unusedBits !== 0) throw new FormatError(`${f}.signatureValue`, 'signature has unused bits');
    this.signature = sig.bytes;

    const t = tbs!.children(`${f}.tbsCertificate`);
    let i = 0;
    this.version = 1;
    if (t[0]?.tag === 0xa0) {
      const v = t[0].children(`${f}.version`);
      if (v.length !== 1) throw new FormatError(`${f}.version`, 'malformed version');
      this.version = readSmallInteger(v[0]!, `${f}.version`) + 1;
      i = 1;
    }
    const need = (name: string): DerNode => {
      const n = t[i++];
      if (!n) throw new FormatError(`${f}.tbsCertificate.${name}`, 'missing');
      return n;
    };
    const serial = readIntegerBytes(need('serialNumber'), `${f}.serialNumber`);
    this.serialBytes = serial.length > 1 && serial[0] === 0 ? serial.subarray(1) : serial;
    const innerAlg = readAlgorithmOid(need('signature'), `${f}.tbsCertificate.signature`);
    if (innerAlg !== this.signatureAlgorithm) {
      throw new FormatError(`${f}.signatureAlgorithm`, 'differs from tbsCertificate.signature');
    }
    this.issuer = parseName(need('issuer'), `${f}.issuer`);
    const validity = sequence(need('validity'), `${f}.validity`, 2, 2);
    this.notBefore = readTime(validity[0]!, `${f}.validity.notBefore`);
    this.notAfter = readTime(validity[1]!, `${f}.validity.notAfter`);
    this.subject = parseName(need('subject'), `${f}.subject`);
    const spki = need('subjectPublicKeyInfo');
    const spkiKids = sequence(spki, `${f}.subjectPublicKeyInfo`, 2, 2);
    this.spkiDer = spki.bytes;
    this.subjectPublicKeyBits = readBitString(spkiKids[1]!, `${f}.subjectPublicKeyInfo`).bytes;

    const extensions: Extension[] = [];
    for (; i < t.length; i++) {
      const n = t[i]!;
      if (n.tag === 0x81 || n.tag === 0x82) continue; // issuer/subject unique IDs
      if (n.tag !== 0xa3) throw new FormatError(`${f}.tbsCertificate`, `unexpected element with tag 0x${n.tag.toString(16)}`);
      const list = n.children(`${f}.extensions`);
      if (list.length !== 1) throw new FormatError(`${f}.extensions`, 'malformed extensions');
      for (const e of sequence(list[0]!, `${f}.extensions`)) extensions.push(parseExtension(e, `${f}.extensions`));
    }
    const seen = new Set<string>();
    for (const e of extensions) {
      if (seen.has(e.oid)) throw new FormatError(`${f}.extensions`, `duplicate extension ${e.oid}`);
      seen.add(e.oid);
    }
    this.extensions = extensions;
  }

  /** Serial number as lowercase hex (unsigned, no leading zeros beyond one byte). */
  get serial(): string {
    return this.serialBytes.toString('hex');
  }

  get serialNumber(): bigint {
    return BigInt('0x' + (this.serial || '0'));
  }

  get publicKey(): KeyObject {
    if (!this.keyCache) {
      try {
        this.keyCache = importSpki(this.spkiDer);
      } catch (e) {
        throw new FormatError('certificate.subjectPublicKeyInfo', `unsupported or invalid public key (${(e as Error).message})`);
      }
    }
    return this.keyCache;
  }

  extension(oid: string): Extension | undefined {
    return this.extensions.find((e) => e.oid === oid);
  }

  get basicConstraints(): { ca: boolean; pathLen: number | undefined } | undefined {
    return this.once('bc', () => {
      const e = this.extension(OID.basicConstraints);
      return e ? decodeBasicConstraints(e.value) : undefined;
    });
  }

  get isCA(): boolean {
    return this.basicConstraints?.ca ?? false;
  }

  get pathLen(): number | undefined {
    return this.basicConstraints?.pathLen;
  }

  /** Key usage bits, or undefined when the extension is absent. */
  get keyUsage(): KeyUsage[] | undefined {
    return this.once('ku', () => {
      const e = this.extension(OID.keyUsage);
      return e ? decodeKeyUsage(e.value) : undefined;
    });
  }

  get extKeyUsage(): string[] | undefined {
    return this.once('eku', () => {
      const e = this.extension(OID.extKeyUsage);
      return e ? decodeExtKeyUsage(e.value) : undefined;
    });
  }

  get subjectKeyIdentifier(): Buffer | undefined {
    return this.once('ski', () => {
      const e = this.extension(OID.subjectKeyIdentifier);
      return e ? decodeSubjectKeyIdentifier(e.value) : undefined;
    });
  }

  get authorityKeyIdentifier(): Buffer | undefined {
    return this.once('aki', () => {
      const e = this.extension(OID.authorityKeyIdentifier);
      return e ? decodeAuthorityKeyIdentifier(e.value) : undefined;
    });
  }

  get subjectAltNames(): SubjectAltName[] {
    return this.once('san', () => {
      const e = this.extension(OID.subjectAltName);
      return e ? decodeSubjectAltNames(e.value) : [];
    });
  }

  /**
   * The identity Sigstore reads from the SAN: URI if present, else email, else the
   * otherName with type-id 1.3.6.1.4.1.57264.1.7.
   */
  get sigstoreIdentity(): string | undefined {
    const sans = this.subjectAltNames;
    const uri = sans.find((s) => s.type === 'uri');
    if (uri) return uri.value as string;
    const email = sans.find((s) => s.type === 'email');
    if (email) return email.value as string;
    const other = sans.find((s) => s.type === 'otherName' && s.oid === OID.sigstoreOtherNameSan);
    return other ? (other.value as string) : undefined;
  }

  /** Every 1.3.6.1.4.1.57264.1.* extension decoded to text, keyed by OID. */
  get sigstoreExtensions(): Readonly<Record<string, string>> {
    return this.once('sigstore', () => {
      const out: Record<string, string> = {};
      for (const e of this.extensions) {
        if (!e.oid.startsWith(OID.sigstoreArc + '.')) continue;
        const v = decodeSigstoreExtension(e.oid, e.value);
        if (v !== undefined) out[e.oid] = v;
      }
      return Object.freeze(out);
    });
  }

  /** The same values keyed by name (issuer, buildSignerURI, ...; `issuerV1` for .1.1). */
  get sigstoreExtensionsByName(): Readonly<Record<string, string>> {
    return this.once('sigstoreByName', () => {
      const out: Record<string, string> = {};
      for (const [oid, v] of Object.entries(this.sigstoreExtensions)) {
        const name = SIGSTORE_EXTENSION_NAMES[oid];
        if (name) out[name] = v;
      }
      return Object.freeze(out);
    });
  }

  /** The OIDC issuer: .1.8 if present, else the deprecated .1.1. */
  get oidcIssuer(): string | undefined {
    const ext = this.sigstoreExtensions;
    return ext[OID.sigstoreArc + '.8'] ?? ext[OID.sigstoreArc + '.1'];
  }

  /** The TLS-encoded SignedCertificateTimestampList, if the certificate embeds SCTs. */
  get embeddedSctList(): Buffer | undefined {
    const e = this.extension(OID.sctList);
    if (!e) return undefined;
    return Buffer.from(parseDer(e.value, 'sctList').expect(TAG.OCTET_STRING, 'sctList').content);
  }

  get isPrecertificate(): boolean {
    return this.extension(OID.ctPoison) !== undefined;
  }

  get isSelfSigned(): boolean {
    return this.subject.equals(this.issuer) && this.verifySignedBy(this);
  }

  /** RFC 5280 method 1 key identifier: SHA-1 of the subjectPublicKey bits. */
  get computedKeyIdentifier(): Buffer {
    return createHash('sha1').update(this.subjectPublicKeyBits).digest();
  }

  /** True when `issuer`'s key verifies this certificate's signature over the TBS. */
  verifySignedBy(issuer: Certificate): boolean {
    // Trusted-root certificates are parsed once (parseCertificateCached), so caching the
    // issuers that verified makes CA-chain checks free after the first verification.
    if (this.verifiedIssuers?.has(issuer)) return true;
    let ok: boolean;
    try {
      ok = verifyWithAlgorithm(this.signatureAlgorithm, issuer.publicKey, this.tbsDer, this.signature);
    } catch (e) {
      if (e instanceof KeylessError) return false;
      throw e;
    }
    if (ok) (this.verifiedIssuers ??= new WeakSet()).add(issuer);
    return ok;
  }

  /**
   * verifySignedBy in the thread pool, so a caller can overlap this check with other
   * work; a success lands in the same memo, so a later verifySignedBy is free.
   */
  async verifySignedByAsync(issuer: Certificate): Promise<boolean> {
    if (this.verifiedIssuers?.has(issuer)) return true;
    let ok: boolean;
    try {
      ok = await verifyWithAlgorithmAsync(this.signatureAlgorithm, issuer.publicKey, this.tbsDer, this.signature);
    } catch (e) {
      if (e instanceof KeylessError) return false;
      throw e;
    }
    if (ok) (this.verifiedIssuers ??= new WeakSet()).add(issuer);
    return ok;
  }

  /** Whether `time` is inside [notBefore, notAfter] (both inclusive). */
  validAt(time: Date): boolean {
    const t = time.getTime();
    return t >= this.notBefore.getTime() && t <= this.notAfter.getTime();
  }

  /** The TBSCertificate re-encoded without the listed extensions (SCT and CT poison handling). */
  tbsWithoutExtensions(...oids: string[]): Buffer {
    const f = 'certificate.tbsCertificate';
    const parts: Buffer[] = [];
    for (const n of this.tbsNode.children(f)) {
      if (n.tag !== 0xa3) {
        parts.push(n.bytes);
        continue;
      }
      const kept = sequence(n.children(f)[0]!, f).filter((e) => !oids.includes(readOid(sequence(e, f, 2, 3)[0]!, f)));
      if (kept.length > 0) parts.push(encodeTlv(0xa3, encodeTlv(TAG.SEQUENCE, ...kept.map((e) => e.bytes))));
    }
    return encodeTlv(TAG.SEQUENCE, ...parts);
  }

  toPem(): string {
    const b64 = this.der.toString('base64').replace(/.{1,64}/g, '$&\n');
    return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
  }
}

const EC_CURVES: Readonly<Record<string, { crv: string; size: number }>> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', size: 32 },
  '1.3.132.0.34': { crv: 'P-384', size: 48 },
  '1.3.132.0.35': { crv: 'P-521', size: 66 },
};

/**
 * A KeyObject from DER SPKI. P-256 and Ed25519 keys go through JWK, which Node imports
 * about a third faster than DER (OpenSSL 3 decoders); P-384/P-521 JWK imports are ~3x
 * slower than DER here, so those and everything else go through DER.
 */
export function importSpki(spki: Buffer): KeyObject {
  const f = 'subjectPublicKeyInfo';
  const [alg, bits] = sequence(parseDer(spki, f), f, 2, 2);
  const algKids = sequence(alg!, f, 1, 2);
  const algOid = readOid(algKids[0]!, f);
  const { bytes } = readBitString(bits!, f);
  if (algOid === '1.2.840.10045.2.1' && algKids[1]?.tag === TAG.OID) {
    const curve = EC_CURVES[readOid(algKids[1], f)];
    if (curve?.crv === 'P-256' && bytes.length === 1 + 2 * curve.size && bytes[0] === 4) {
      const x = bytes.subarray(1, 1 + curve.size).toString('base64url');
      const y = bytes.subarray(1 + curve.size).toString('base64url');
      return createPublicKey({ key: { kty: 'EC', crv: curve.crv, x, y }, format: 'jwk' });
    }
  } else if (algOid === OID.ed25519 && algKids.length === 1 && bytes.length === 32) {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') }, format: 'jwk' });
  }
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

function readAlgorithmOid(node: DerNode, field: string): string {
  const kids = sequence(node, field, 1, 2);
  return readOid(kids[0]!, field);
}

/** Parses a DER certificate; throws FormatError (code FORMAT_INVALID) naming the bad field. */
export function parseCertificate(der: Uint8Array): Certificate {
  if (der.byteLength > MAX_CERTIFICATE_BYTES) throw new FormatError('certificate', `larger than ${MAX_CERTIFICATE_BYTES} bytes`);
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    return new Certificate(Buffer.from(buf));
  } catch (e) {
    if (e instanceof KeylessError) throw e;
    throw new FormatError('certificate', `cannot be parsed (${(e as Error).message})`);
  }
}

/**
 * A TBSCertificate read as a certificate without a signature (a CT precert entry logs the
 * TBS only): names, validity, key and extensions, wrapped with the TBS's own algorithm and
 * an empty signature, so `verifySignedBy` is always false.
 */
export function certificateFromTbs(tbs: Uint8Array): Certificate {
  const f = 'tbsCertificate';
  const buf = Buffer.from(tbs.buffer, tbs.byteOffset, tbs.byteLength);
  const kids = parseDer(buf, f).expect(TAG.SEQUENCE, f).children(f);
  const alg = kids[kids[0]?.tag === 0xa0 ? 2 : 1];
  if (!alg) throw new FormatError(f, 'has no signature algorithm');
  return parseCertificate(encodeTlv(TAG.SEQUENCE, buf, alg.bytes, encodeTlv(TAG.BIT_STRING, Buffer.from([0]))));
}

/** Parses every CERTIFICATE block of a PEM text, in order. */
export function parseCertificatesPem(pem: string, field = 'certificates'): Certificate[] {
  const blocks = pemDecodeAll(pem, field).filter((b) => b.label === 'CERTIFICATE');
  if (blocks.length === 0) throw new FormatError(field, 'no PEM CERTIFICATE block found');
  return blocks.map((b) => parseCertificate(b.der));
}

const cache = new Map<string, Certificate>();
const CACHE_LIMIT = 1024;

/**
 * Parses with a bounded cache keyed by the DER (base64): for trusted-root certificates
 * that are parsed again on every verification.
 */
export function parseCertificateCached(der: Uint8Array | string): Certificate {
  const key = typeof der === 'string' ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let c = cache.get(key);
  if (!c) {
    c = parseCertificate(typeof der === 'string' ? base64Decode(der, 'certificate') : der);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, c);
  }
  return c;
}
