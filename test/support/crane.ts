// crane (go-containerregistry), a registry client and a registry: .ci/run installs the pinned
// version. `crane registry serve` is go-containerregistry's in-memory registry as a child
// process on a free loopback port (it has no referrers API: it answers 400, the fallback path).
import { findGoPeer, startGoServer, type GoServer } from './go-peers.js';

export const CRANE_VERSION = 'v0.22.1';

export function findCrane(): string {
  return findGoPeer('crane', 'KEYLESS_CRANE', `go install github.com/google/go-containerregistry/cmd/crane@${CRANE_VERSION}`);
}

export function startCraneRegistry(bin: string): Promise<GoServer> {
  return startGoServer('crane registry serve', bin, ['registry', 'serve', '--address', '127.0.0.1:0']);
}
