// `bin/keyless serve` as a real child process on a free port, for the signing client's
// end-to-end tests, and `bin/keyless` runs with a clean environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = join(process.cwd(), 'bin', 'keyless');

export interface Serve {
  url: string;
  dataDir: string;
  trustedRoot: string;
  child: ChildProcess;
  stop(): Promise<void>;
  /** The server's signing config with only the Rekor log of this major API version. */
  signingConfig(logVersion: 1 | 2): string;
}

/** `dataDir`: start on an existing data directory (a restart) instead of a fresh one. */
export async function startServe(options: { dataDir?: string } = {}): Promise<Serve> {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-sign-e2e-'));
  const dataDir = options.dataDir ?? join(dir, 'data');
  const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`keyless serve printed no URL; stderr:\n${err}`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    void exited.then(() => reject(new Error(`keyless serve exited early; stderr:\n${err}`)));
  });
  return {
    url,
    dataDir,
    trustedRoot: join(dataDir, 'trusted_root.json'),
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    signingConfig(v) {
      const sc = JSON.parse(readFileSync(join(dataDir, 'signing_config.json'), 'utf8')) as {
        rekorTlogUrls: Array<{ majorApiVersion: number }>;
      };
      sc.rekorTlogUrls = sc.rekorTlogUrls.filter((s) => s.majorApiVersion === v);
      if (sc.rekorTlogUrls.length === 0) throw new Error(`the server's signing config has no Rekor v${v} log`);
      const file = join(dir, `signing_config.v${v}.json`);
      writeFileSync(file, JSON.stringify(sc));
      return file;
    },
  };
}

/** The flags that sign with `token` against `serve` (its Rekor v`rekor` log) and check the bundle with its trusted root. */
export function signingFlags(serve: Serve, token: string, rekor: 1 | 2 = 1): string[] {
  return ['--identity-token', token, '--signing-config', serve.signingConfig(rekor), '--trusted-root', serve.trustedRoot];
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `bin/keyless ARGS` with no token in the environment and stdin closed (not a terminal). */
export function keyless(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(SIGSTORE_ID_TOKEN|ACTIONS_ID_TOKEN_|KEYLESS_|BROWSER$)/.test(k)),
    );
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end();
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
