// A TUF repository built with the tuf component in a temp dir, served over loopback by the
// same plugin `keyless serve` uses, and the CLI run against it with its own cache.
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import assert from 'node:assert/strict';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { createHttpApp } from '../../src/services/http/index.js';
import { tufService } from '../../src/services/tuf/index.js';
import { createRepository, type TargetContent, type TufPeriods, type TufSigningKey } from '../../src/tuf/index.js';
import { KEYLESS_BIN } from '../server/helpers.js';

/** The cosign that .ci/run installs (pinned); a missing one fails the test that needs it, never skips it. */
export const COSIGN_VERSION = 'v3.1.3';

export function findCosign(): string {
  const candidates = [
    process.env.KEYLESS_COSIGN,
    ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'cosign')),
    join(homedir(), 'go', 'bin', 'cosign'),
  ];
  const found = candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c));
  if (!found)
    assert.fail(
      `cosign not found (KEYLESS_COSIGN, PATH, ~/go/bin): install it with go install github.com/sigstore/cosign/v3/cmd/cosign@${COSIGN_VERSION} (as .ci/run does)`,
    );
  return found;
}

export function tempDir(prefix = 'keyless-tuf-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function newKey(type: 'ec' | 'ed25519' = 'ec'): TufSigningKey {
  const { privateKey, publicKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { publicKey, sign: (m) => sign(type === 'ec' ? 'sha256' : null, m, privateKey) };
}

export const DAY = 86_400_000;
export const PERIODS: TufPeriods = { root: 365 * DAY, targets: 365 * DAY, snapshot: 365 * DAY, timestamp: 7 * DAY };

export function contents(tag: string): TargetContent[] {
  return [
    {
      name: 'trusted_root.json',
      bytes: Buffer.from(
        JSON.stringify({
          mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
          tlogs: [],
          certificateAuthorities: [],
          ctlogs: [],
          timestampAuthorities: [],
          tag,
        }),
      ),
    },
    {
      name: 'signing_config.v0.2.json',
      bytes: Buffer.from(JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', caUrls: [], tag })),
    },
  ];
}

export interface TestRepo {
  dir: string;
  keys: { root: TufSigningKey; targets: TufSigningKey; online: TufSigningKey };
  rootPath: string;
}

export function makeRepo(tag = 'v1', periods = PERIODS, now = new Date()): TestRepo {
  const dir = join(tempDir('keyless-tuf-repo-'), 'repository');
  const keys = { root: newKey(), targets: newKey(), online: newKey('ed25519') };
  createRepository(dir, { root: [keys.root], targets: keys.targets, online: keys.online }, contents(tag), now, periods);
  return { dir, keys, rootPath: join(dir, '1.root.json') };
}

export async function serveDir(dir: string): Promise<{ url: string; close: () => Promise<void>; requests: string[] }> {
  const app = createHttpApp();
  const requests: string[] = [];
  app.addHook('onRequest', async (req) => {
    requests.push(req.url.replace(/^\/tuf\//, ''));
  });
  await app.register(tufService({ dir }), { prefix: '/tuf' });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `${base}/tuf`, close: () => app.close(), requests };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, KEYLESS_TRUSTED_ROOT: undefined, KEYLESS_SIGNING_CONFIG: undefined, ...env };
    for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
    const child = spawn(process.execPath, [KEYLESS_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every file of a directory with its SHA-256 and mode: equal snapshots mean an untouched cache. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${statSync(p).mode.toString(8)}`;
    }
  };
  walk(dir);
  return out;
}
