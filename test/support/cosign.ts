// cosign, the peer for container images (.ci/run installs the pinned version).
import { findGoPeer, runPeer, type PeerRun } from './go-peers.js';

export const COSIGN_VERSION = 'v3.1.3';

export function findCosign(): string {
  return findGoPeer('cosign', 'KEYLESS_COSIGN', `go install github.com/sigstore/cosign/v3/cmd/cosign@${COSIGN_VERSION}`);
}

export type CosignRun = PeerRun;
export const cosign = runPeer;
