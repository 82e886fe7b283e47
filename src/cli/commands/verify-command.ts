// The verify commands' implementation (loaded lazily by ./verify.ts through ./verify-loader.ts):
// read the inputs with size limits, run the library's verifier, print one line or a JSON report.
import { closeSync, constants as fsConstants, createReadStream, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { createHash, createPublicKey, type Hash } from 'node:crypto';
import { fsProblem } from '../fs-problem.js';
import { TRUSTED_ROOT_ENV } from '../env.js';
import { expectDocument } from '../documents.js';
import { printable, printableJson } from '../printable.js';
import { unknownAuthorities } from './trust-diagnosis.js';
import { KeylessError, isKeylessError } from '../../core/errors.js';
import { UsageError } from '../usage-error.js';
import { expandPredicateType, nodeHashName, parseBundle, type Bundle } from '../../formats/index.js';
import type { HashAlgorithm } from '../../core/hash.js';
import {
  display,
  verifySync,
  compilePolicy,
  CheckLog,
  type ArtifactInput,
  type ExtensionPolicyName,
  type VerificationPolicy,
  type VerificationResult,
  trustMaterialFor,
  PRODUCTION_TRUSTED_ROOT,
} from '../../verify/index.js';

/** No real bundle comes near these; larger files are refused before reading. */
export const MAX_BUNDLE_BYTES = 32 * 1024 * 1024;
export const MAX_TRUSTED_ROOT_BYTES = 16 * 1024 * 1024;
export const MAX_KEY_BYTES = 1024 * 1024;

export interface VerifyCommandOptions {
  bundle: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  certificateGithubWorkflowTrigger?: string;
  certificateGithubWorkflowSha?: string;
  certificateGithubWorkflowName?: string;
  certificateGithubWorkflowRepository?: string;
  certificateGithubWorkflowRef?: string;
  key?: string;
  trustedRoot?: string;
  staging?: boolean;
  json?: boolean;
  /** verify-blob-attestation: predicate type (cosign short name or URI). */
  type?: string;
  /** cosign's trust relaxations and requirements. */
  insecureIgnoreTlog?: boolean;
  insecureIgnoreSct?: boolean;
  useSignedTimestamps?: boolean;
  allowCertificateChain?: boolean;
  /** `-d, --verbose`: every check on stderr. */
  verbose?: boolean;
  /** verify-blob-attestation: a subject's digest instead of a file (cosign's --digest, --digestAlg). */
  digest?: string;
  digestAlg?: string;
  /** verify-blob-attestation: false verifies the envelope without matching its subjects (cosign's --check-claims). */
  checkClaims?: boolean;
}

export { UsageError } from '../usage-error.js';

/**
 * A regular file of at most `limit` bytes, read with one open, fstat and read (no separate
 * stat: a batch of thousands of files feels each system call), else what it is instead.
 * Opened non-blocking, so a FIFO is refused instead of waiting for a writer. Throws fs errors.
 */
export function readSmallFile(path: string, limit: number): Buffer | { isFile: boolean; size: number } {
  const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > limit) return { isFile: st.isFile(), size: st.size };
    const bytes = Buffer.allocUnsafe(st.size);
    let n = 0;
    for (let r = -1; n < bytes.length && r !== 0; n += r) r = readSync(fd, bytes, n, bytes.length - n, n);
    return n === bytes.length ? bytes : bytes.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function readLimited(path: string, limit: number, what: string): Buffer {
  let read;
  try {
    read = readSmallFile(path, limit);
  } catch (e) {
    throw new KeylessError('FILE_UNREADABLE', `cannot read ${what} ${path}: ${fsProblem(e)}`, { check: 'input' });
  }
  if (Buffer.isBuffer(read)) return read;
  if (!read.isFile)
    throw new KeylessError('FILE_UNREADABLE', `${what} ${path} is not a regular file (a directory or a device)`, { check: 'input' });
  throw new KeylessError('INPUT_TOO_LARGE', `${what} ${path} is ${read.size} bytes, more than the ${limit}-byte limit`, {
    check: 'input',
    expected: `<= ${limit}`,
    actual: read.size,
  });
}

/**
 * The trusted root a verification was given: --trusted-root, else $KEYLESS_TRUSTED_ROOT (the
 * same default as signing), read within its size limit and recognised as a trusted root;
 * undefined when neither is set (the built-in root applies).
 */
export function readTrustedRootOption(flag: string | undefined): { path: string; bytes: Buffer } | undefined {
  const path = flag ?? (process.env[TRUSTED_ROOT_ENV] || undefined);
  if (path === undefined) return undefined;
  const bytes = readLimited(path, MAX_TRUSTED_ROOT_BYTES, 'trusted root');
  expectDocument(bytes, 'trusted root', `trusted root ${path}${flag === undefined ? ` (from ${TRUSTED_ROOT_ENV})` : ''}`);
  return { path, bytes };
}

/**
 * Artifacts up to this size are kept in memory while hashing, so the verifier has their
 * bytes (an Ed25519 key signs the message itself, and an in-toto subject may name any of
 * sha256/384/512). Larger ones are only hashed as they stream past: memory stays flat.
 */
export const ARTIFACT_IN_MEMORY_BYTES = 16 * 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Reads the artifact (`-` is standard input) as a stream: its bytes when small, else its
 * digest with `algorithm` (the one the bundle's message digest uses; sha256 otherwise).
 */
export async function readArtifact(path: string, algorithm: HashAlgorithm): Promise<ArtifactInput> {
  const what = path === '-' ? 'the artifact from standard input' : `artifact ${path}`;
  if (path !== '-') {
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      throw new KeylessError('FILE_UNREADABLE', `cannot read ${what}: ${fsProblem(e)}`, { check: 'input' });
    }
    if (st.isDirectory())
      throw new KeylessError('FILE_UNREADABLE', `cannot read ${what}: it is a directory, not a file`, { check: 'input' });
  }
  const hash: Hash = createHash(algorithm);
  let kept: Buffer[] | undefined = [];
  let size = 0;
  const stream = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      if (kept && size <= ARTIFACT_IN_MEMORY_BYTES) kept.push(chunk);
      else kept = undefined;
    }
  } catch (e) {
    throw new KeylessError('FILE_UNREADABLE', `cannot read ${what}: ${fsProblem(e)}`, { check: 'input' });
  }
  if (kept) return Buffer.concat(kept, size);
  return { [algorithm]: hash.digest() } as unknown as ArtifactInput;
}

/** The digest algorithm the artifact must be hashed with: the message digest's, else sha256. */
export function artifactAlgorithm(bundle: Bundle): HashAlgorithm {
  const c = bundle.content;
  const md = c?.$case === 'messageSignature' ? c.messageSignature.messageDigest : undefined;
  return (md && nodeHashName(md.algorithm)) || 'sha256';
}

/** The conformance rule: `sha256:<64 hex>` that is not an existing path is a digest. */
export function isDigestArgument(arg: string): boolean {
  return /^sha256:[0-9a-fA-F]{64}$/.test(arg) && !existsSync(arg);
}

export function policyFromOptions(o: VerifyCommandOptions, attestation: boolean): VerificationPolicy {
  const hasIdentity = o.certificateIdentity !== undefined || o.certificateIdentityRegexp !== undefined;
  const hasIssuer = o.certificateOidcIssuer !== undefined || o.certificateOidcIssuerRegexp !== undefined;
  if (o.key === undefined && (!hasIdentity || !hasIssuer)) {
    throw new UsageError(
      'give --certificate-identity (or --certificate-identity-regexp) and --certificate-oidc-issuer (or --certificate-oidc-issuer-regexp), or --key',
    );
  }
  const extensions: Partial<Record<ExtensionPolicyName, string>> = {};
  if (o.certificateGithubWorkflowTrigger !== undefined) extensions.githubWorkflowTrigger = o.certificateGithubWorkflowTrigger;
  if (o.certificateGithubWorkflowSha !== undefined) extensions.githubWorkflowSha = o.certificateGithubWorkflowSha;
  if (o.certificateGithubWorkflowName !== undefined) extensions.githubWorkflowName = o.certificateGithubWorkflowName;
  if (o.certificateGithubWorkflowRepository !== undefined) extensions.githubWorkflowRepository = o.certificateGithubWorkflowRepository;
  if (o.certificateGithubWorkflowRef !== undefined) extensions.githubWorkflowRef = o.certificateGithubWorkflowRef;
  const policy: VerificationPolicy = {
    certificateIdentity: o.certificateIdentity,
    certificateIdentityRegexp: o.certificateIdentityRegexp,
    certificateOidcIssuer: o.certificateOidcIssuer,
    certificateOidcIssuerRegexp: o.certificateOidcIssuerRegexp,
    // cosign's flags take RE2 (Go) syntax; the match stays anchored to the whole value.
    regexpSyntax: 're2',
    extensions,
  };
  // cosign's semantics: --insecure-ignore-tlog drops the log requirement and, unless signed
  // timestamps are required, lets the current time stand in when nothing vouches for one.
  if (o.insecureIgnoreTlog) {
    policy.tlogThreshold = 0;
    if (!o.useSignedTimestamps) policy.verifyAtCurrentTime = true;
  }
  if (o.insecureIgnoreSct) policy.ctlogThreshold = 0;
  if (o.useSignedTimestamps) policy.signedTimestampThreshold = 1;
  if (o.key !== undefined) {
    policy.publicKey = readLimited(o.key, MAX_KEY_BYTES, 'key').toString('utf8');
    try {
      createPublicKey(policy.publicKey);
    } catch {
      throw new KeylessError(
        'PUBLIC_KEY_INVALID',
        `key ${o.key} is not a PEM public key (SubjectPublicKeyInfo, "-----BEGIN PUBLIC KEY-----")`,
        { check: 'input' },
      );
    }
  }
  if (attestation) {
    policy.payloadType = 'application/vnd.in-toto+json';
    if (o.type !== undefined) policy.predicateType = expandPredicateType(o.type);
    if (o.checkClaims === false) policy.checkClaims = false;
  }
  return policy;
}

const DIGEST_HEX_DIGITS: Readonly<Record<HashAlgorithm, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** --digestAlg, checked: sha256, sha384 or sha512 (cosign's set). */
export function digestAlgOption(o: { digestAlg?: string }): HashAlgorithm | undefined {
  if (o.digestAlg === undefined) return undefined;
  if (!Object.hasOwn(DIGEST_HEX_DIGITS, o.digestAlg))
    throw new UsageError(`--digestAlg ${o.digestAlg} is not supported: give sha256, sha384 or sha512`);
  return o.digestAlg as HashAlgorithm;
}

/**
 * The subject digest verify-blob-attestation is given instead of a file (--digest, --digestAlg),
 * checked; undefined when a file is given (cosign prefers the file) or claims are not checked.
 */
function subjectDigestOption(o: VerifyCommandOptions, file: string | undefined, warn: (line: string) => void): ArtifactInput | undefined {
  const algorithm = digestAlgOption(o);
  if (o.digest === undefined || o.checkClaims === false) return undefined;
  if (file !== undefined) {
    warn(`WARNING: --digest is ignored: the file ${file} is hashed instead`);
    return undefined;
  }
  if (algorithm === undefined) throw new UsageError('--digest needs --digestAlg (sha256, sha384 or sha512), as in cosign');
  const digits = DIGEST_HEX_DIGITS[algorithm];
  if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(o.digest))
    throw new UsageError(`--digest ${o.digest} is not a ${algorithm} digest: give ${digits} hex digits`);
  return { [algorithm]: o.digest.toLowerCase() } as ArtifactInput;
}

/** The success line; the identity and issuer come from the certificate, so they are escaped (a newline in them cannot start a line). */
export function verifiedLine(
  result: Pick<VerificationResult, 'identity' | 'issuer' | 'signingTime'> & Partial<Pick<VerificationResult, 'tlogEntries'>>,
): string {
  const who = result.identity ? `: ${printable(result.identity)} (issuer ${printable(String(result.issuer))})` : ' with the given key';
  const when = result.signingTime
    ? `signed at ${result.signingTime.toISOString()}`
    : result.tlogEntries?.length === 0
      ? 'with no verified signing time and no transparency-log entry'
      : 'included in the transparency log';
  return `Verified OK${who}, ${when}`;
}

/** One line: the check that failed, what it expected and what it found. */
export function failureLine(e: unknown): string {
  if (!isKeylessError(e)) return printable(`error: internal error: ${(e as Error)?.message ?? String(e)}`.replace(/\s+/g, ' '));
  let line = `error: ${e.message}`;
  if (e.expected !== undefined || e.actual !== undefined) {
    line += ` (expected ${JSON.stringify(display(e.expected)) ?? 'nothing'}, actual ${JSON.stringify(display(e.actual)) ?? 'nothing'})`;
  }
  return printable(line.replace(/[\r\n]+/g, ' '));
}

/** A failure explained by authorities the trusted root in use does not know (`unknownAuthorities`), then the first failed check. */
export function untrustedAuthoritiesLine(unknown: string[], rootInUse: string, failure: string): string {
  return `${printable(unknown.join(' and '))} ${unknown.length > 1 ? 'are' : 'is'} not in the trusted root in use (${printable(rootInUse)}); if the bundle comes from a private Sigstore instance, give its trusted root with --trusted-root (or ${TRUSTED_ROOT_ENV}). First failed check: ${failure}`;
}

function resultSummary(r: VerificationResult): Record<string, unknown> {
  const { checks: _checks, ...rest } = r;
  return rest;
}

/**
 * Runs one verification from the command line. Returns the exit status:
 * 0 verified, 1 a check failed, 2 usage or input error (a file unreadable, not the
 * document it should be, or malformed).
 */
export async function runVerifyCommand(
  artifactArg: string | undefined,
  o: VerifyCommandOptions,
  kind: 'bundle' | 'blob' | 'attestation',
): Promise<number> {
  const log = new CheckLog();
  // Until the checks start, a failure is the input's (unreadable, not a bundle, malformed): exit 2.
  let checking = false;
  let rootInUse = '';
  let diagnose: () => string[] = () => [];
  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  try {
    if (o.staging && o.trustedRoot === undefined) {
      throw new UsageError('--staging needs --trusted-root: Keyless verifies offline and embeds only the production trusted root');
    }
    const policy = policyFromOptions(o, kind === 'attestation');
    for (const w of insecureWarnings(o)) err(`${w}\n`);
    try {
      compilePolicy(policy);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const subjectDigest = subjectDigestOption(o, artifactArg, (line) => err(`${line}\n`));
    const bundleBytes = readLimited(o.bundle, MAX_BUNDLE_BYTES, 'bundle');
    expectDocument(bundleBytes, 'bundle', `bundle ${o.bundle}`);
    const given = readTrustedRootOption(o.trustedRoot);
    const trustedRootPath = given?.path;
    const trustedRoot = given?.bytes.toString('utf8');
    // The bundle and the trusted root are parsed before the artifact is read: a malformed
    // one fails at once (an input error, exit 2), not after hashing gigabytes, and the
    // bundle says which digest the artifact needs.
    let bundle: Bundle;
    try {
      bundle = parseBundle(bundleBytes, { allowCertificateChain: o.allowCertificateChain === true });
    } catch (e) {
      log.record('bundle.format', e);
      throw e;
    }
    const trust = trustMaterialFor(trustedRoot ?? PRODUCTION_TRUSTED_ROOT);
    rootInUse = trustedRootPath === undefined ? 'the built-in Sigstore public-good root' : `${trustedRootPath}`;
    diagnose = () => unknownAuthorities(bundle, trust);
    // verify-bundle (conformance) and verify-blob-attestation (a subject's digest) take digests.
    // No artifact when claims are not checked (cosign does not read the file then).
    const artifact: ArtifactInput | undefined =
      policy.checkClaims === false
        ? undefined
        : artifactArg === undefined
          ? subjectDigest
          : kind !== 'blob' && isDigestArgument(artifactArg)
            ? artifactArg.toLowerCase()
            : await readArtifact(artifactArg, digestAlgOption(o) ?? artifactAlgorithm(bundle));
    checking = true;
    let result: VerificationResult;
    try {
      result = verifySync(bundle, artifact, policy, trustedRoot, { log });
    } finally {
      if (o.verbose) for (const c of log.results) err(`${printable(verboseLine(c))}\n`);
    }
    if (o.json) {
      // An attestation's report carries the statement it verified (subjects, predicate type, predicate).
      const statement =
        kind === 'attestation' && bundle.content?.$case === 'dsseEnvelope'
          ? JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8'))
          : undefined;
      out(`${printableJson({ ok: true, result: resultSummary(result), statement, checks: log.results.map(reportEntry) }, 2)}\n`);
    } else out(`${verifiedLine(result)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`error: ${printable(e.message)}\n`);
      return 2;
    }
    const inputError = !checking && isKeylessError(e);
    if (o.json) {
      const error = isKeylessError(e) ? e.toJSON() : { code: 'INTERNAL', message: String((e as Error)?.message ?? e) };
      out(
        `${printableJson({ ok: false, error: { ...error, expected: display(error.expected), actual: display(error.actual) }, checks: log.results.map(reportEntry) }, 2)}\n`,
      );
    }
    const unknown = checking && isKeylessError(e) && !e.code.startsWith('POLICY_') ? diagnose() : [];
    if (unknown.length > 0) err(`error: ${untrustedAuthoritiesLine(unknown, rootInUse, failureLine(e).slice('error: '.length))}\n`);
    else err(`${failureLine(e)}\n`);
    return inputError ? 2 : 1;
  }
}

/** What the relaxing flags give up, said once per command. */
export function insecureWarnings(o: Pick<VerifyCommandOptions, 'insecureIgnoreTlog' | 'insecureIgnoreSct'>): string[] {
  const warnings: string[] = [];
  if (o.insecureIgnoreTlog)
    warnings.push(
      'WARNING: --insecure-ignore-tlog: no transparency-log entry is required, so this signature may never have been published and cannot be publicly audited',
    );
  if (o.insecureIgnoreSct)
    warnings.push('WARNING: --insecure-ignore-sct: the certificate need not have been logged in certificate transparency');
  return warnings;
}

/** `-d`: one line per check, as it was recorded. */
export function verboseLine(c: { check: string; ok: boolean; expected?: unknown; actual?: unknown; detail?: string }): string {
  const values =
    c.expected !== undefined || c.actual !== undefined
      ? ` expected ${JSON.stringify(display(c.expected))}, actual ${JSON.stringify(display(c.actual))}`
      : '';
  return `debug: ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}${values}${c.detail ? ` (${c.detail})` : ''}`;
}

function reportEntry(c: {
  check: string;
  ok: boolean;
  expected?: unknown;
  actual?: unknown;
  detail?: string;
  code?: string;
}): Record<string, unknown> {
  return { check: c.check, ok: c.ok, code: c.code, expected: display(c.expected), actual: display(c.actual), detail: c.detail };
}
