// One file of `verify-blob FILE... --bundle-dir DIR`, from its paths to its verdict: read the
// bundle (size limit, document check), read or hash the artifact, verify. The same code runs
// in the main thread and in each worker of ./verify-files.worker.ts, so a worker is sent
// only paths and answers with verdicts.
import { readFileSync, statSync } from 'node:fs';
import { expectDocument } from '../documents.js';
import { unknownAuthorities } from './trust-diagnosis.js';
import { ARTIFACT_IN_MEMORY_BYTES, MAX_BUNDLE_BYTES, isDigestArgument, readArtifact, readLimited } from './verify-command.js';
import { KeylessError } from '../../core/errors.js';
import { nodeHashName, parseBundle, type Bundle } from '../../formats/index.js';
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
}

/** The digest algorithm the artifact must be hashed with when too large to keep in memory. */
function digestAlgorithm(bundleBytes: Buffer, allowCertificateChain: boolean) {
  const c = parseBundle(bundleBytes, { allowCertificateChain }).content;
  const md = c?.$case === 'messageSignature' ? c.messageSignature.messageDigest : undefined;
  return (md && nodeHashName(md.algorithm)) || 'sha256';
}

/** The size of a regular file at `path` that is small enough to be read into memory, else undefined. */
function inMemorySize(path: string): number | undefined {
  try {
    const st = statSync(path);
    return st.isFile() && st.size <= ARTIFACT_IN_MEMORY_BYTES ? st.size : undefined;
  } catch {
    return undefined; // readArtifact says what is wrong
  }
}

/** The artifact as the verifier takes it: a digest argument, the bytes of a small file, or the digest of a large one (streamed). */
async function loadArtifact(path: string, bundleBytes: Buffer, s: FileVerifySettings): Promise<ArtifactInput> {
  if (s.kind === 'attestation' && isDigestArgument(path)) return path.toLowerCase();
  if (inMemorySize(path) !== undefined) {
    try {
      // Synchronous on purpose: for a small file fs/promises costs more than the read.
      return readFileSync(path);
    } catch {
      // readArtifact says what is wrong
    }
  }
  return readArtifact(path, digestAlgorithm(bundleBytes, s.allowCertificateChain));
}

/**
 * Verifies one file of the batch; never throws: a missing or unreadable bundle or artifact is
 * that file's failed verdict. One file at a time per thread, so at most one artifact of up to
 * ARTIFACT_IN_MEMORY_BYTES is held in memory per thread (larger ones are streamed).
 */
export async function verifyFile(item: BatchItem, s: FileVerifySettings): Promise<Verdict> {
  const v: Verdict = { artifact: item.artifact, bundle: item.bundle, ok: false };
  let bundleText: string;
  const log = s.report ? new CheckLog() : undefined;
  try {
    if (item.missing !== undefined) throw new KeylessError('BUNDLE_NOT_FOUND', item.missing, { check: 'input' });
    const bytes = readLimited(item.bundle!, MAX_BUNDLE_BYTES, 'bundle');
    expectDocument(bytes, 'bundle', `bundle ${item.bundle}`);
    const artifact = await loadArtifact(item.artifact, bytes, s);
    bundleText = bytes.toString('utf8');
    try {
      const input = s.allowCertificateChain ? parseBundle(bundleText, { allowCertificateChain: true }) : bundleText;
      const { checks: _checks, ...result } = verifySync(input, artifact, s.policy, s.trustedRoot, { log });
      const { identity, issuer, signingTime, tlogEntries } = result;
      if (s.json && s.kind === 'attestation') v.statement = statementOf(bundleText);
      v.ok = true;
      // Without a report, only what a verdict line shows (less to copy across threads).
      v.result = (s.report ? result : { identity, issuer, signingTime, tlogEntries }) as unknown as Record<string, unknown>;
      v.checks = log?.results;
      return v;
    } catch (e) {
      v.error = errorRecord(e);
      v.checks = log?.results;
    }
  } catch (e) {
    v.error = errorRecord(e);
    return v;
  }
  if (!v.error.code.startsWith('POLICY_')) v.untrusted = diagnose(bundleText, s.trustedRoot);
  return v;
}

function statementOf(bundleText: string): unknown {
  const c = parseBundle(bundleText).content;
  return c?.$case === 'dsseEnvelope' ? JSON.parse(Buffer.from(c.dsseEnvelope.payload).toString('utf8')) : undefined;
}

/** Which of the bundle's authorities the trusted root does not know (only looked at for failures). */
function diagnose(bundleText: string, trustedRoot: unknown): string[] {
  let bundle: Bundle;
  try {
    bundle = parseBundle(bundleText);
  } catch {
    return [];
  }
  return unknownAuthorities(bundle, trustMaterialFor(trustedRoot ?? PRODUCTION_TRUSTED_ROOT));
}
