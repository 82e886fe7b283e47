// One request/response channel to a worker thread, used by every worker in Keyless.
// A worker is a module named `<name>.worker.ts` beside its caller; scripts/build.mjs builds
// each to dist/workers/<name>.worker.js, which the bundle runs. From the sources (tests,
// benches under tsx), the module is bundled the same way into node_modules/.cache/keyless-workers/
// (rebuilt when a source changes) and started without tsx: Node 20 does not apply
// `--import tsx` to a worker's entry module, and tsx in each worker costs ~0.5 s of start-up.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, Worker, type TransferListItem } from 'node:worker_threads';
import { KeylessError } from './errors.js';
import { isErrorCode, type ErrorCode } from './error-codes.js';

/** What a worker answers: a value, or a failure with a stable code. */
type Reply<Res> = { id: number; ok: true; value: Res } | { id: number; ok: false; code: string; message: string };

const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * The parent's flags minus tsx's preloads: the bundled worker needs no TypeScript loader,
 * and tsx in a worker costs ~0.5 s of start-up.
 */
function execArgvWithoutTsx(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (/^--(import|require|loader|experimental-loader)$/.test(a) && args[i + 1]?.includes('tsx')) i++;
    else if (!(/^--(import|require|loader|experimental-loader)=/.test(a) && a.includes('tsx'))) out.push(a);
  }
  return out;
}

/** The file a worker thread runs: the built dist/workers/<name>.js, or the source module bundled for this checkout. */
function workerFile(source: URL): string {
  const name = basename(fileURLToPath(source)).replace(/\.ts$/, '');
  if (RUNNING_FROM_SOURCE) return bundledFromSource(source, name);
  // This code sits in dist/ or dist/chunks/ of the bundle.
  for (let dir = dirname(fileURLToPath(import.meta.url)), i = 0; i < 3; i++, dir = dirname(dir)) {
    const candidate = join(dir, 'workers', `${name}.js`);
    if (existsSync(candidate)) return candidate;
  }
  throw new KeylessError('WORKER_MODULE_MISSING', `worker module workers/${name}.js not found beside the bundle: run npm run build`);
}

const bundled = new Map<string, string>();

/** What a cached bundle was built from: each input file with its size and modification time. */
interface BundleStamp {
  file: string;
  inputs: [path: string, size: number, mtimeMs: number][];
}

function stampOf(path: string): [string, number, number] | undefined {
  try {
    const st = statSync(path);
    return [path, st.size, st.mtimeMs];
  } catch {
    return undefined;
  }
}

/**
 * Development only: the .ts module bundled by esbuild (a devDependency, as tsx is), cached in
 * node_modules/.cache/keyless-workers and rebuilt when one of its inputs changed, so a worker
 * starts as fast as from dist/.
 */
function bundledFromSource(source: URL, name: string): string {
  const cached = bundled.get(source.href);
  if (cached) return cached;
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const dir = join(root, 'node_modules', '.cache', 'keyless-workers');
  const stampFile = join(dir, `${name}.json`);
  let file: string | undefined;
  try {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as BundleStamp;
    const fresh =
      existsSync(stamp.file) &&
      stamp.inputs.every(([path, size, mtimeMs]) => {
        const now = stampOf(path);
        return now !== undefined && now[1] === size && now[2] === mtimeMs;
      });
    if (fresh) file = stamp.file;
  } catch {
    // no usable stamp: build
  }
  if (!file) {
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const out = esbuild.buildSync({
      entryPoints: [fileURLToPath(source)],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      write: false,
      metafile: true,
      outdir: dir,
      absWorkingDir: root,
      logLevel: 'error',
    });
    const code = out.outputFiles[0]!.text;
    const inputs = Object.keys(out.metafile.inputs)
      .map((p) => stampOf(join(root, p)))
      .filter((s) => s !== undefined);
    // Named by content and written atomically: concurrent test processes may build the same worker.
    file = join(dir, `${name}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
    mkdirSync(dir, { recursive: true });
    const tmp = `.${process.pid}.tmp`;
    if (!existsSync(file)) {
      writeFileSync(file + tmp, code);
      renameSync(file + tmp, file);
    }
    writeFileSync(stampFile + tmp, JSON.stringify({ file, inputs } satisfies BundleStamp));
    renameSync(stampFile + tmp, stampFile);
  }
  bundled.set(source.href, file);
  return file;
}

export interface WorkerClientOptions {
  workerData?: unknown;
  /** The code of the error every pending request fails with if the worker dies. */
  failureCode: ErrorCode;
}

/**
 * The caller's end: `request()` posts a message and resolves with the worker's answer or
 * rejects with its error code. An idle worker does not keep the process alive; a busy one does.
 */
export class WorkerClient<Req, Res> {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: Res) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #failure: Error | undefined;

  constructor(source: URL, options: WorkerClientOptions) {
    this.#worker = new Worker(workerFile(source), {
      workerData: options.workerData,
      ...(RUNNING_FROM_SOURCE ? { execArgv: execArgvWithoutTsx() } : {}),
    });
    this.#worker.on('message', (m: Reply<Res>) => {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if (!p) return;
      if (m.ok) p.resolve(m.value);
      else p.reject(new KeylessError(isErrorCode(m.code) ? m.code : options.failureCode, m.message));
    });
    const failAll = (why: string): void => {
      this.#failure ??= new KeylessError(options.failureCode, `worker thread stopped: ${why}`);
      for (const p of this.#pending.values()) p.reject(this.#failure);
      this.#pending.clear();
    };
    this.#worker.on('error', (e) => failAll(e.message));
    this.#worker.on('exit', (code) => failAll(`exit ${code}`));
    this.#worker.unref();
  }

  /** Sends one request; `transfer` moves buffers instead of copying them. */
  request(req: Req, transfer: readonly TransferListItem[] = []): Promise<Res> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<Res>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, req }, [...transfer]);
    });
  }

  /** Number of requests awaiting an answer. */
  get inflight(): number {
    return this.#pending.size;
  }

  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }
}

/**
 * The worker's end: answers each request with `handle`'s value (moving the buffers
 * `options.transfer` names) or with the thrown error's code (`options.failureCode` for an
 * error without one) and message.
 */
export function serveRequests<Req, Res>(
  handle: (req: Req) => Res | Promise<Res>,
  options: { failureCode: string; transfer?: (res: Res) => TransferListItem[] },
): void {
  const port = parentPort;
  if (!port) throw new KeylessError('WORKER_NOT_IN_THREAD', 'serveRequests() runs only in a worker thread');
  port.on('message', async ({ id, req }: { id: number; req: Req }) => {
    try {
      const value = await handle(req);
      port.postMessage({ id, ok: true, value } satisfies Reply<Res>, options.transfer?.(value) ?? []);
    } catch (e) {
      const err = e as { code?: unknown; message?: unknown };
      const code = typeof err?.code === 'string' ? err.code : options.failureCode;
      port.postMessage({ id, ok: false, code, message: String(err?.message ?? e) } satisfies Reply<Res>);
    }
  });
}

/** Error codes raised here, for the error-code registry (callers choose their own failure codes). */
export const WORKER_RPC_ERROR_CODES = ['WORKER_MODULE_MISSING', 'WORKER_NOT_IN_THREAD'] as const;
