// The verification pipeline: a fixed sequence of steps, each recording what it checked.
//   1. signed content (message signature or DSSE envelope)
//   2. key material (the managed key, or the bundle's leaf certificate, no root allowed)
//   3. signature over the artifact / PAE, and the artifact binding (digest, in-toto subject)
//   4. verified times (RFC 3161 timestamps; Rekor v1 integrated times with a valid SET)
//   5. transparency-log entries (inclusion proof and checkpoint, body consistency)
//   6. certificate chain to a trusted CA at every verified time, embedded SCTs, the leaf's
//      validity at every integrated time, the given key (if any)
//   7. identity policy
// Steps 6 and 7 run in finish(), so that the async API can check the leaf's signature in
// the thread pool while steps 1-5 run. Each step is a function below, in this order.
import { KeylessError } from '../core/errors.js';
import { describeKey, parsePublicKey, publicKeyDer, verifySignature, type PublicKeyInfo } from '../core/keys.js';
import { verifyDigestSignature } from '../core/prehash.js';
import { digest, sha256, type HashAlgorithm } from '../core/hash.js';
import {
  bundleVersion,
  nodeHashName,
  parseStatement,
  preAuthEncoding,
  IN_TOTO_PAYLOAD_TYPE,
  type Bundle,
  type TransparencyLogEntry,
} from '../formats/index.js';
import {
  chainFailureKind,
  describePeriod,
  parseCertificate,
  periodContains,
  verifyCertificateChain,
  verifyTimestampToken,
  type Certificate,
} from '../x509/index.js';
import { leafHash } from '../merkle/index.js';
import type { Artifact } from './artifact.js';
import { checkEntryBody, type SignedContent } from './body.js';
import { CheckLog, VerifyCode, failWith, type CheckResult } from './checks.js';
import { checkPolicy, type CompiledPolicy } from './policy.js';
import { entryName, logsForEntry, verifyInclusionProof, verifySet } from './tlog.js';
import type { TrustMaterial } from './trust.js';

/** Longest certificate chain a bundle may carry (leaf and intermediates). */
export const MAX_BUNDLE_CHAIN = 10;

export interface VerifiedTime {
  /** `current-time` only when the policy asks for it (verifyAtCurrentTime) and nothing else vouches for a time. */
  source: 'transparency-log' | 'timestamp-authority' | 'current-time';
  time: Date;
  /** Which entry or timestamp gave it: `tlog[0]`, `timestamp[0]`. */
  from: string;
}

export interface VerificationResult {
  /** The certificate's SAN (URI, email or username), for keyless bundles. */
  identity?: string;
  /** The OIDC issuer recorded in the certificate. */
  issuer?: string;
  /** The earliest verified time: when the signature is known to have existed (none for a managed-key bundle without one). */
  signingTime: Date | undefined;
  verifiedTimes: VerifiedTime[];
  bundleVersion: string;
  content: 'messageSignature' | 'dsseEnvelope';
  /** Decoded Sigstore certificate extensions, by name (issuer, githubWorkflowRepository, ...). */
  extensions?: Record<string, string>;
  certificate?: { serial: string; notBefore: Date; notAfter: Date; issuer: string };
  /** Managed-key bundles: base64 SHA-256 of the key's SPKI (the usual bundle hint). */
  publicKeyId?: string;
  payloadType?: string;
  predicateType?: string;
  tlogEntries: { logIndex: string; logId: string; kindVersion: string }[];
  /** Every check with its expected and actual values. */
  checks: CheckResult[];
}

interface Signer {
  key: PublicKeyInfo;
  certificate?: Certificate;
  managedKeyDer?: Buffer;
}

/**
 * A verification in two phases. `startPipeline` runs the steps that need no trust in the
 * certificate chain yet (content, verified times, key material, log entries, signature);
 * `finish` validates the chain at every verified time, the SCTs and the policy. The async
 * API runs the leaf certificate's signature check in the thread pool between the two.
 */
export interface PipelineRun {
  /** The bundle's leaf certificate, when it has one (parsed, not yet trusted). */
  leaf: Certificate | undefined;
  finish(): VerificationResult;
}

/** Runs every step; throws a VerificationError (or FormatError for broken input) on the first failure. */
export function runPipeline(
  bundle: Bundle,
  artifact: Artifact | undefined,
  policy: CompiledPolicy,
  trust: TrustMaterial,
  log = new CheckLog(),
): VerificationResult {
  return startPipeline(bundle, artifact, policy, trust, log).finish();
}

/** `leaf` may be given already parsed (the async API has started checking its signature). */
export function startPipeline(
  bundle: Bundle,
  artifact: Artifact | undefined,
  policy: CompiledPolicy,
  trust: TrustMaterial,
  log = new CheckLog(),
  leaf?: Certificate,
): PipelineRun {
  const version = bundleVersion(bundle);
  log.pass('bundle.format', undefined, bundle.mediaType);
  const content = signedContent(log, bundle);
  const entries = bundle.verificationMaterial!.tlogEntries;

  // Key material: the managed key, or the leaf certificate (its trust is checked in finish()).
  const signer = keyMaterial(log, bundle, trust, policy, leaf);
  if (signer.certificate) {
    content.certificateDer = signer.certificate.der;
    content.certificateSpkiDer = signer.certificate.spkiDer;
  } else content.publicKeyDer = signer.managedKeyDer;

  // Signature and artifact binding first, in the order a person reasons: is this the
  // artifact and does the signature hold, before when it was made (a tampered signature
  // is a signature problem, even though the timestamp over it then fails too).
  const dsseFacts = checkSignature(log, content, signer, artifact, policy);

  // Verified times: RFC 3161 timestamps and integrated times with a valid SET.
  const times = verifiedTimes(log, bundle, entries, content, trust, policy);

  // Transparency-log entries: inclusion and body consistency.
  const tlogEntries = checkEntries(log, entries, content, trust, times, policy);

  return {
    leaf: signer.certificate,
    finish: () => {
      // Certificate chain at every verified time, SCTs, then the identity policy.
      const identity = signer.certificate
        ? certificateTrust(log, signer.certificate, trust, times, entries, policy)
        : managedKeyPolicy(log, policy);
      return verificationResult(log, version, times, content, signer, tlogEntries, dsseFacts, identity);
    },
  };
}

/** What a certificate bundle says about its signer, once the certificate is trusted. */
interface SignerIdentity {
  identity?: string;
  issuer?: string;
  extensions?: Record<string, string>;
}

/** Steps 6 and 7 for a certificate bundle: chain and SCTs, integrated times, the given key, the identity policy. */
function certificateTrust(
  log: CheckLog,
  cert: Certificate,
  trust: TrustMaterial,
  times: VerifiedTime[],
  entries: TransparencyLogEntry[],
  policy: CompiledPolicy,
): SignerIdentity {
  certificateChecks(log, cert, trust, times, policy);
  integratedTimeChecks(log, cert, entries);
  givenKeyCheck(log, cert, policy);
  const identity = cert.sigstoreIdentity;
  const issuer = cert.oidcIssuer;
  checkPolicy(log, policy, { san: identity, issuer, extensions: cert.sigstoreExtensions });
  return { identity, issuer, extensions: cert.sigstoreExtensionsByName };
}

/**
 * A key given for a certificate bundle: the certificate must carry that key. Without
 * one, the policy must name the expected identity and issuer.
 */
function givenKeyCheck(log: CheckLog, cert: Certificate, policy: CompiledPolicy): void {
  const givenKey = policy.source.publicKey;
  if (givenKey !== undefined) {
    let der: Buffer;
    try {
      der = publicKeyDer(parsePublicKey(givenKey, 'publicKey').key);
    } catch (e) {
      return failWith(log, VerifyCode.KEY_MISMATCH, 'key', e);
    }
    if (!der.equals(cert.spkiDer))
      log.fail(VerifyCode.KEY_MISMATCH, 'key', 'the certificate does not carry the given public key', der, cert.spkiDer);
    log.pass('key', 'the given public key', 'the certificate key');
  } else if (!policy.identity || !policy.issuer) {
    throw new KeylessError(
      VerifyCode.POLICY_INVALID,
      'policy: a certificate bundle needs the expected identity and OIDC issuer (exact or regexp)',
      { check: 'policy' },
    );
  }
}

/** Step 7 for a managed-key bundle: it carries no identity, so an identity policy cannot hold. */
function managedKeyPolicy(log: CheckLog, policy: CompiledPolicy): SignerIdentity {
  if (policy.identity || policy.issuer || policy.extensions.length > 0) {
    log.fail(
      VerifyCode.POLICY_IDENTITY_MISMATCH,
      'policy.identity',
      'the bundle was signed with a managed key and carries no identity',
      policy.identity?.text ?? policy.issuer?.text,
      null,
    );
  }
  return {};
}

function verificationResult(
  log: CheckLog,
  version: string,
  times: VerifiedTime[],
  content: SignedContent,
  signer: Signer,
  tlogEntries: VerificationResult['tlogEntries'],
  dsseFacts: PayloadFacts,
  { identity, issuer, extensions }: SignerIdentity,
): VerificationResult {
  // The current time (verifyAtCurrentTime) says nothing about when the signature was made.
  const observed = times.filter((t) => t.source !== 'current-time');
  const signingTime = observed.length === 0 ? undefined : observed.reduce((a, b) => (b.time < a ? b.time : a), observed[0]!.time);
  const result: VerificationResult = {
    identity,
    issuer,
    signingTime,
    verifiedTimes: times,
    bundleVersion: version,
    content: content.dsse ? 'dsseEnvelope' : 'messageSignature',
    extensions,
    tlogEntries,
    checks: log.results,
    ...dsseFacts,
  };
  if (signer.certificate) {
    const c = signer.certificate;
    result.certificate = { serial: c.serial, notBefore: c.notBefore, notAfter: c.notAfter, issuer: c.issuer.toString() };
  } else {
    result.publicKeyId = sha256(signer.managedKeyDer!).toString('base64');
  }
  return result;
}

function signedContent(log: CheckLog, bundle: Bundle): SignedContent {
  const c = bundle.content;
  if (c?.$case === 'messageSignature') {
    const md = c.messageSignature.messageDigest;
    const algorithm = md ? nodeHashName(md.algorithm) : undefined;
    if (!md || !algorithm) {
      log.fail(
        VerifyCode.DIGEST_MISMATCH,
        'bundle.message-digest',
        'the message digest algorithm is not supported',
        'SHA2_256, SHA2_384 or SHA2_512',
        md?.algorithm ?? null,
      );
    }
    return { signature: c.messageSignature.signature, messageDigest: { algorithm, digest: md.digest } };
  }
  if (c?.$case === 'dsseEnvelope') {
    const env = c.dsseEnvelope;
    return {
      signature: env.signatures[0]!.sig,
      dsse: { payloadType: env.payloadType, payload: env.payload, pae: preAuthEncoding(env.payloadType, env.payload) },
    };
  }
  throw new KeylessError('FORMAT_INVALID', 'bundle has neither messageSignature nor dsseEnvelope', { check: 'bundle.format' });
}

function verifiedTimes(
  log: CheckLog,
  bundle: Bundle,
  entries: TransparencyLogEntry[],
  content: SignedContent,
  trust: TrustMaterial,
  policy: CompiledPolicy,
): VerifiedTime[] {
  const signed = timestampTimes(log, bundle, content, trust);
  const signedThreshold = policy.source.signedTimestampThreshold ?? 0;
  if (signed.length < signedThreshold) {
    log.fail(VerifyCode.TIMESTAMP_MISSING, 'signed-timestamps', 'not enough RFC 3161 timestamps', signedThreshold, signed.length);
  }
  if (signedThreshold > 0) log.pass('signed-timestamps', signedThreshold, signed.length);
  const times = [...signed, ...integratedTimes(log, entries, trust)];
  if (times.length === 0 && policy.source.verifyAtCurrentTime === true) {
    // The caller accepted that nothing vouches for when the signature was made.
    times.push({ source: 'current-time', time: new Date(), from: 'current-time' });
  }
  // A certificate is only meaningful at a verified time, so certificate bundles need at
  // least one. A managed key has no validity window: its bundles may rest on the log's
  // inclusion proof alone (conformance intoto-canonical-log-entry).
  const certificateBundle = bundle.verificationMaterial!.content?.$case !== 'publicKey';
  const threshold = certificateBundle ? Math.max(1, policy.source.timestampThreshold ?? 1) : (policy.source.timestampThreshold ?? 0);
  if (times.length < threshold) {
    log.fail(
      VerifyCode.TIMESTAMP_MISSING,
      'verified-times',
      'not enough verified times (a Rekor v2 entry needs an RFC 3161 timestamp)',
      threshold,
      times.length,
    );
  }
  log.pass('verified-times', threshold, times.length);
  return times;
}

/** RFC 3161 timestamps over the signature from a trusted TSA. */
function timestampTimes(log: CheckLog, bundle: Bundle, content: SignedContent, trust: TrustMaterial): VerifiedTime[] {
  const times: VerifiedTime[] = [];
  const stamps = bundle.verificationMaterial!.timestampVerificationData?.rfc3161Timestamps ?? [];
  // A timestamp is identified by what its TSA signed (the TSTInfo), not by the token's
  // bytes: one token re-encoded (other certificates, another SignedData layout) is still
  // one piece of evidence and must not count twice towards timestampThreshold.
  const seen = new Set<string>();
  stamps.forEach((ts, i) => {
    const check = `timestamp[${i}]`;
    let time: Date;
    let signed: Uint8Array;
    try {
      const r = verifyTimestampToken(ts.signedTimestamp, content.signature, trust.x509.timestampAuthorities);
      time = r.genTime;
      signed = r.tstInfo.der;
    } catch (e) {
      return failWith(log, VerifyCode.TIMESTAMP_INVALID, check, e);
    }
    const key = sha256(signed).toString('hex');
    if (seen.has(key))
      log.fail(VerifyCode.TIMESTAMP_INVALID, check, 'the same timestamp appears twice (one TSTInfo)', 'distinct timestamps', 'duplicate');
    seen.add(key);
    log.pass(check, 'a token from a trusted TSA over the signature', time);
    times.push({ source: 'timestamp-authority', time, from: check });
  });
  return times;
}

/** Integrated times of Rekor v1 entries with a valid signed entry timestamp. */
function integratedTimes(log: CheckLog, entries: TransparencyLogEntry[], trust: TrustMaterial): VerifiedTime[] {
  const times: VerifiedTime[] = [];
  entries.forEach((entry, i) => {
    // Integrated times count only with a verified SET (Rekor v2 entries carry none).
    if (!entry.inclusionPromise) return;
    const name = entryName(i);
    if (isRekorV2(entry)) {
      // Rekor v2 logs sign no entry timestamps; sigstore-go cannot verify one and drops the entry.
      log.fail(
        VerifyCode.TLOG_SET_INVALID,
        `${name}.signed-entry-timestamp`,
        'a Rekor v2 entry carries no signed entry timestamp',
        'no inclusion promise',
        'an inclusion promise',
      );
    }
    if (BigInt(entry.integratedTime) <= 0n) {
      log.fail(
        VerifyCode.TLOG_SET_INVALID,
        `${name}.signed-entry-timestamp`,
        'the entry has a signed entry timestamp but no integrated time',
        'an integrated time',
        entry.integratedTime,
      );
    }
    const logs = logsForEntry(log, trust, entry, name);
    times.push({ source: 'transparency-log', time: verifySet(log, logs, entry, name), from: name });
  });
  return times;
}

function keyMaterial(log: CheckLog, bundle: Bundle, trust: TrustMaterial, policy: CompiledPolicy, parsedLeaf?: Certificate): Signer {
  const vm = bundle.verificationMaterial!.content;
  return vm?.$case === 'publicKey' ? managedKey(log, vm.publicKey.hint, policy) : leafCertificateKey(log, vm, trust, parsedLeaf);
}

/** A managed-key bundle: the key comes from the caller, never from the bundle. */
function managedKey(log: CheckLog, hint: string | undefined, policy: CompiledPolicy): Signer {
  const given = policy.source.publicKey;
  if (given === undefined) {
    log.fail(
      VerifyCode.KEY_REQUIRED,
      'key',
      'the bundle was signed with a managed key, but no public key was given',
      'a public key (--key)',
      null,
    );
  }
  let key: PublicKeyInfo;
  try {
    key = parsePublicKey(given, 'publicKey');
  } catch (e) {
    return failWith(log, VerifyCode.KEY_MISMATCH, 'key', e);
  }
  log.pass('key', 'the given public key', key.algorithm, hint ? `bundle hint ${hint}` : undefined);
  return { key, managedKeyDer: publicKeyDer(key.key) };
}

type CertificateMaterial = Exclude<NonNullable<Bundle['verificationMaterial']>['content'], { $case: 'publicKey' }>;

/** A certificate bundle: its leaf's key (the leaf's trust is checked in finish()); no root may come with it. */
function leafCertificateKey(log: CheckLog, vm: CertificateMaterial | undefined, trust: TrustMaterial, parsedLeaf?: Certificate): Signer {
  const ders =
    vm?.$case === 'certificate'
      ? [vm.certificate.rawBytes]
      : vm?.$case === 'x509CertificateChain'
        ? vm.x509CertificateChain.certificates.map((c) => c.rawBytes)
        : [];
  if (ders.length === 0)
    log.fail(VerifyCode.CERTIFICATE_INVALID, 'certificate', 'the bundle carries no certificate', 'a leaf certificate', 'none');
  if (ders.length > MAX_BUNDLE_CHAIN) {
    log.fail(
      VerifyCode.CERTIFICATE_INVALID,
      'certificate',
      'the bundle carries too many certificates',
      `at most ${MAX_BUNDLE_CHAIN}`,
      ders.length,
    );
  }
  const certs: Certificate[] = [];
  ders.forEach((der, i) => {
    try {
      // The leaf comes from the root's memo: a batch's bundles share one certificate.
      certs.push(i === 0 ? (parsedLeaf?.der.equals(der) ? parsedLeaf : trust.leafCertificate(der)) : parseCertificate(der));
    } catch (e) {
      failWith(log, VerifyCode.CERTIFICATE_INVALID, `certificate[${i}]`, e);
    }
  });
  // Trust comes only from the trusted root; a bundle carrying a root (self-signed or
  // a trust anchor) is refused outright.
  certs.forEach((c, i) => {
    const isAnchor = trust.isTrustedCaCertificate(c.der) && (c.subject.equals(c.issuer) || i === 0);
    if (isAnchor || (c.subject.equals(c.issuer) && c.verifySignedBy(c))) {
      log.fail(
        VerifyCode.CERTIFICATE_ROOT_IN_BUNDLE,
        'certificate.no-root',
        'the bundle carries a root or trusted CA certificate',
        'leaf and intermediates only',
        `certificate[${i}] ${c.subject}`,
      );
    }
  });
  const leaf = certs[0]!;
  let key: PublicKeyInfo;
  try {
    key = describeKey(leaf.publicKey, 'certificate.publicKey');
  } catch (e) {
    return failWith(log, VerifyCode.CERTIFICATE_INVALID, 'certificate.key', e);
  }
  return { key, certificate: leaf };
}

/** The chain to a trusted CA at every verified time, then the embedded SCTs. */
function certificateChecks(log: CheckLog, leaf: Certificate, trust: TrustMaterial, times: VerifiedTime[], policy: CompiledPolicy): void {
  const issuer = chainAtEveryTime(log, leaf, trust, times);
  sctChecks(log, leaf, issuer, trust, policy);
}

/** The leaf chains to a trusted CA at each verified time; returns the issuing CA certificate. */
function chainAtEveryTime(log: CheckLog, leaf: Certificate, trust: TrustMaterial, times: VerifiedTime[]): Certificate | undefined {
  let issuer: Certificate | undefined;
  for (const t of times) {
    const check = `certificate.chain@${t.from}`;
    try {
      const chain = verifyCertificateChain(leaf, trust.x509.certificateAuthorities, t.time);
      issuer = chain.path[1];
    } catch (e) {
      const kind = chainFailureKind(e);
      failWith(
        log,
        kind === 'time'
          ? VerifyCode.CERTIFICATE_NOT_VALID_AT_TIME
          : kind === 'untrusted'
            ? VerifyCode.CERTIFICATE_UNTRUSTED
            : VerifyCode.CERTIFICATE_INVALID,
        check,
        e,
      );
    }
    log.pass(check, `valid at ${t.time.toISOString()}`, `${leaf.notBefore.toISOString()} .. ${leaf.notAfter.toISOString()}`);
  }
  return issuer;
}

/** Embedded SCTs from trusted CT logs, at least the policy's threshold. */
function sctChecks(log: CheckLog, leaf: Certificate, issuer: Certificate | undefined, trust: TrustMaterial, policy: CompiledPolicy): void {
  const threshold = policy.source.ctlogThreshold ?? 1;
  if (threshold > 0) {
    try {
      const scts = trust.verifiedScts(leaf, issuer!, threshold);
      log.pass('certificate.sct', threshold, scts.length);
    } catch (e) {
      failWith(log, VerifyCode.SCT_INVALID, 'certificate.sct', e);
    }
  }
}

/**
 * Every non-zero integrated time must fall inside the leaf's validity, signed or not
 * (sigstore-go does the same): an entry logged outside the certificate's ten minutes
 * was not made with this certificate, even when only a timestamp vouches for the time.
 */
function integratedTimeChecks(log: CheckLog, leaf: Certificate, entries: TransparencyLogEntry[]): void {
  entries.forEach((entry, i) => {
    let seconds: bigint;
    try {
      seconds = BigInt(entry.integratedTime);
    } catch {
      return log.fail(
        VerifyCode.CERTIFICATE_NOT_VALID_AT_TIME,
        `${entryName(i)}.integrated-time`,
        'the integrated time is not a number',
        'unix seconds',
        entry.integratedTime,
      );
    }
    if (seconds === 0n) return;
    const at = new Date(Number(seconds) * 1000);
    if (!leaf.validAt(at)) {
      log.fail(
        VerifyCode.CERTIFICATE_NOT_VALID_AT_TIME,
        `${entryName(i)}.integrated-time`,
        'the certificate is not valid at the integrated time of the log entry',
        `${leaf.notBefore.toISOString()} .. ${leaf.notAfter.toISOString()}`,
        Number.isNaN(at.getTime()) ? entry.integratedTime : at,
      );
    }
  });
}

function checkEntries(
  log: CheckLog,
  entries: TransparencyLogEntry[],
  content: SignedContent,
  trust: TrustMaterial,
  times: VerifiedTime[],
  policy: CompiledPolicy,
): VerificationResult['tlogEntries'] {
  // An entry is identified by its log and its leaf: the entry's logIndex is not always
  // signed (a Rekor v1 entry with a proof but no SET proves only the shard's index), so
  // one entry copied under another index must not count twice towards tlogThreshold.
  const seen = new Set<string>();
  const out: VerificationResult['tlogEntries'] = [];
  entries.forEach((entry, i) => {
    const name = entryName(i);
    const logKey = entry.logId!.keyId.toString('base64');
    for (const id of [`${logKey}#${entry.logIndex}`, `${logKey}#leaf:${leafHash(entry.canonicalizedBody).toString('hex')}`]) {
      if (seen.has(id))
        log.fail(
          VerifyCode.TLOG_DUPLICATE,
          `${name}.unique`,
          'two entries with the same log and index, or the same log and leaf',
          'distinct entries',
          id,
        );
      seen.add(id);
    }
    entryInclusion(log, entry, trust, times, name);
    const kv = checkEntryBody(log, entry, content, name);
    out.push({ logIndex: entry.logIndex, logId: entry.logId!.keyId.toString('base64'), kindVersion: kv });
  });
  const threshold = policy.source.tlogThreshold ?? 1;
  if (out.length < threshold) {
    log.fail(VerifyCode.TLOG_THRESHOLD, 'tlog.threshold', 'not enough transparency-log entries', threshold, out.length);
  }
  log.pass('tlog.threshold', threshold, out.length);
  return out;
}

/** The entry is in a trusted log: an inclusion proof against a signed checkpoint, or (Rekor v1) a promise. */
function entryInclusion(log: CheckLog, entry: TransparencyLogEntry, trust: TrustMaterial, times: VerifiedTime[], name: string): void {
  const logs = logsForEntry(log, trust, entry, name);
  if (!entry.inclusionProof) {
    if (!entry.inclusionPromise) {
      log.fail(
        VerifyCode.TLOG_INCLUSION_MISSING,
        `${name}.inclusion`,
        'the entry has neither an inclusion proof nor a promise',
        'an inclusion proof',
        null,
      );
    }
    if (isRekorV2(entry)) {
      // Rekor v2 gives no promise: the proof is the only evidence of inclusion.
      log.fail(
        VerifyCode.TLOG_INCLUSION_MISSING,
        `${name}.inclusion`,
        'a Rekor v2 entry needs an inclusion proof',
        'an inclusion proof',
        null,
      );
    }
  } else {
    const trusted = verifyInclusionProof(log, trust, logs, entry, name);
    if (isRekorV2(entry) && entry.logIndex !== entry.inclusionProof.logIndex) {
      // Rekor v2 logs are not sharded: the entry's index is the proven one (sigstore-go proves at logIndex).
      log.fail(
        VerifyCode.TLOG_INCLUSION_INVALID,
        `${name}.log-index`,
        'the entry index differs from the proven index',
        entry.inclusionProof.logIndex,
        entry.logIndex,
      );
    }
    if (!entry.inclusionPromise) {
      // No integrated time to check the key against: the log key must be valid at every verified time.
      // Any trusted instance of the same key may vouch (a log listed again with another window).
      const sameKey = logs.filter((l) => l.rawKey.equals(trusted.rawKey));
      for (const t of times) {
        if (!sameKey.some((l) => periodContains(l.validFor, t.time.getTime()))) {
          log.fail(
            VerifyCode.TLOG_KEY_NOT_VALID_AT_TIME,
            `${name}.log-validity`,
            `the log key is not valid at the time from ${t.from}`,
            describePeriod(trusted.validFor),
            t.time,
          );
        }
      }
    }
  }
}

/** Rekor v2 entry kinds (intoto 0.0.2 is a Rekor v1 kind). */
function isRekorV2(entry: TransparencyLogEntry): boolean {
  const { kind, version } = entry.kindVersion!;
  return version === '0.0.2' && (kind === 'hashedrekord' || kind === 'dsse');
}

const SUBJECT_DIGESTS: readonly HashAlgorithm[] = ['sha256', 'sha384', 'sha512'];

/** Old clients signed with SHA-256 whatever the curve; sigstore-go still accepts that for P-384/P-521 keys. */
function compatSha256(key: PublicKeyInfo, message: Uint8Array, signature: Uint8Array): boolean {
  return (key.algorithm === 'ecdsa-p384' || key.algorithm === 'ecdsa-p521') && verifySignature(key, message, signature, 'sha256');
}

/** What the signed payload says of itself: the DSSE payload type and in-toto predicate type. */
type PayloadFacts = { payloadType?: string; predicateType?: string };

/**
 * Step 3: the signature, and what binds it to the artifact (digest, DSSE payload or in-toto
 * subject). No artifact: the policy's checkClaims is false, and a DSSE envelope's binding is not checked.
 */
function checkSignature(
  log: CheckLog,
  content: SignedContent,
  signer: Signer,
  artifact: Artifact | undefined,
  policy: CompiledPolicy,
): PayloadFacts {
  const md = content.messageDigest;
  return md
    ? messageSignatureChecks(log, md, content.signature, signer, artifact, policy)
    : dsseChecks(log, content, signer, artifact, policy);
}

/** A message signature: the artifact's digest is the bundle's, and the signature verifies over the artifact. */
function messageSignatureChecks(
  log: CheckLog,
  messageDigest: NonNullable<SignedContent['messageDigest']>,
  signature: Buffer,
  signer: Signer,
  artifact: Artifact | undefined,
  policy: CompiledPolicy,
): PayloadFacts {
  if (policy.source.payloadType !== undefined) {
    log.fail(
      VerifyCode.PAYLOAD_TYPE_MISMATCH,
      'dsse.payload-type',
      'an attestation needs a DSSE envelope, the bundle has a message signature',
      policy.source.payloadType,
      'messageSignature',
    );
  }
  const { algorithm, digest } = messageDigest;
  if (!artifact) {
    log.fail(
      VerifyCode.DIGEST_MISMATCH,
      'artifact.digest',
      'a message signature is over the artifact itself: it cannot be verified without the artifact (checkClaims false is for DSSE envelopes)',
      'the artifact',
      null,
    );
  }
  const actual = artifact.digest(algorithm);
  if (!actual) {
    log.fail(
      VerifyCode.DIGEST_MISMATCH,
      'artifact.digest',
      `the bundle's digest is ${algorithm}, but only a ${artifact.knownAlgorithm()} digest of the artifact was given`,
      algorithm,
      artifact.knownAlgorithm(),
    );
  }
  if (!actual.equals(digest))
    log.fail(VerifyCode.DIGEST_MISMATCH, 'artifact.digest', 'the artifact digest differs from the bundle', digest, actual);
  log.pass('artifact.digest', digest, actual);
  const ok = artifact.bytes
    ? verifySignature(signer.key, artifact.bytes, signature, algorithm)
    : verifyDigestSignature(signer.key.key, actual, signature, algorithm);
  if (!ok)
    log.fail(
      VerifyCode.SIGNATURE_INVALID,
      'signature',
      'the signature does not verify over the artifact with the signing key',
      'a valid signature',
      'invalid signature',
    );
  log.pass('signature', 'a valid signature', 'verified', artifact.bytes ? 'over the artifact' : 'over the artifact digest');
  return {};
}

/** A DSSE envelope: the signature over the PAE, the payload type, then the payload is the artifact or names it as a subject. */
function dsseChecks(
  log: CheckLog,
  content: SignedContent,
  signer: Signer,
  artifact: Artifact | undefined,
  policy: CompiledPolicy,
): PayloadFacts {
  const dsse = content.dsse!;
  if (!verifySignature(signer.key, dsse.pae, content.signature) && !compatSha256(signer.key, dsse.pae, content.signature)) {
    log.fail(
      VerifyCode.SIGNATURE_INVALID,
      'signature',
      'the DSSE signature does not verify over the PAE with the signing key',
      'a valid signature',
      'invalid signature',
    );
  }
  log.pass('signature', 'a valid signature', 'verified', 'over the DSSE PAE');
  const wantType = policy.source.payloadType;
  if (wantType !== undefined && wantType !== dsse.payloadType) {
    log.fail(VerifyCode.PAYLOAD_TYPE_MISMATCH, 'dsse.payload-type', 'the envelope has another payload type', wantType, dsse.payloadType);
  }
  if (dsse.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    // A plain DSSE payload is the artifact itself.
    if (!artifact) {
      log.pass('dsse.payload', undefined, 'not compared with an artifact', 'checkClaims false');
      return { payloadType: dsse.payloadType };
    }
    const alg = artifact.knownAlgorithm();
    const payloadDigest = digest(alg, dsse.payload);
    const have = artifact.digest(alg)!;
    if (!have.equals(payloadDigest))
      log.fail(VerifyCode.SUBJECT_MISMATCH, 'dsse.payload', 'the envelope payload is not the artifact', payloadDigest, have);
    log.pass('dsse.payload', 'the artifact', 'the envelope payload');
    return { payloadType: dsse.payloadType };
  }
  return { payloadType: dsse.payloadType, predicateType: statementChecks(log, dsse.payload, artifact, policy) };
}

/** An in-toto statement: one subject carries the artifact's digest; the predicate type is the expected one. Returns the predicate type. */
function statementChecks(log: CheckLog, payload: Buffer, artifact: Artifact | undefined, policy: CompiledPolicy): string {
  let statement;
  try {
    statement = parseStatement(payload);
  } catch (e) {
    return failWith(log, VerifyCode.SUBJECT_MISMATCH, 'intoto.statement', e);
  }
  if (artifact) subjectCheck(log, statement, artifact);
  else log.pass('intoto.subject', undefined, 'not compared with an artifact', 'checkClaims false');
  const wantPredicate = policy.source.predicateType;
  if (wantPredicate !== undefined && wantPredicate !== statement.predicateType) {
    log.fail(
      VerifyCode.PAYLOAD_TYPE_MISMATCH,
      'intoto.predicate-type',
      'the statement has another predicate type',
      wantPredicate,
      statement.predicateType,
    );
  }
  return statement.predicateType;
}

/** One subject of the statement carries the artifact's digest. */
function subjectCheck(log: CheckLog, statement: ReturnType<typeof parseStatement>, artifact: Artifact): void {
  // Every digest algorithm the artifact is known by (all three when its bytes are at hand, as sigstore-go hashes with the statement's algorithms).
  let matched: string | undefined;
  const match = statement.subjects.find((s) =>
    SUBJECT_DIGESTS.some((alg) => {
      const want = s.digest[alg];
      const have = want === undefined ? undefined : artifact.digest(alg)?.toString('hex');
      if (have === undefined || want !== have) return false;
      matched = `${alg}:${have}`;
      return true;
    }),
  );
  if (!match) {
    log.fail(
      VerifyCode.SUBJECT_MISMATCH,
      'intoto.subject',
      'no subject of the statement has the artifact digest',
      statement.subjects.map(
        (s) =>
          `${s.name} ${Object.entries(s.digest)
            .map(([a, d]) => `${a}:${d}`)
            .join(' ')}`,
      ),
      artifact.describe(),
    );
  }
  log.pass('intoto.subject', matched, match.name);
}

export type { HashAlgorithm };
