import { availableParallelism } from 'node:os';
import { WorkerClient } from '../core/worker-rpc.js';
import { KeylessError } from '../core/errors.js';
import type { CheckResult, ErrorRecord } from './checks.js';
import type { ArtifactInput } from './artifact.js';
import type { VerificationPolicy } from './policy.js';
import type { VerificationResult } from './pipeline.js';
import type { BundleVerifyData, BundleVerifyRequest } from './bundle-verify.worker.js';

/** What one verification in a worker came to; errors keep their code, check, expected and actual. */
export type VerifyOutcome =
  | {
      ok: true;
      /** The whole result (less its checks) with `report`, else only what a verdict line shows. */
      result: Pick<VerificationResult, 'identity' | 'issuer' | 'signingTime' | 'tlogEntries'> & Partial<Omit<VerificationResult, 'checks'>>;
      checks?: CheckResult[] | undefined;
    }
  | {
      ok: false;
      error: ErrorRecord;
      checks?: CheckResult[] | undefined;
    };

/** One worker per core the machine offers (at least one). */
export function defaultPoolSize(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Verifies bundles in worker threads beside a signing batch's main thread (self-verification;
 * `verify-blob FILE...` has its own workers that read the files by path, cli/commands/verify-files.worker.ts).
 * Each worker parses the trusted root once and
 * keeps the verifier's per-bundle memos (a batch signed with one certificate checks its chain once per worker).
 */
export class VerifyPool {
  readonly #workers: WorkerClient<BundleVerifyRequest, VerifyOutcome>[] = [];

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

  /** The outcome of `verify(bundle, artifact, policy, trustedRoot)` in the least busy worker; `report` adds the whole result and every check. */
  check(
    bundle: object | string,
    artifact: ArtifactInput,
    policy: VerificationPolicy,
    options: { report?: boolean; allowCertificateChain?: boolean } = {},
  ): Promise<VerifyOutcome> {
    const worker = this.#workers.reduce((a, b) => (b.inflight < a.inflight ? b : a));
    return worker.request({ bundle, artifact, policy, ...options });
  }

  /** Resolves when the bundle verifies; rejects with the verifier's error (code, check, expected, actual). */
  async verify(bundle: object | string, artifact: ArtifactInput, policy: VerificationPolicy): Promise<void> {
    const outcome = await this.check(bundle, artifact, policy);
    if (!outcome.ok) {
      const { code, message, ...details } = outcome.error;
      throw new KeylessError(code, message, details);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
