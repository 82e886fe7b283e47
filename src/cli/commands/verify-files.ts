// One file of `verify-blob FILE... --bundle-dir DIR`, from its paths to its verdict: read and
// parse the bundle (size limit; what the file is, only when it is no bundle), read or hash the artifact, verify. The same code runs
// in the main thread and in each worker of ./verify-files.worker.ts, so a worker is sent
// only paths and answers with verdicts.
import { expectDocument } from '../documents.js';
import { unknownAuthorities } from './trust-diagnosis.js';
import {
  ARTIFACT_IN_MEMORY_BYTES,
  MAX_BUNDLE_BYTES,
  artifactAlgorithm,
  isDigestArgument,
  readArtifact,
  readLimited,
  readSmallFile,
} from './verify-command.js';
import { KeylessError } from '../../core/errors.js';
import type { HashAlgorithm } from '../../core/hash.js';
import { parseBundle, type Bundle } from '../../formats/index.js';
import {
  CheckLog,
  errorRecord,
  trustMaterialFor,
  verifySync,
  PRODUCTION_TRUSTED_ROOT,
  type ArtifactInput,
  type CheckResult,
  type ErrorRecord,
  type VerificationPolicy,
} from '../../verify/index.js';

/** One file to verify: its bundle's path, or why there is none. */
export interface BatchItem {
  artifact: string;
  bundle?: string;
  missing?: string;
}

/** One file's verdict, as printed and as reported in the JSON array. */
export interface Verdict {
  artifact: string;
  bundle: string | undefined;
  ok: boolean;
  result?: Record<string, unknown>;
  statement?: unknown;
  error?: ErrorRecord;
  /** Why the bundle's authorities are unknown to the trusted root in use (failures only). */
  untrusted?: string[];
  checks?: CheckResult[] | undefined;
}

/** What every file of a batch is verified with (a worker gets it once, as its workerData). */
export interface FileVerifySettings {
  policy: VerificationPolicy;
  /** The parsed trusted root; undefined for the built-in public-good root. */
  trustedRoot: unknown;
  kind: 'blob' | 'attestation';
  /** Keep the whole result and every check (--json, -d), not only what a verdict line shows. */
  report: boolean;
  /** --json of verify-blob-attestation reports the statement. */
  json: boolean;
  allowCertificateChain: boolean;
  /** verify-blob-attestation --digestAlg: how a file too large to keep in memory is hashed to match a subject. */
  digestAlg?: HashAlgorithm;
}

/** The artifact as the verifier takes it: none when claims are not checked, a digest argument, the bytes of a small file (one read), or the digest of a large one (streamed). */
async function loadArtifact(path: string, bundle: Bundle, s: FileVerifySettings): Promise<ArtifactInput | undefined> {
  // --check-claims=false: the file is not read (cosign does not read it either).
  if (s.policy.checkClaims === false) return undefined;
  if (s.kind === 'attestation' && isDigestArgument(path)) return path.toLowerCase();
  try {
    // Synchronous on purpose: for a small file fs/promises costs more than the read.
    const read = readSmallFile(path, ARTIFACT_IN_MEMORY_BYTES);
    if (Buffer.isBuffer(read)) return read;
  } catch {
    // readArtifact says what is wrong
  }
  // Too large to keep in memory: hashed as --digestAlg says, else as the bundle's message digest.
  return readArtifact(path, s.digestAlg ?? artifactAlgorithm(bundle));
}

/**
 * The bundle, parsed once from its bytes. Only when that fails is the file examined for
 * what it is instead (not JSON, a trusted root, ...): that check reads every byte again.
 */
function parseBundleFile(bytes: Buffer, path: string, s: FileVerifySettings, log: CheckLog | undefined): Bundle {
  try {
    return parseBundle(bytes, { allowCertificateChain: s.allowCertificateChain });
  } catch (e) {
    expectDocument(bytes, 'bundle', `bundle ${path}`);
    log?.record('bundle.format', e);
    throw e;
  }
}

/**
 * Verifies one file of the batch; never throws: a missing or unreadable bundle or artifact is
 * that file's failed verdict. One file at a time per thread, so at most one artifact of up to
 * ARTIFACT_IN_MEMORY_BYTES is held in memory per thread (larger ones are streamed).
 */
export async function verifyFile(item: BatchItem, s: FileVerifySettings): Promise<Verdict> {
  const v: Verdict = { artifact: item.artifact, bundle: item.bundle, ok: false };
  const log = s.report ? new CheckLog() : undefined;
  let bundle: Bundle;
  try {
    if (item.missing !== undefined) throw new KeylessError('BUNDLE_NOT_FOUND', item.missing, { check: 'input' });
    bundle = parseBundleFile(readLimited(item.bundle!, MAX_BUNDLE_BYTES, 'bundle'), item.bundle!, s, log);
  } catch (e) {
    v.error = errorRecord(e);
    v.checks = log?.results;
    return v;
  }
  try {
    const artifact = await loadArtifact(item.artifact, bundle, s);
    const { checks: _checks, ...result } = verifySync(bundle, artifact, s.policy, s.trustedRoot, { log });
    const { identity, issuer, signingTime, tlogEntries } = result;
    if (s.json && s.kind === 'attestation') v.statement = statementOf(bundle);
    v.ok = true;
    // Without a report, only what a verdict line shows (less to copy across threads).
    v.result = (s.report ? result : { identity, issuer, signingTime, tlogEntries }) as unknown as Record<string, unknown>;
    v.checks = log?.results;
    return v;
  } catch (e) {
    v.error = errorRecord(e);
    v.checks = log?.results;
  }
  if (!v.error.code.startsWith('POLICY_') && v.error.check !== 'input') v.untrusted = diagnose(bundle, s.trustedRoot);
  return v;
}

function statementOf(bundle: Bundle): unknown {
  const c = bundle.content;
  return c?.$case === 'dsseEnvelope' ? JSON.parse(Buffer.from(c.dsseEnvelope.payload).toString('utf8')) : undefined;
}

/** Which of the bundle's authorities the trusted root does not know (only looked at for failures). */
function diagnose(bundle: Bundle, trustedRoot: unknown): string[] {
  return unknownAuthorities(bundle, trustMaterialFor(trustedRoot ?? PRODUCTION_TRUSTED_ROOT));
}
