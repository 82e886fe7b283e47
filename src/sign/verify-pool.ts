import { WorkerClient } from '../core/worker-rpc.js';
import type { VerificationPolicy } from '../verify/index.js';
import type { BundleVerifyData, BundleVerifyRequest } from './bundle-verify.worker.js';

/**
 * Verifies bundles in worker threads, so that a batch's self-verification (five or six
 * public-key checks per bundle) runs beside the main thread's signing and HTTP work instead
 * of in its way. Each worker loads the verifier once and keeps the trusted root.
 */
export class VerifyPool {
  readonly #workers: WorkerClient<BundleVerifyRequest, null>[] = [];

  constructor(threads: number, trustedRoot: unknown) {
    for (let i = 0; i < threads; i++) {
      this.#workers.push(
        new WorkerClient(new URL('./bundle-verify.worker.ts', import.meta.url), {
          workerData: { trustedRoot } satisfies BundleVerifyData,
          failureCode: 'VERIFY_WORKER_FAILED',
        }),
      );
    }
  }

  /** Resolves when `verify(bundle, artifact, policy, trustedRoot)` passes in a worker; rejects with its error (and code). */
  async verify(bundle: object | string, artifact: Uint8Array | { sha256: Uint8Array | string }, policy: VerificationPolicy): Promise<void> {
    const worker = this.#workers.reduce((a, b) => (b.inflight < a.inflight ? b : a));
    await worker.request({ bundle, artifact, policy });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
