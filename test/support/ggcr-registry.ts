// go-containerregistry's registry with its referrers API on (./ggcr-registry/main.go), as a
// child process on a free loopback port: a real referrers-capable registry built from the Go
// module proxy. .ci/run builds it (KEYLESS_GGCR_REGISTRY); without that, it is built here
// into a temporary directory (needs Go and the module, from the proxy or the module cache).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGoServer, type GoServer } from './go-peers.js';

const SOURCE = fileURLToPath(new URL('./ggcr-registry', import.meta.url));
let built: string | undefined;

export function findGgcrRegistry(): string {
  const given = process.env.KEYLESS_GGCR_REGISTRY;
  if (given && existsSync(given)) return given;
  if (built) return built;
  const out = join(mkdtempSync(join(tmpdir(), 'keyless-ggcr-registry-')), 'ggcr-registry');
  const r = spawnSync('go', ['build', '-o', out, '.'], { cwd: SOURCE, encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`cannot build ${SOURCE} (go build; .ci/run does it): ${r.error?.message ?? r.stderr}`);
  return (built = out);
}

export function startGgcrRegistry(): Promise<GoServer> {
  return startGoServer('ggcr-registry', findGgcrRegistry(), []);
}
