// Self-verification of new bundles beside the signing thread: the trusted root is
// parsed once per worker, then each request is one verify().
import { workerData } from 'node:worker_threads';
import { serveRequests } from '../core/worker-rpc.js';
import { verify, type VerificationPolicy } from '../verify/index.js';

export interface BundleVerifyRequest {
  bundle: object | string;
  artifact: Uint8Array | { sha256: Uint8Array | string };
  policy: VerificationPolicy;
}
export interface BundleVerifyData {
  trustedRoot: unknown;
}

const { trustedRoot } = workerData as BundleVerifyData;
serveRequests<BundleVerifyRequest, null>(
  async ({ bundle, artifact, policy }) => {
    await verify(bundle, artifact, policy, trustedRoot);
    return null;
  },
  { failureCode: 'VERIFY_FAILED' },
);
