// go-containerregistry's registry with its referrers API on (./ggcr-registry/main.go), as a
// child process on a free loopback port: a real referrers-capable registry built from the Go
// module proxy. .ci/run builds it (KEYLESS_GGCR_REGISTRY); without that, it is built here
// into a temporary directory (needs Go and the module, from the proxy or the module cache).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export async function startGgcrRegistry(): Promise<{ host: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(findGgcrRegistry(), [], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let log = '';
  const keep = (d: string) => {
    log = (log + d).slice(-8192);
  };
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ggcr-registry printed no port:\n${log}`)), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      keep(d);
      const m = /serving on port (\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', keep);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ggcr-registry: ${e.message}`));
    });
    void exited.then(() => reject(new Error(`ggcr-registry exited early:\n${log}`)));
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
