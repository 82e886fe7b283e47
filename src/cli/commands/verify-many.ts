// `keyless verify-blob FILE... --bundle-dir DIR` and `--manifest FILE`: many files in one
// process, their bundles verified on every core (worker threads of verify/verify-pool.ts),
// one verdict line per file on stdout (or a JSON array), a summary on stderr.
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { TRUSTED_ROOT_ENV } from '../env.js';
import { expectDocument } from '../documents.js';
import { printable, printableJson } from '../printable.js';
import { progressBar } from '../progress.js';
import { unknownAuthorities } from './trust-diagnosis.js';
import {
  ARTIFACT_IN_MEMORY_BYTES,
  MAX_BUNDLE_BYTES,
  MAX_TRUSTED_ROOT_BYTES,
  UsageError,
  failureLine,
  isDigestArgument,
  policyFromOptions,
  readArtifact,
  readLimited,
  insecureWarnings,
  untrustedAuthoritiesLine,
  verboseLine,
  verifiedLine,
  type VerifyCommandOptions,
} from './verify-command.js';
import { KeylessError, isKeylessError } from '../../core/errors.js';
import { parseJson } from '../../core/json.js';
import { nodeHashName, parseBundle, type Bundle } from '../../formats/index.js';
import {
  CheckLog,
  compilePolicy,
  display,
  trustMaterialFor,
  verifySync,
  PRODUCTION_TRUSTED_ROOT,
  type ArtifactInput,
  type CheckResult,
  type VerificationPolicy,
} from '../../verify/index.js';
// Imported from its own module, not verify/index.ts: verify-bundle's start-up never loads worker_threads.
import { VerifyPool, defaultPoolSize, type VerifyOutcome } from '../../verify/verify-pool.js';

export interface VerifyManyOptions extends Omit<VerifyCommandOptions, 'bundle'> {
  bundle?: string;
  bundleDir?: string;
  manifest?: string;
  jobs?: string;
}

/**
 * The names a bundle for FILE may have in --bundle-dir (or beside a manifest's artifact),
 * tried in this order: what `keyless sign-blob --output-dir` writes, then the names cosign
 * users give with `--bundle`.
 */
export const BUNDLE_SUFFIXES = ['.sigstore.json', '.sigstore', '.bundle'] as const;

/** A manifest larger than this is refused (a million-file release is still far below it). */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** One file to verify: its bundle's path, or why there is none. */
export interface BatchItem {
  artifact: string;
  bundle?: string;
  missing?: string;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** FILE's bundle in `dir` by the BUNDLE_SUFFIXES rule. */
function lookUpBundle(artifact: string, dir: string, where: string): BatchItem {
  const name = basename(artifact);
  for (const suffix of BUNDLE_SUFFIXES) {
    const candidate = join(dir, name + suffix);
    if (isFile(candidate)) return { artifact, bundle: candidate };
  }
  return {
    artifact,
    missing: `no bundle for ${artifact} in ${where}: looked for ${BUNDLE_SUFFIXES.map((s) => name + s).join(', ')}`,
  };
}

/** Splits a manifest line into fields: white-space separated, or a JSON string for a path with spaces. */
function fields(line: string): string[] | undefined {
  const out: string[] = [];
  for (const m of line.matchAll(/"(?:[^"\\]|\\.)*"|\S+/g)) {
    if (m[0].startsWith('"')) {
      try {
        out.push(JSON.parse(m[0]) as string);
      } catch {
        return undefined;
      }
    } else out.push(m[0]);
  }
  return out;
}

/**
 * Reads a manifest: one `ARTIFACT [BUNDLE]` per line, `#` comments and blank lines ignored.
 * Relative paths are taken from the manifest's directory, so a manifest shipped with a
 * release works from anywhere. Without BUNDLE, the bundle is looked up by the
 * BUNDLE_SUFFIXES rule in --bundle-dir, else beside the artifact.
 */
export function readManifest(path: string, bundleDir: string | undefined): BatchItem[] {
  let text: string;
  try {
    text = readLimited(path, MAX_MANIFEST_BYTES, 'manifest').toString('utf8');
  } catch (e) {
    throw new KeylessError('MANIFEST_INVALID', (e as Error).message, { check: 'input' });
  }
  const base = dirname(resolve(path));
  const items: BatchItem[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = fields(line);
    if (!f || f.length > 2 || f[0] === '-') {
      throw new KeylessError(
        'MANIFEST_INVALID',
        `manifest ${path} line ${i + 1} is not ARTIFACT [BUNDLE] (write a path with spaces as a JSON string, "like this"): ${line.slice(0, 120)}`,
        { check: 'input' },
      );
    }
    const artifact = isDigestArgument(f[0]!) ? f[0]! : resolve(base, f[0]!);
    if (f[1] !== undefined) {
      const bundle = resolve(base, f[1]);
      items.push(isFile(bundle) ? { artifact, bundle } : { artifact, missing: `the bundle ${bundle} listed for ${artifact} is missing` });
    } else if (bundleDir !== undefined) items.push(lookUpBundle(artifact, bundleDir, `--bundle-dir ${bundleDir}`));
    else items.push(lookUpBundle(artifact, dirname(artifact), 'its directory'));
  }
  return items;
}

/** What to verify: the files on the command line (bundles in --bundle-dir) and the manifest's lines. */
export function planBatch(files: readonly string[], o: VerifyManyOptions): BatchItem[] {
  if (o.bundle !== undefined)
    throw new UsageError('--bundle names one bundle for one file; for several files use --bundle-dir DIR or --manifest FILE');
  if (files.includes('-')) throw new UsageError('standard input (-) can be verified only alone, with --bundle FILE');
  if (files.length > 0 && o.bundleDir === undefined)
    throw new UsageError(
      `several files need --bundle-dir DIR (each FILE's bundle is DIR/<name of FILE>${BUNDLE_SUFFIXES[0]}) or --manifest FILE`,
    );
  if (o.bundleDir !== undefined) {
    let dir;
    try {
      dir = statSync(o.bundleDir);
    } catch {
      dir = undefined;
    }
    if (!dir?.isDirectory()) throw new UsageError(`--bundle-dir ${o.bundleDir} is not a directory`);
  }
  const items = files.map((f) => lookUpBundle(f, o.bundleDir!, `--bundle-dir ${o.bundleDir}`));
  if (o.manifest !== undefined) items.push(...readManifest(o.manifest, o.bundleDir));
  if (items.length === 0) throw new UsageError(`the manifest ${o.manifest} lists no files`);
  return items;
}

/** One file's verdict, as printed and as reported in the JSON array. */
interface Verdict {
  artifact: string;
  bundle: string | undefined;
  ok: boolean;
  result?: Record<string, unknown>;
  statement?: unknown;
  error?: { code: string; message: string; check?: string | undefined; expected?: unknown; actual?: unknown };
  /** Why the bundle's authorities are unknown to the trusted root in use (failures only). */
  untrusted?: string[];
  checks?: CheckResult[] | undefined;
}

function errorOf(e: unknown): NonNullable<Verdict['error']> {
  if (isKeylessError(e)) return { code: e.code, message: e.message, check: e.check, expected: e.expected, actual: e.actual };
  return { code: 'INTERNAL', message: String((e as Error)?.message ?? e) };
}

/** The digest algorithm the artifact must be hashed with when too large to keep in memory. */
function digestAlgorithm(bundleBytes: Buffer, allowCertificateChain: boolean) {
  const c = parseBundle(bundleBytes, { allowCertificateChain }).content;
  const md = c?.$case === 'messageSignature' ? c.messageSignature.messageDigest : undefined;
  return (md && nodeHashName(md.algorithm)) || 'sha256';
}

/** Bytes of artifacts held in memory at once across the files in flight (one larger file still goes alone). */
const IN_MEMORY_BUDGET_BYTES = 256 * 1024 * 1024;

/** A count of bytes shared by the files in flight: `take` waits until enough is free. */
class ByteBudget {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(readonly total: number) {
    this.#free = total;
  }
  async take(n: number): Promise<void> {
    while (n > this.#free && this.#free < this.total) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#free -= n;
  }
  give(n: number): void {
    this.#free += n;
    for (const wake of this.#waiting.splice(0)) wake();
  }
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
async function loadArtifact(
  path: string,
  size: number | undefined,
  bundleBytes: Buffer,
  o: { attestation: boolean; allowCertificateChain: boolean },
): Promise<ArtifactInput> {
  if (o.attestation && isDigestArgument(path)) return path.toLowerCase();
  if (size !== undefined) {
    try {
      // Synchronous on purpose: for a small file fs/promises costs more than the read.
      return readFileSync(path);
    } catch {
      // readArtifact says what is wrong
    }
  }
  return readArtifact(path, digestAlgorithm(bundleBytes, o.allowCertificateChain));
}

function parseJobs(jobs: string | undefined): number {
  if (jobs === undefined) return defaultPoolSize();
  const n = Number(jobs);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--jobs ${jobs} is not a whole number from 1 to 256`);
  return n;
}

/**
 * Verifies every file of the batch; returns the exit status: 0 when every file verified,
 * 1 when any failed (a missing or unreadable bundle or artifact is that file's failure),
 * 2 for usage and input errors that concern the whole batch (flags, trusted root, key, manifest).
 */
export async function runVerifyMany(files: string[], o: VerifyManyOptions, kind: 'blob' | 'attestation'): Promise<number> {
  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  let items: BatchItem[];
  let policy: VerificationPolicy;
  let trustedRoot: unknown;
  let rootInUse: string;
  let jobs: number;
  let pool: VerifyPool | undefined;
  try {
    if (o.staging) throw new UsageError('--staging is for verify-bundle');
    jobs = parseJobs(o.jobs);
    policy = policyFromOptions({ ...o, bundle: '' }, kind === 'attestation');
    for (const w of insecureWarnings(o)) err(`${w}\n`);
    try {
      compilePolicy(policy);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const trustedRootPath = o.trustedRoot ?? (process.env[TRUSTED_ROOT_ENV] || undefined);
    if (trustedRootPath !== undefined) {
      const rootBytes = readLimited(trustedRootPath, MAX_TRUSTED_ROOT_BYTES, 'trusted root');
      expectDocument(
        rootBytes,
        'trusted root',
        `trusted root ${trustedRootPath}${o.trustedRoot === undefined ? ` (from ${TRUSTED_ROOT_ENV})` : ''}`,
      );
      // Parsed once into one object: the verifier caches trust material per root object
      // (a string would be parsed again for every file), here and in each worker.
      trustedRoot = parseJson(rootBytes, `trusted root ${trustedRootPath}`);
    }
    // A broken trusted root fails the whole batch at once, before any file is read.
    trustMaterialFor(trustedRoot ?? PRODUCTION_TRUSTED_ROOT);
    rootInUse = trustedRootPath ?? 'the built-in Sigstore public-good root';
    // The workers start (load the verifier, parse the trusted root) while the files are looked up.
    // One thread: verify in this one, as `verify-blob FILE --bundle B` does (no message passing).
    const threads = o.manifest === undefined ? Math.min(jobs, files.length) : jobs;
    if (threads > 1) pool = new VerifyPool(threads, trustedRoot);
    items = planBatch(files, o);
  } catch (e) {
    await pool?.close();
    err(`${failureLine(e)}\n`);
    return 2;
  }

  // -d prints every check of every file, so it needs them as --json does.
  const report = o.json === true || o.verbose === true;
  const allowCertificateChain = o.allowCertificateChain === true;
  const verifyHere = (bundle: string, artifact: ArtifactInput): VerifyOutcome => {
    const log = report ? new CheckLog() : undefined;
    try {
      const input = allowCertificateChain ? parseBundle(bundle, { allowCertificateChain }) : bundle;
      const { checks: _checks, ...result } = verifySync(input, artifact, policy, trustedRoot, { log });
      return { ok: true, result, checks: log?.results };
    } catch (e) {
      return { ok: false, error: errorOf(e) as Extract<VerifyOutcome, { ok: false }>['error'], checks: log?.results };
    }
  };

  const progress = progressBar(process.stderr, { label: 'verifying', total: items.length, unit: 'files' });
  const print = process.stdout.isTTY ? (s: string) => progress.above(() => out(s)) : out;
  const verdicts: (Verdict | undefined)[] = new Array(items.length);
  let printed = 0;
  const flush = (): void => {
    // In input order, whatever order the workers finish in.
    for (; printed < verdicts.length && verdicts[printed] !== undefined; printed++) {
      const v = verdicts[printed]!;
      if (o.verbose) for (const c of v.checks ?? []) progress.above(() => err(`${printable(`${v.artifact}: ${verboseLine(c)}`)}\n`));
      if (!o.json) print(`${verdictLine(v, rootInUse)}\n`);
    }
  };

  const budget = new ByteBudget(IN_MEMORY_BUDGET_BYTES);
  const verifyOne = async (item: BatchItem): Promise<Verdict> => {
    const v: Verdict = { artifact: item.artifact, bundle: item.bundle, ok: false };
    let bundleText: string;
    const size = item.missing === undefined ? inMemorySize(item.artifact) : undefined;
    await budget.take(size ?? 0);
    try {
      if (item.missing !== undefined) throw new KeylessError('BUNDLE_NOT_FOUND', item.missing, { check: 'input' });
      const bytes = readLimited(item.bundle!, MAX_BUNDLE_BYTES, 'bundle');
      expectDocument(bytes, 'bundle', `bundle ${item.bundle}`);
      const artifact = await loadArtifact(item.artifact, size, bytes, { attestation: kind === 'attestation', allowCertificateChain });
      bundleText = bytes.toString('utf8');
      const outcome = pool
        ? await pool.check(bundleText, artifact, policy, { report, allowCertificateChain })
        : verifyHere(bundleText, artifact);
      v.checks = outcome.checks;
      if (outcome.ok) {
        v.ok = true;
        v.result = outcome.result as unknown as Record<string, unknown>;
        if (o.json && kind === 'attestation') v.statement = statementOf(bundleText);
        return v;
      }
      v.error = outcome.error;
    } catch (e) {
      v.error = errorOf(e);
      return v;
    } finally {
      budget.give(size ?? 0);
    }
    if (!v.error.code.startsWith('POLICY_')) v.untrusted = diagnose(bundleText, trustedRoot);
    return v;
  };

  // A bounded window: memory stays flat however long the list, and the workers never starve.
  const window = Math.max(8, jobs * 16);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      verdicts[i] = await verifyOne(items[i]!);
      progress.advance();
      flush();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(window, items.length) }, lane));
  } finally {
    progress.done();
    await pool?.close();
  }

  const all = verdicts as Verdict[];
  if (o.json) out(`${printableJson(all.map(jsonEntry), 2)}\n`);
  const failed = all.filter((v) => !v.ok);
  if (failed.length === 0) err(`Verified ${all.length} file${all.length === 1 ? '' : 's'}\n`);
  else {
    const names = failed.slice(0, 10).map((v) => printable(v.artifact));
    err(
      `${failed.length} of ${all.length} files failed verification: ${names.join(', ')}${failed.length > names.length ? `, and ${failed.length - names.length} more` : ''}\n`,
    );
  }
  return failed.length === 0 ? 0 : 1;
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

/** `FILE: Verified OK: …` or `FILE: FAILED: <check>: …`. */
function verdictLine(v: Verdict, rootInUse: string): string {
  const name = printable(v.artifact);
  if (v.ok) return `${name}: ${verifiedLine(v.result as Parameters<typeof verifiedLine>[0])}`;
  const failure = failureLine(new KeylessError(v.error!.code as never, v.error!.message, v.error!)).slice('error: '.length);
  const why = v.untrusted?.length ? untrustedAuthoritiesLine(v.untrusted, rootInUse, failure) : failure;
  return `${name}: FAILED: ${why}`;
}

function jsonEntry(v: Verdict): Record<string, unknown> {
  const checks = v.checks?.map((c) => ({ ...c, expected: display(c.expected), actual: display(c.actual) }));
  if (v.ok) return { artifact: v.artifact, bundle: v.bundle, ok: true, result: v.result, statement: v.statement, checks };
  const e = v.error!;
  return {
    artifact: v.artifact,
    bundle: v.bundle,
    ok: false,
    error: { ...e, expected: display(e.expected), actual: display(e.actual) },
    untrusted: v.untrusted?.length ? v.untrusted : undefined,
    checks,
  };
}
