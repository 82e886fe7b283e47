import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { SignError } from './errors.js';

/**
 * Verifies bundles in worker threads, so that a batch's self-verification (five or six
 * public-key checks per bundle) runs beside the main thread's signing and HTTP work instead
 * of in its way. Each worker loads the verifier once and keeps the trusted root. Workers stay
 * referenced (they are waited on) until `close()`.
 */
export class VerifyPool {
  readonly #workers: Array<{ worker: Worker; inflight: number }> = [];
  readonly #jobs = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #nextId = 0;

  constructor(threads: number, trustedRoot: unknown) {
    const modulePath = verifierModule();
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { modulePath, trustedRoot } });
      const slot = { worker, inflight: 0 };
      worker.on('message', (m: { id: number; ok: boolean; code?: string; message?: string }) => {
        slot.inflight--;
        const job = this.#jobs.get(m.id);
        this.#jobs.delete(m.id);
        if (!job) return;
        if (m.ok) job.resolve();
        else job.reject(Object.assign(new Error(m.message ?? 'verification failed'), { code: m.code }));
      });
      worker.on('error', (e) => {
        for (const [id, job] of this.#jobs) {
          this.#jobs.delete(id);
          job.reject(new SignError('VERIFY_WORKER_FAILED', `the verification worker failed (${e.message})`));
        }
      });
      this.#workers.push(slot);
    }
  }

  /** Resolves when `verify(bundle, artifact, policy, trustedRoot)` passes in a worker; rejects with its error. */
  verify(bundle: object | string, artifact: Uint8Array | { sha256: Uint8Array | string }, policy: object): Promise<void> {
    const slot = this.#workers.reduce((a, b) => (b.inflight < a.inflight ? b : a));
    slot.inflight++;
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      slot.worker.postMessage({ id, bundle, artifact, policy });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
  }
}

// CommonJS, evaluated in the worker: loads the verifier module once, answers {id, ok}.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ready = import(workerData.modulePath);
parentPort.on('message', async ({ id, bundle, artifact, policy }) => {
  try {
    const { verify } = await ready;
    await verify(bundle, artifact, policy, workerData.trustedRoot);
    parentPort.postMessage({ id, ok: true });
  } catch (e) {
    parentPort.postMessage({ id, ok: false, code: e && e.code, message: e && e.message });
  }
});
`;

/** The module exporting `verify`: the built library next to this chunk, or the source under tsx. */
function verifierModule(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return join(dirname(here), '..', 'verify', 'index.ts');
  // dist/chunks/<chunk>.js → dist/index.js
  for (const candidate of [join(dirname(here), '..', 'index.js'), join(dirname(here), 'index.js')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new SignError('VERIFY_MODULE_MISSING', 'cannot find the verifier module for the worker threads');
}
