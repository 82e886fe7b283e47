// Shared pieces of the monitor tests: a `keyless monitor` child process, YAML files, and
// reading the output file.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, keyless, type Run } from '../sign/serve-helper.js';

export function monitor(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return keyless(['monitor', ...args], env);
}

/** A monitor child whose stderr can be watched while it runs. */
export function spawnMonitor(
  args: string[],
  env: Record<string, string> = {},
): {
  child: ChildProcess;
  stderr: () => string;
  waitFor(re: RegExp): Promise<RegExpExecArray>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
} {
  const child = spawn(process.execPath, [BIN, 'monitor', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const waiters: Array<() => void> = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const w of waiters.splice(0)) w();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return {
    child,
    stderr: () => err,
    exit,
    async waitFor(re) {
      for (;;) {
        const m = re.exec(err);
        if (m) return m;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`monitor exited before ${re}; stderr:\n${err}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          void exit.then(() => r());
        });
      }
    },
  };
}

export function writeYaml(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

export interface OutputLine {
  CertSubject: string;
  Issuer: string;
  Index: number;
  UUID: string;
  unexpected: boolean;
  expectedBy?: string;
  log: string;
  [k: string]: unknown;
}

export function readJsonLines(file: string): OutputLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as OutputLine);
}
