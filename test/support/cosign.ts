// Finds cosign (the peer for container images; .ci/run installs the pinned version with
// `go install`). Tests that need it fail loudly when it is missing: they are never skipped.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const COSIGN_VERSION = 'v3.1.3';

export function findCosign(): string {
  const candidates: string[] = [];
  if (process.env.KEYLESS_COSIGN) candidates.push(process.env.KEYLESS_COSIGN);
  const onPath = spawnSync('sh', ['-c', 'command -v cosign'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) candidates.push(onPath);
  const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).stdout?.trim();
  if (gopath) candidates.push(join(gopath, 'bin', 'cosign'));
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new Error(
      `cosign ${COSIGN_VERSION} is needed (go install github.com/sigstore/cosign/v3/cmd/cosign@${COSIGN_VERSION}; .ci/run does it)`,
    );
  return found;
}

export interface CosignRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cosign(bin: string, args: string[], env: Record<string, string> = {}): Promise<CosignRun> {
  return new Promise((resolve) => {
    // No ambient Sigstore or TUF state: everything comes from the flags.
    const child = spawn(bin, args, {
      env: { PATH: process.env.PATH ?? '', HOME: env.HOME ?? process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
