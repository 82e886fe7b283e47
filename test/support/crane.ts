// crane (go-containerregistry), a registry client and a registry: .ci/run installs the pinned
// version. `crane registry serve` is go-containerregistry's in-memory registry as a child
// process on a free loopback port (it has no referrers API: it answers 400, the fallback path).
import { spawn } from 'node:child_process';
import { findGoPeer } from './go-peers.js';

export const CRANE_VERSION = 'v0.22.1';

export function findCrane(): string {
  return findGoPeer('crane', 'KEYLESS_CRANE', `go install github.com/google/go-containerregistry/cmd/crane@${CRANE_VERSION}`);
}

export async function startCraneRegistry(bin: string): Promise<{ host: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(bin, ['registry', 'serve', '--address', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let log = '';
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`crane registry serve printed no port:\n${log}`)), 20_000);
    const onData = (d: string) => {
      log += d;
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
      reject(new Error(`cannot start crane registry serve: ${e.message}`));
    });
    void exited.then(() => reject(new Error(`crane registry serve exited early:\n${log}`)));
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
