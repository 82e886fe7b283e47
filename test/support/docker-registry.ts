// Debian's `docker-registry` (distribution 2.8.2) as a child process on a free loopback port
// with its own storage directory: anonymous, or with htpasswd Basic auth. No referrers API,
// so clients use the tag-schema fallback against it. Fails loudly when it is not installed
// (.ci/run installs it).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  username?: string;
  password?: string;
  /** The registry process, for CPU accounting in benchmarks. */
  pid: number;
  /** Everything the registry has logged so far (at `log.level: info`, a line per request with its duration). */
  log(): string;
  stop(): Promise<void>;
}

const BINARY = process.env.KEYLESS_DOCKER_REGISTRY ?? 'docker-registry';

export interface DockerRegistryOptions {
  basicAuth?: boolean;
  /** `storage.cache.blobdescriptor: inmemory`, the usual production setting. */
  blobDescriptorCache?: boolean;
  /** Extra environment for the process (e.g. the Go runtime's GOGC). */
  env?: Record<string, string>;
  /** `inmemory`: the registry's in-memory storage driver instead of files on disk (benchmarks). */
  storage?: 'filesystem' | 'inmemory';
}

export async function startDockerRegistry(options: DockerRegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-docker-registry-'));
  let auth = '';
  let username: string | undefined;
  let password: string | undefined;
  if (options.basicAuth) {
    username = 'ci-user';
    password = 'ci-secret-pass';
    const htpasswd = join(dir, 'htpasswd');
    const r = spawnSync('htpasswd', ['-Bbc', htpasswd, username, password], { encoding: 'utf8' });
    if (r.error || r.status !== 0)
      throw new Error(`htpasswd (apache2-utils) is needed for the Basic-auth registry: ${r.error?.message ?? r.stderr}`);
    auth = `auth:\n  htpasswd:\n    realm: keyless-test\n    path: ${htpasswd}\n`;
  }
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n${options.storage === 'inmemory' ? '  inmemory: {}' : `  filesystem:\n    rootdirectory: ${join(dir, 'data')}`}\n${options.blobDescriptorCache ? '  cache:\n    blobdescriptor: inmemory\n' : ''}  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n${auth}`,
  );
  let child: ChildProcess;
  try {
    child = spawn(BINARY, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  } catch (e) {
    throw new Error(`cannot start ${BINARY} (Debian package docker-registry): ${(e as Error).message}`, { cause: e });
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let log = '';
  let settled = false;
  const host = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM'); // not left running when it never said where it listens
      reject(new Error(`docker-registry printed no address; output:\n${log}`));
    }, 20_000);
    const onData = (d: string) => {
      log += d;
      if (settled) return;
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        settled = true;
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.stderr!.setEncoding('utf8').on('data', onData);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${BINARY} (Debian package docker-registry; .ci/run installs it): ${e.message}`));
    });
    void exited.then(() => reject(new Error(`docker-registry exited early:\n${log}`)));
  });
  return {
    host,
    username,
    password,
    pid: child.pid!,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
