// Finds and runs the Go peers (cosign, crane, ...), which .ci/run installs at pinned versions with
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

/** A Go server started as a child process: where it listens, its pid (CPU accounting), how to stop it. */
export interface GoServer {
  /** `127.0.0.1:<port>` */
  host: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `bin args` and waits for it to print "serving on port N" (as go-containerregistry's
 * registry does); keeps the tail of its output to explain a failure to start.
 */
export async function startGoServer(name: string, bin: string, args: string[]): Promise<GoServer> {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let log = '';
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} printed no port:\n${log}`)), 20_000);
    const onData = (d: string) => {
      log = (log + d).slice(-8192);
      const m = /serving on port (\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.stderr!.setEncoding('utf8').on('data', onData);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${name}: ${e.message}`));
    });
    void exited.then(() => reject(new Error(`${name} exited early:\n${log}`)));
  });
  return {
    host: `127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
