import type { HashAlgorithm } from '../../core/hash.js';
import { verifyDigestSignatureSpki } from '../../core/prehash.js';
import { WorkerClient } from '../../core/worker-rpc.js';
import { packDigestJobs, type DigestJob } from './digest-jobs.js';

/** Checks signatures over precomputed digests (ECDSA / RSA PKCS#1 v1.5). */
export interface DigestVerifier {
  /** `spki` is the DER SubjectPublicKeyInfo; never throws, false for any failure. */
  verify(spki: Uint8Array, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm): Promise<boolean>;
  close(): Promise<void>;
}

/** In the calling thread (small deployments, tests). */
export const inlineDigestVerifier: DigestVerifier = {
  async verify(spki, digest, signature, hash) {
    return verifyDigestSignatureSpki(spki, digest, signature, hash);
  },
  async close() {},
};

interface Job extends DigestJob {
  resolve: (ok: boolean) => void;
}

/**
 * Verification off the event loop: jobs gathered during one turn of the event loop go
 * to a worker (digest-verify.worker.ts) as one message, round-robin over the workers. The
 * main thread keeps parsing requests and writing batches meanwhile.
 */
export class WorkerDigestVerifier implements DigestVerifier {
  private readonly workers: WorkerClient<ArrayBuffer, Uint8Array>[] = [];
  private pending: Job[] = [];
  private scheduled = false;
  private next = 0;

  constructor(threads = 1) {
    for (let i = 0; i < threads; i++) {
      this.workers.push(
        new WorkerClient(new URL('./digest-verify.worker.ts', import.meta.url), { failureCode: 'TLOG_VERIFY_WORKER_FAILED' }),
      );
    }
  }

  /** Resolves once every worker has started and warmed its verifier (an empty batch each). */
  async ready(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request(new ArrayBuffer(0))));
  }

  verify(spki: Uint8Array, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm): Promise<boolean> {
    return new Promise((resolve) => {
      this.pending.push({ spki, digest, signature, hash, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.dispatch());
      }
    });
  }

  private dispatch(): void {
    this.scheduled = false;
    const jobs = this.pending;
    this.pending = [];
    if (jobs.length === 0) return;
    const worker = this.workers[this.next++ % this.workers.length]!;
    const packed = packDigestJobs(jobs);
    worker.request(packed, [packed]).then(
      (out) => jobs.forEach((j, k) => j.resolve(out[k] === 1)),
      // A worker that died: the jobs are still answered, in this thread.
      () => jobs.forEach((j) => j.resolve(verifyDigestSignatureSpki(j.spki, j.digest, j.signature, j.hash))),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
