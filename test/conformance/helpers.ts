// The conformance cases (test/support/conformance.ts finds them) and how the suite invokes a client.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CONFORMANCE_DIR } from '../support/conformance.js';

export { CONFORMANCE_DIR };
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(REPO, 'bin', 'keyless');

export const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
export const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

export interface ConformanceCase {
  name: string;
  dir: string;
  expectFailure: boolean;
  bundlePath: string;
  artifactPath: string;
  artifact: Buffer;
  digest: string;
  keyPath?: string;
  identity: string;
  issuer: string;
  trustedRootPath?: string;
}

export function conformanceCases(): ConformanceCase[] {
  return readdirSync(CONFORMANCE_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(CONFORMANCE_DIR, e.name, 'bundle.sigstore.json')))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const dir = join(CONFORMANCE_DIR, name);
      const at = (f: string) => join(dir, f);
      const artifactPath = existsSync(at('artifact')) ? at('artifact') : join(CONFORMANCE_DIR, 'a.txt');
      const artifact = readFileSync(artifactPath);
      return {
        name,
        dir,
        expectFailure: name.endsWith('_fail'),
        bundlePath: at('bundle.sigstore.json'),
        artifactPath,
        artifact,
        digest: `sha256:${createHash('sha256').update(artifact).digest('hex')}`,
        keyPath: existsSync(at('key.pub')) ? at('key.pub') : undefined,
        identity: existsSync(at('identity')) ? readFileSync(at('identity'), 'utf8').trim() : DEFAULT_IDENTITY,
        issuer: existsSync(at('issuer')) ? readFileSync(at('issuer'), 'utf8').trim() : DEFAULT_ISSUER,
        trustedRootPath: existsSync(at('trusted_root.json')) ? at('trusted_root.json') : undefined,
      };
    });
}

/** The argument list exactly as the conformance suite builds it (README, cli_protocol.md). */
export function verifyBundleArgs(c: ConformanceCase, mode: 'path' | 'digest'): string[] {
  const args = ['verify-bundle', '--bundle', c.bundlePath];
  if (c.keyPath) args.push('--key', c.keyPath);
  else args.push('--certificate-identity', c.identity, '--certificate-oidc-issuer', c.issuer);
  if (c.trustedRootPath) args.push('--trusted-root', c.trustedRootPath);
  args.push(mode === 'path' ? c.artifactPath : c.digest);
  return args;
}

/** bin/keyless needs dist/; `npm test` builds it first, a lone run builds it here. */
export function ensureBuilt(): void {
  if (existsSync(join(REPO, 'dist', 'cli.js'))) return;
  const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'build.mjs')], { cwd: REPO, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
}

export function runKeyless(args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
