// Finds and runs the Go peers (cosign, crane), which .ci/run installs at pinned versions with
// `go install`. Tests that need one fail loudly when it is missing: they are never skipped.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** `$<envVar>`, then PATH, then `$(go env GOPATH)/bin`. */
export function findGoPeer(name: string, envVar: string, install: string): string {
  const candidates: string[] = [];
  if (process.env[envVar]) candidates.push(process.env[envVar]!);
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath) candidates.push(onPath);
  const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).stdout?.trim();
  if (gopath) candidates.push(join(gopath, 'bin', name));
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`${name} is needed (${install}; .ci/run does it)`);
  return found;
}

export interface PeerRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a peer with no ambient Sigstore, TUF or registry state: everything comes from the arguments. */
export function runPeer(bin: string, args: string[], env: Record<string, string> = {}): Promise<PeerRun> {
  return new Promise((resolve) => {
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
