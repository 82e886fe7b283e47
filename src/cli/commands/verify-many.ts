// `keyless verify-blob FILE... --bundle-dir DIR` and `--manifest FILE`: many files in one
// process, verified on every core (the main thread and worker threads of
// ./verify-files.worker.ts, each reading and verifying the files it is sent by path),
// one verdict line per file on stdout (or a JSON array), a summary on stderr.
import { statSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import { basename, dirname, join, resolve } from 'node:path';
import { printable, printableJson } from '../printable.js';
import { progressBar } from '../progress.js';
import {
  UsageError,
  failureLine,
  isDigestArgument,
  policyFromOptions,
  readLimited,
  digestAlgOption,
  readTrustedRootOption,
  insecureWarnings,
  untrustedAuthoritiesLine,
  verboseLine,
  verifiedLine,
  type VerifyCommandOptions,
} from './verify-command.js';
import { verifyFile, type BatchItem, type FileVerifySettings, type Verdict } from './verify-files.js';
import { KeylessError } from '../../core/errors.js';
import { parseJson } from '../../core/json.js';
import { startFileWorkers, workersFor, type FileWorker } from './verify-files-pool.js';
import {
  compilePolicy,
  display,
  errorRecord,
  trustMaterialFor,
  PRODUCTION_TRUSTED_ROOT,
  type VerificationPolicy,
} from '../../verify/index.js';

export type { BatchItem } from './verify-files.js';

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

/** Files the main thread verifies between looks at its workers' verdicts (and printing them). */
const MAIN_FILES_BETWEEN_LOOKS = 4;

/**
 * Verifies every file of the batch; returns the exit status: 0 when every file verified,
 * 1 when any failed (a missing or unreadable bundle or artifact is that file's failure),
 * 2 for usage and input errors that concern the whole batch (flags, trusted root, key, manifest).
 */
export async function runVerifyMany(
  files: string[],
  o: VerifyManyOptions,
  kind: 'blob' | 'attestation',
  /** Workers started early (./verify-files-pool.ts startWorkersEarly with the same options); else started here. */
  prestarted?: FileWorker[],
): Promise<number> {
  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  let items: BatchItem[];
  let policy: VerificationPolicy;
  let trustedRoot: unknown;
  let rootInUse: string;
  let settings: FileVerifySettings;
  const workers: FileWorker[] = prestarted ?? [];
  try {
    if (o.staging) throw new UsageError('--staging is for verify-bundle');
    if (o.digest !== undefined)
      throw new UsageError(
        '--digest names the subject of one attestation; with several files, each file is hashed (or give --check-claims=false)',
      );
    const workerCount = workersFor(o, files.length);
    policy = policyFromOptions({ ...o, bundle: '' }, kind === 'attestation');
    for (const w of insecureWarnings(o)) err(`${w}\n`);
    try {
      compilePolicy(policy);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const given = readTrustedRootOption(o.trustedRoot);
    const trustedRootPath = given?.path;
    // Parsed once into one object: the verifier caches trust material per root object
    // (a string would be parsed again for every file), here and in each worker.
    if (given) trustedRoot = parseJson(given.bytes, `trusted root ${given.path}`);
    // A broken trusted root fails the whole batch at once, before any file is read.
    trustMaterialFor(trustedRoot ?? PRODUCTION_TRUSTED_ROOT);
    rootInUse = trustedRootPath ?? 'the built-in Sigstore public-good root';
    const digestAlg = digestAlgOption(o);
    settings = {
      policy,
      trustedRoot,
      kind,
      // -d prints every check of every file, so it needs them as --json does.
      report: o.json === true || o.verbose === true,
      json: o.json === true,
      allowCertificateChain: o.allowCertificateChain === true,
      ...(digestAlg ? { digestAlg } : {}),
    };
    // The main thread is one of the `jobs` threads: with one, no worker starts and nothing is
    // passed between threads, as `verify-blob FILE --bundle B` does.
    if (!prestarted) workers.push(...startFileWorkers(workerCount));
    // Each worker gets the settings first (it may still be loading the verifier); a worker
    // that dies fails the files it is sent later, with why.
    for (const w of workers) w.request({ settings }).catch(() => {});
    items = planBatch(files, o);
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    err(`${failureLine(e)}\n`);
    return 2;
  }

  const progress = progressBar(process.stderr, { label: 'verifying', total: items.length, unit: 'files' });
  const print = process.stdout.isTTY ? (s: string) => progress.above(() => out(s)) : out;
  const verdicts: (Verdict | undefined)[] = new Array(items.length);
  let printed = 0;
  const record = (index: number, v: Verdict): void => {
    verdicts[index] = v;
    progress.advance(1);
  };
  // In input order, whatever order the threads finish in; one write for the lines ready
  // (with -d, each file's checks go to stderr just before its verdict).
  const flush = (): void => {
    let lines = '';
    for (; printed < verdicts.length && verdicts[printed] !== undefined; printed++) {
      const v = verdicts[printed]!;
      if (o.verbose) for (const c of v.checks ?? []) progress.above(() => err(`${printable(`${v.artifact}: ${verboseLine(c)}`)}\n`));
      if (o.json) continue;
      lines += `${verdictLine(v, rootInUse)}\n`;
      if (o.verbose) {
        print(lines);
        lines = '';
      }
    }
    if (lines !== '') print(lines);
  };

  // Every thread claims the next file from one shared cursor when it is free: no thread waits
  // for another to hand it work, and none is left with a queue while another idles.
  const cursor = new Int32Array(new SharedArrayBuffer(4));
  let workerFailure: unknown;
  const viaWorker = (worker: FileWorker): Promise<void> =>
    new Promise<void>((resolve) => {
      const { port1, port2 } = new MessageChannel();
      let received = 0;
      let posted: number | undefined;
      const finish = (): void => {
        port1.close();
        resolve();
      };
      port1.on('message', (chunk: [number, Verdict][]) => {
        for (const [i, v] of chunk) record(i, v);
        received += chunk.length;
        flush();
        if (received === posted) finish();
      });
      worker.request({ run: { items, cursor: cursor.buffer as SharedArrayBuffer, verdicts: port2 } }, [port2]).then(
        (n) => {
          posted = n;
          if (received === n) finish();
        },
        (e: unknown) => {
          // The thread died: the files it had claimed and not reported fail with why (below),
          // once the verdicts it did post are in.
          workerFailure ??= e;
          setImmediate(finish);
        },
      );
    });
  // The main thread verifies too: it has loaded the verifier and parsed the trusted root
  // already. Between a few files it lets the workers' verdicts in, to print them in order.
  const here = async (): Promise<void> => {
    let sinceLook = 0;
    for (let i = Atomics.add(cursor, 0, 1); i < items.length; i = Atomics.add(cursor, 0, 1)) {
      record(i, await verifyFile(items[i]!, settings));
      if (++sinceLook === MAIN_FILES_BETWEEN_LOOKS) {
        sinceLook = 0;
        flush();
        if (workers.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    flush();
  };
  try {
    await Promise.all([...workers.map(viaWorker), here()]);
    if (workerFailure !== undefined) {
      for (const [i, item] of items.entries())
        if (verdicts[i] === undefined)
          record(i, { artifact: item.artifact, bundle: item.bundle, ok: false, error: errorRecord(workerFailure) });
      flush();
    }
  } finally {
    progress.done();
    await Promise.all(workers.map((w) => w.terminate()));
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
