// Starts bench/tlog-server.ts (a standalone Rekor v1 + v2 log) as a real child process,
// for the crash test and the append benchmark; resolves once it prints "READY <url>".
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

export function startLogServer(dir: string, workers = '1'): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/tlog-server.ts'), dir, '--workers', workers], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: ROOT,
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on('exit', (code) => reject(new Error(`log server exited early (${code})`)));
  });
}
