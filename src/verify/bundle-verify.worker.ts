// Bundle verification in a worker thread, for signing's self-verification: the trusted
// root is parsed once per worker, then each request
// is one verify(). The answer is an outcome (never a thrown error), so a failure crosses
// the thread boundary with its check, expected and actual values, and the checks made.
import { workerData } from 'node:worker_threads';
import { serveRequests } from '../core/worker-rpc.js';
import { parseBundle } from '../formats/index.js';
import { CheckLog, errorRecord, verify, type ArtifactInput, type VerificationPolicy } from './index.js';
import type { VerifyOutcome } from './verify-pool.js';

export interface BundleVerifyRequest {
  bundle: object | string;
  artifact: ArtifactInput;
  policy: VerificationPolicy;
  /** Answer with the whole result and every check (the `--json` report), not only what a verdict line shows. */
  report?: boolean;
  /** Accept an X.509 chain in a v0.3 bundle (cosign's --allow-certificate-chain). */
  allowCertificateChain?: boolean;
}
export interface BundleVerifyData {
  trustedRoot: unknown;
}

const { trustedRoot } = workerData as BundleVerifyData;
serveRequests<BundleVerifyRequest, VerifyOutcome>(
  async ({ bundle, artifact, policy, report, allowCertificateChain }) => {
    const log = report ? new CheckLog() : undefined;
    try {
      const input = allowCertificateChain ? parseBundle(bundle, { allowCertificateChain }) : bundle;
      const { checks: _checks, ...result } = await verify(input, artifact, policy, trustedRoot, { log });
      // Without a report, only what a verdict line shows crosses the thread boundary.
      const { identity, issuer, signingTime, tlogEntries } = result;
      return { ok: true, result: report ? result : { identity, issuer, signingTime, tlogEntries }, checks: log?.results };
    } catch (e) {
      return { ok: false, error: errorRecord(e), checks: log?.results };
    }
  },
  { failureCode: 'VERIFY_FAILED' },
);
