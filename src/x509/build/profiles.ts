// Certificate profiles: a Fulcio-like CA (root + intermediate), Fulcio leaves with
// precertificate and embedded SCTs, and a TSA chain.
import type { KeyObject } from 'node:crypto';
import { asSigner, type Signer, type SigningKey } from '../../core/signer.js';
import { parseCertificate, type Certificate } from '../certificate.js';
import { der, encodeTlv, TAG } from '../der.js';
import { encodeSigstoreExtension } from '../extensions.js';
import { OID, type DigestName } from '../oids.js';
import { serializeSctList, type Sct } from '../sct.js';
import { signatureAlgorithmFor } from '../signature.js';
import {
  algorithmIdentifier,
  buildCertificate,
  encodeExtension,
  ext,
  spkiDer,
  generateKey,
  rebuildWithExtensions,
  randomSerial,
  type CertificateSigner,
  type ExtensionSpec,
  type KeyChoice,
  type NameSpec,
  type SanSpec,
} from './certificate.js';

const DAY = 24 * 3600 * 1000;

export interface CaChainOptions {
  organization?: string;
  rootCommonName?: string;
  intermediateCommonName?: string;
  /** Key type for both CA keys; P-256 by default (a P-384 signature costs ~30x here). */
  keyType?: KeyChoice;
  /** Validity of the root; the intermediate gets the same window. Default 10 years. */
  validityDays?: number;
  now?: Date;
  /** Reuse existing keys (SERVER loads them from disk). */
  rootKey?: SigningKey;
  intermediateKey?: SigningKey;
}

export interface CaChain {
  root: CertificateSigner;
  intermediate: CertificateSigner;
}

function keyIdOf(cert: Certificate): Buffer {
  return cert.subjectKeyIdentifier ?? cert.computedKeyIdentifier;
}

/** A self-signed root CA: CA:TRUE, keyCertSign + cRLSign, SKI. */
export function createRootCertificate(signingKey: SigningKey, subject: NameSpec, notBefore: Date, notAfter: Date): Certificate {
  const publicKey = asSigner(signingKey).publicKey;
  return buildCertificate(
    {
      issuer: subject,
      subject,
      notBefore,
      notAfter,
      publicKey,
      extensions: [ext.keyUsage('keyCertSign', 'cRLSign'), ext.basicConstraints(true), ext.subjectKeyIdentifier(publicKey)],
    },
    signingKey,
  );
}

/** An intermediate CA: CA:TRUE pathLen 0, keyCertSign + cRLSign, EKU (e.g. codeSigning), SKI, AKI. */
export function createIntermediateCertificate(
  issuer: CertificateSigner,
  publicKey: KeyObject,
  subject: NameSpec,
  notBefore: Date,
  notAfter: Date,
  extendedKeyUsage: string = OID.codeSigning,
): Certificate {
  return issueCertificate(issuer, publicKey, subject, notBefore, notAfter, [
    ext.keyUsage('keyCertSign', 'cRLSign'),
    ext.extKeyUsage(false, extendedKeyUsage),
    ext.basicConstraints(true, 0),
  ]);
}

/** A certificate signed by `issuer` with the profile's extensions, then its own and its issuer's key identifiers. */
function issueCertificate(issuer: CertificateSigner, publicKey: KeyObject, subject: NameSpec, notBefore: Date, notAfter: Date, extensions: ExtensionSpec[]): Certificate {
  return buildCertificate(
    {
      issuer: issuer.certificate.subject.der,
      subject,
      notBefore,
      notAfter,
      publicKey,
      extensions: [...extensions, ext.subjectKeyIdentifier(publicKey), ext.authorityKeyIdentifier(keyIdOf(issuer.certificate))],
    },
    issuer.key,
  );
}

/** Whole-second validity window starting at `now` (default 10 years), and a self-signed root for it. */
function rootFor(options: { now?: Date; validityDays?: number; keyType?: KeyChoice; rootKey?: SigningKey }, subject: NameSpec) {
  const now = options.now ?? new Date();
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + (options.validityDays ?? 3650) * DAY);
  const key = asSigner(options.rootKey ?? generateKey(options.keyType).privateKey);
  const root: CertificateSigner = { key, certificate: createRootCertificate(key, subject, notBefore, notAfter) };
  return { root, notBefore, notAfter };
}

/** Root + intermediate for the CA, as Fulcio's private instances are set up. */
export function createCaChain(options: CaChainOptions = {}): CaChain {
  const org = options.organization ?? 'keyless';
  const { root, notBefore, notAfter } = rootFor(options, { organization: org, commonName: options.rootCommonName ?? 'keyless-root' });
  const intermediateKey = asSigner(options.intermediateKey ?? generateKey(options.keyType).privateKey);
  const intermediate: CertificateSigner = {
    key: intermediateKey,
    certificate: createIntermediateCertificate(
      root,
      intermediateKey.publicKey,
      { organization: org, commonName: options.intermediateCommonName ?? 'keyless-intermediate' },
      notBefore,
      notAfter,
    ),
  };
  return { root, intermediate };
}

// ---- Fulcio leaf ------------------------------------------------------------

export interface LeafProfile {
  /** The requested key: a KeyObject, or its DER SubjectPublicKeyInfo (avoids a costly export). */
  publicKey: KeyObject | Buffer;
  san: SanSpec;
  /** Sigstore extensions by OID (1.3.6.1.4.1.57264.1.N) → value; empty values are left out. */
  sigstoreExtensions?: Readonly<Record<string, string>>;
  notBefore?: Date;
  /** Default 10 minutes. */
  validityMs?: number;
  serial?: Uint8Array;
}

function sigstoreArc(oid: string): number {
  return Number(oid.slice(OID.sigstoreArc.length + 1));
}

/** The leaf extensions in Fulcio's order: KU, EKU, SKI, AKI, SAN, Sigstore OIDs ascending. */
export function leafExtensions(profile: LeafProfile, issuer: Certificate): ExtensionSpec[] {
  const sigstore = Object.entries(profile.sigstoreExtensions ?? {})
    .filter(([oid, v]) => v !== '' && oid.startsWith(OID.sigstoreArc + '.'))
    .sort(([a], [b]) => sigstoreArc(a) - sigstoreArc(b))
    .map(([oid, v]): ExtensionSpec => ({ oid, value: encodeSigstoreExtension(oid, v) }));
  return [
    ext.keyUsage('digitalSignature'),
    ext.extKeyUsage(false, OID.codeSigning),
    ext.subjectKeyIdentifier(profile.publicKey),
    ext.authorityKeyIdentifier(keyIdOf(issuer)),
    ext.subjectAltName(profile.san, true),
    ...sigstore,
  ];
}

function leafWindow(profile: LeafProfile, issuer: Certificate): { notBefore: Date; notAfter: Date } {
  const start = profile.notBefore ?? new Date();
  const notBefore = new Date(Math.floor(start.getTime() / 1000) * 1000);
  let notAfter = new Date(notBefore.getTime() + (profile.validityMs ?? 10 * 60 * 1000));
  if (notAfter > issuer.notAfter) notAfter = issuer.notAfter;
  return { notBefore, notAfter };
}

/**
 * The Fulcio leaf (empty subject, critical SAN, digitalSignature, codeSigning, SKI/AKI,
 * Sigstore extensions), optionally as a precertificate (critical poison appended) or
 * with an SCT list appended. Precertificate and final certificate built from the same
 * profile only differ in that last extension.
 */
export function issueLeafCertificate(profile: LeafProfile, issuer: CertificateSigner, options: { precertificate?: boolean; scts?: readonly Sct[] } = {}): Certificate {
  const leaf = new PreparedLeaf(profile, issuer);
  return options.precertificate ? leaf.precertificate() : parseCertificate(leaf.finalDer(options.scts ?? []));
}

// ---- Fulcio leaf, encoded once for precertificate, CT entry and final certificate ----

/** What a leaf needs from its issuer, encoded once per issuing certificate and key. */
interface IssuerParts {
  signatureOid: string;
  hash: DigestName | null;
  algorithmIdentifier: Buffer;
  issuerName: Buffer;
}
const issuerPartsCache = new WeakMap<Certificate, WeakMap<Signer, IssuerParts>>();

function issuerParts(issuer: CertificateSigner): IssuerParts {
  let byKey = issuerPartsCache.get(issuer.certificate);
  if (!byKey) issuerPartsCache.set(issuer.certificate, (byKey = new WeakMap()));
  let p = byKey.get(issuer.key);
  if (!p) {
    const alg = signatureAlgorithmFor(issuer.key.publicKey);
    p = {
      signatureOid: alg.oid,
      hash: alg.hash,
      algorithmIdentifier: algorithmIdentifier(alg.oid),
      issuerName: issuer.certificate.subject.der,
    };
    byKey.set(issuer.key, p);
  }
  return p;
}

const CT_POISON = encodeExtension(ext.ctPoison());
const EMPTY_NAME = Buffer.from([0x30, 0x00]);

/**
 * A Fulcio leaf encoded once: the precertificate, the TBS a CT log signs (RFC 6962
 * precert entry: the precertificate's TBS without the poison) and the final certificate
 * share every byte but the last extension, so none of them is re-parsed from another.
 * Byte for byte what issuePrecertificate + embedScts produce.
 */
export class PreparedLeaf {
  /** TBS fields version … subjectPublicKeyInfo, encoded. */
  private readonly fields: Buffer;
  /** Extensions in Fulcio's order, encoded, without poison or SCT list. */
  private readonly extensions: Buffer[];
  private readonly parts: IssuerParts;
  private readonly signingKey: Signer;

  constructor(profile: LeafProfile, issuer: CertificateSigner) {
    this.parts = issuerParts(issuer);
    this.signingKey = issuer.key;
    const spki = Buffer.isBuffer(profile.publicKey) ? profile.publicKey : spkiDer(profile.publicKey);
    const { notBefore, notAfter } = leafWindow(profile, issuer.certificate);
    this.fields = Buffer.concat([
      LEAF_VERSION,
      der.integer(profile.serial ?? randomSerial()),
      this.parts.algorithmIdentifier,
      this.parts.issuerName,
      der.sequence(der.time(notBefore), der.time(notAfter)),
      EMPTY_NAME,
      spki,
    ]);
    this.extensions = leafExtensions({ ...profile, publicKey: spki }, issuer.certificate).map(encodeExtension);
  }

  private tbs(last: Buffer | undefined): Buffer {
    const exts = last ? [...this.extensions, last] : this.extensions;
    return encodeTlv(TAG.SEQUENCE, this.fields, encodeTlv(0xa3, encodeTlv(TAG.SEQUENCE, ...exts)));
  }

  private sign(tbs: Buffer): Buffer {
    const signature = this.signingKey.sign(tbs, this.parts.hash ?? undefined);
    return encodeTlv(TAG.SEQUENCE, tbs, this.parts.algorithmIdentifier, der.bitString(signature));
  }

  /** The precertificate's TBS without the poison: what the CT log's SCT covers. */
  entryTbs(): Buffer {
    return this.tbs(undefined);
  }

  /** The signed precertificate (critical CT poison last), for a CT log that wants the chain. */
  precertificate(): Certificate {
    return parseCertificate(this.precertificateDer());
  }

  /** The same, DER-encoded and not parsed (what a CT log keeps as get-entries extra_data). */
  precertificateDer(): Buffer {
    return this.sign(this.tbs(CT_POISON));
  }

  /** The final certificate's DER: the SCT list appended last (no SCT: the plain leaf). */
  finalDer(scts: readonly Sct[]): Buffer {
    return this.sign(this.tbs(scts.length > 0 ? encodeExtension(ext.sctList(serializeSctList(scts))) : undefined));
  }
}
const LEAF_VERSION = der.context(0, der.integer(2));

/** Same as issueLeafCertificate with `precertificate: true`. */
export function issuePrecertificate(profile: LeafProfile, issuer: CertificateSigner): Certificate {
  return issueLeafCertificate(profile, issuer, { precertificate: true });
}

/**
 * The final certificate from a precertificate: poison removed, SCT list appended last,
 * re-signed; its TBS minus the SCT list equals the precertificate TBS minus the poison.
 */
export function embedScts(precertificate: Certificate, scts: readonly Sct[], issuerKey: SigningKey): Certificate {
  const append = scts.length > 0 ? [ext.sctList(serializeSctList(scts))] : [];
  return rebuildWithExtensions(precertificate, [OID.ctPoison], append, issuerKey);
}

// ---- TSA ------------------------------------------------------------------------

export interface TsaChainOptions {
  organization?: string;
  commonName?: string;
  keyType?: KeyChoice;
  validityDays?: number;
  now?: Date;
  rootKey?: SigningKey;
  signingKey?: SigningKey;
}

export interface TsaChain {
  root: CertificateSigner;
  /** The timestamp signing certificate and key. */
  signer: CertificateSigner;
  /** Leaf first, root last (the TrustedRoot `timestampAuthorities[].certChain` order). */
  chain: Certificate[];
}

/** A TSA signing certificate: not a CA, KU digitalSignature, the single EKU timeStamping marked critical. */
export function createTsaCertificate(issuer: CertificateSigner, publicKey: KeyObject, subject: NameSpec, notBefore: Date, notAfter: Date): Certificate {
  return issueCertificate(issuer, publicKey, subject, notBefore, notAfter, [ext.keyUsage('digitalSignature'), ext.extKeyUsage(true, OID.timeStamping)]);
}

/** Root + TSA signing certificate (ECDSA P-256 by default). */
export function createTsaChain(options: TsaChainOptions = {}): TsaChain {
  const org = options.organization ?? 'keyless';
  const { root, notBefore, notAfter } = rootFor(options, { organization: org, commonName: `${options.commonName ?? 'keyless-tsa'}-root` });
  const signingKey = asSigner(options.signingKey ?? generateKey(options.keyType).privateKey);
  const signer: CertificateSigner = {
    key: signingKey,
    certificate: createTsaCertificate(root, signingKey.publicKey, { organization: org, commonName: options.commonName ?? 'keyless-tsa' }, notBefore, notAfter),
  };
  return { root, signer, chain: [signer.certificate, root.certificate] };
}
