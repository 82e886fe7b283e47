// Generic certificate building with the small DER writer: synchronous, byte-exact and
// fast (the CA issues two certificates, precertificate and final, per request).
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { asSigner, type Signer, type SigningKey } from '../../core/signer.js';
import { parseCertificate, type Certificate } from '../certificate.js';
import { der, encodeTlv, parseDer, readBitString, sequence, TAG } from '../der.js';
import { OID, type DigestName } from '../oids.js';
import { signatureAlgorithmFor } from '../signature.js';

export interface NameSpec {
  commonName?: string;
  organization?: string;
}

export interface ExtensionSpec {
  oid: string;
  critical?: boolean;
  /** The extnValue contents (what goes inside the OCTET STRING). */
  value: Uint8Array;
}

export interface CertificateSpec {
  serial?: Uint8Array;
  /** Issuer Name DER (from the issuing certificate's subject) or a spec. */
  issuer: Buffer | NameSpec;
  subject: Buffer | NameSpec;
  notBefore: Date;
  notAfter: Date;
  /** The subject key, as a KeyObject or as DER SubjectPublicKeyInfo (cheapest when the caller has it). */
  publicKey: KeyObject | Buffer;
  extensions: readonly ExtensionSpec[];
}

/** A signing key and its certificate: what signs the next certificate down. */
export interface CertificateSigner {
  certificate: Certificate;
  key: Signer;
}

export type KeyChoice = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519';

export function generateKey(choice: KeyChoice = 'ecdsa-p256'): { privateKey: KeyObject; publicKey: KeyObject } {
  if (choice === 'ed25519') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('ec', { namedCurve: choice === 'ecdsa-p384' ? 'P-384' : 'P-256' });
}

/** Name DER; an empty spec gives the empty RDN sequence (`30 00`) Fulcio leaves use. */
export function encodeName(spec: NameSpec): Buffer {
  const rdn = (oid: string, value: string) => der.set(der.sequence(der.oid(oid), der.utf8(value)));
  const rdns: Buffer[] = [];
  if (spec.organization !== undefined) rdns.push(rdn(OID.organization, spec.organization));
  if (spec.commonName !== undefined) rdns.push(rdn(OID.commonName, spec.commonName));
  return der.sequence(...rdns);
}

/** 20 random bytes with the top bit cleared: positive, at most 159 bits (as Go/Fulcio). */
export function randomSerial(): Buffer {
  const b = randomBytes(20);
  b[0] = b[0]! & 0x7f;
  if (b[0] === 0) b[0] = 1;
  return b;
}

const EC_CURVE_OIDS: Readonly<Record<string, string>> = { 'P-256': '1.2.840.10045.3.1.7', 'P-384': '1.3.132.0.34', 'P-521': '1.3.132.0.35' };
const spkiCache = new WeakMap<KeyObject, Buffer>();

/**
 * DER SubjectPublicKeyInfo of a key, cached per KeyObject. EC and Ed25519 keys are
 * encoded from their JWK form: Node's DER export goes through the OpenSSL 3 encoder
 * and costs ~200 µs, about six P-256 signatures, on every certificate issued.
 */
export function spkiDer(key: KeyObject): Buffer {
  const pub = publicKeyOf(key);
  let out = spkiCache.get(pub);
  if (out) return out;
  const jwk = pub.asymmetricKeyType === 'ec' || pub.asymmetricKeyType === 'ed25519' ? pub.export({ format: 'jwk' }) : undefined;
  const curveOid = jwk?.crv ? EC_CURVE_OIDS[jwk.crv] : undefined;
  if (jwk && jwk.kty === 'EC' && curveOid && jwk.x && jwk.y) {
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
    out = der.sequence(der.sequence(der.oid('1.2.840.10045.2.1'), der.oid(curveOid)), der.bitString(point));
  } else if (jwk && jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && jwk.x) {
    out = der.sequence(der.sequence(der.oid(OID.ed25519)), der.bitString(Buffer.from(jwk.x, 'base64url')));
  } else {
    out = pub.export({ format: 'der', type: 'spki' });
  }
  spkiCache.set(pub, out);
  return out;
}

/** RFC 5280 method 1 key identifier: SHA-1 of the subjectPublicKey BIT STRING contents. */
export function keyIdentifier(publicKey: KeyObject | Buffer): Buffer {
  const spki = Buffer.isBuffer(publicKey) ? publicKey : spkiDer(publicKey);
  const kids = sequence(parseDer(spki, 'spki'), 'spki', 2, 2);
  return createHash('sha1').update(readBitString(kids[1]!, 'spki').bytes).digest();
}

/** Extension OIDs encoded once: a leaf has a dozen, from a small fixed set. */
const oidDerCache = new Map<string, Buffer>();

function oidDer(oid: string): Buffer {
  let out = oidDerCache.get(oid);
  if (!out) {
    out = der.oid(oid);
    if (oidDerCache.size < 256) oidDerCache.set(oid, out);
  }
  return out;
}

export function encodeExtension(e: ExtensionSpec): Buffer {
  return e.critical ? der.sequence(oidDer(e.oid), der.boolean(true), der.octetString(e.value)) : der.sequence(oidDer(e.oid), der.octetString(e.value));
}

const publicOfPrivate = new WeakMap<KeyObject, KeyObject>();

export function publicKeyOf(key: KeyObject): KeyObject {
  if (key.type !== 'private') return key;
  let pub = publicOfPrivate.get(key);
  if (!pub) {
    pub = createPublicKey(key);
    publicOfPrivate.set(key, pub);
  }
  return pub;
}

export function algorithmIdentifier(oid: string): Buffer {
  // ECDSA and Ed25519 identifiers have no parameters; RSA PKCS#1 v1.5 ones carry NULL.
  return oid.startsWith('1.2.840.113549.1.1.') ? der.sequence(der.oid(oid), der.null()) : der.sequence(der.oid(oid));
}

/** The TBSCertificate DER for a spec, signed later with `signatureOid`. */
export function encodeTbs(spec: CertificateSpec, signatureOid: string): Buffer {
  const name = (n: Buffer | NameSpec) => (Buffer.isBuffer(n) ? n : encodeName(n));
  const parts = [
    der.context(0, der.integer(2)),
    der.integer(spec.serial ?? randomSerial()),
    algorithmIdentifier(signatureOid),
    name(spec.issuer),
    der.sequence(der.time(spec.notBefore), der.time(spec.notAfter)),
    name(spec.subject),
    Buffer.isBuffer(spec.publicKey) ? spec.publicKey : spkiDer(spec.publicKey),
  ];
  if (spec.extensions.length > 0) parts.push(der.context(3, der.sequence(...spec.extensions.map(encodeExtension))));
  return der.sequence(...parts);
}

/** Signs a TBS with `signingKey` into a certificate (the TBS must name `signatureOid`). */
export function signTbs(tbs: Buffer, signingKey: SigningKey, signatureOid: string, hash: DigestName | null): Certificate {
  const signature = asSigner(signingKey).sign(tbs, hash ?? undefined);
  return parseCertificate(der.sequence(tbs, algorithmIdentifier(signatureOid), der.bitString(signature)));
}

/** Builds and signs a certificate; the hash follows the signing key (P-256 → SHA-256, P-384 → SHA-384). */
export function buildCertificate(spec: CertificateSpec, signingKey: SigningKey): Certificate {
  const alg = signatureAlgorithmFor(asSigner(signingKey).publicKey);
  return signTbs(encodeTbs(spec, alg.oid), signingKey, alg.oid, alg.hash);
}

/**
 * Re-signs `cert`'s TBS with extensions removed and others appended at the end (the
 * precertificate → final certificate step). Serial, validity, names, key, signature
 * algorithm and the order of the other extensions are kept byte for byte.
 */
export function rebuildWithExtensions(cert: Certificate, remove: readonly string[], append: readonly ExtensionSpec[], signingKey: SigningKey): Certificate {
  const base = parseDer(cert.tbsWithoutExtensions(...remove), 'tbs');
  const kids = base.children('tbs');
  const parts: Buffer[] = [];
  let existing: Buffer[] = [];
  for (const k of kids) {
    if (k.tag === 0xa3) existing = sequence(k.children('tbs')[0]!, 'tbs').map((e) => e.bytes);
    else parts.push(k.bytes);
  }
  const all = [...existing, ...append.map(encodeExtension)];
  if (all.length > 0) parts.push(encodeTlv(0xa3, der.sequence(...all)));
  const tbs = encodeTlv(TAG.SEQUENCE, ...parts);
  const alg = signatureAlgorithmFor(asSigner(signingKey).publicKey);
  if (alg.oid !== cert.signatureAlgorithm) throw new Error('signing key does not match the certificate signature algorithm');
  return signTbs(tbs, signingKey, alg.oid, alg.hash);
}

// ---- extension value encoders --------------------------------------------

export const ext = {
  basicConstraints(ca: boolean, pathLen?: number): ExtensionSpec {
    const items: Buffer[] = [];
    if (ca) items.push(der.boolean(true));
    if (pathLen !== undefined) items.push(der.integer(pathLen));
    return { oid: OID.basicConstraints, critical: true, value: der.sequence(...items) };
  },
  /** Key usage bits by name, always critical. */
  keyUsage(...usages: Array<'digitalSignature' | 'keyCertSign' | 'cRLSign'>): ExtensionSpec {
    const bitIndex = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;
    let bits = 0;
    let highest = 0;
    for (const u of usages) {
      bits |= 0x80 >> bitIndex[u];
      highest = Math.max(highest, bitIndex[u]);
    }
    // DER BIT STRING: drop trailing zero bits and count them as unused.
    let unused = 0;
    while (unused < 7 && (bits & (1 << unused)) === 0) unused++;
    return { oid: OID.keyUsage, critical: true, value: encodeTlv(TAG.BIT_STRING, Buffer.from([unused, bits])) };
  },
  extKeyUsage(critical: boolean, ...oids: string[]): ExtensionSpec {
    return { oid: OID.extKeyUsage, critical, value: der.sequence(...oids.map((o) => der.oid(o))) };
  },
  subjectKeyIdentifier(publicKey: KeyObject | Buffer): ExtensionSpec {
    return { oid: OID.subjectKeyIdentifier, value: der.octetString(keyIdentifier(publicKey)) };
  },
  authorityKeyIdentifier(issuerKeyId: Uint8Array): ExtensionSpec {
    return { oid: OID.authorityKeyIdentifier, value: der.sequence(der.context(0, issuerKeyId, true)) };
  },
  /** SAN with one name: email (rfc822Name), URI, or the Sigstore username otherName. */
  subjectAltName(san: SanSpec, critical = true): ExtensionSpec {
    let gn: Buffer;
    if (san.type === 'email') gn = der.context(1, Buffer.from(san.value, 'latin1'), true);
    else if (san.type === 'uri') gn = der.context(6, Buffer.from(san.value, 'latin1'), true);
    else gn = der.context(0, Buffer.concat([der.oid(('oid' in san ? san.oid : undefined) ?? OID.sigstoreOtherNameSan), der.context(0, der.utf8(san.value))]));
    return { oid: OID.subjectAltName, critical, value: der.sequence(gn) };
  },
  ctPoison(): ExtensionSpec {
    return { oid: OID.ctPoison, critical: true, value: der.null() };
  },
  sctList(tlsList: Uint8Array): ExtensionSpec {
    return { oid: OID.sctList, value: der.octetString(tlsList) };
  },
};

export type SanSpec = { type: 'email' | 'uri'; value: string } | { type: 'otherName'; value: string; oid?: string };
