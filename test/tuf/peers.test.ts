// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Other clients of Keyless's TUF repository: cosign (`cosign initialize --mirror --root`,
// then `verify-blob` without --trusted-root) and sigstore-python (`--instance URL
// trust-instance ROOT`, then `verify identity`), each verifying a Keyless bundle with the
// trust it fetched from the repository. Both peers are installed by .ci/run (pinned);
// a missing peer fails this test, it is never skipped. The bundles are the first entries of
// their logs (index 0), which sigstore-python accepts only with the index written out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COSIGN_VERSION, findCosign, runCli, tempDir } from './helpers.js';
import { runKeyless, startServe, type ServeProcess } from '../server/helpers.js';

const SIGSTORE_PYTHON_VERSION = '4.5.1';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (e) => resolve({ code: -1, stdout, stderr: `${stderr}${e.message}` }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let server: ServeProcess;
const work = tempDir('keyless-tuf-peers-');
/** The first entry of each log of a fresh server: both at log index 0. */
const signed: Record<'v2' | 'v1', { artifact: string; bundle: string }> = {} as never;
const EMAIL = 'peer@example.com';

before(async () => {
  server = await startServe();
  const token = (await runKeyless(['dev-token', '--url', server.url, '--email', EMAIL])).stdout.trim();
  const trust = [
    '--signing-config',
    join(server.dataDir, 'signing_config.json'),
    '--trusted-root',
    join(server.dataDir, 'trusted_root.json'),
  ];
  for (const [version, extra] of [
    ['v2', []],
    ['v1', ['--rekor-url', server.url, '--rekor-version', '1']],
  ] as const) {
    const artifact = join(work, `${version}.txt`);
    const bundle = `${artifact}.sigstore.json`;
    writeFileSync(artifact, `first Rekor ${version} entry, signed by Keyless\n`);
    const r = await runCli(['sign-blob', artifact, '--bundle', bundle, '--identity-token', token, ...trust, ...extra], {});
    assert.equal(r.code, 0, r.stderr);
    // proto3 JSON may leave a zero out; Keyless writes it, as sigstore-python requires it.
    const entry = JSON.parse(readFileSync(bundle, 'utf8')).verificationMaterial.tlogEntries[0];
    assert.equal(entry.logIndex, '0', `${version}: the first entry, its index written out`);
    assert.equal(entry.inclusionProof.logIndex, '0');
    assert.equal(entry.kindVersion.version, version === 'v2' ? '0.0.2' : '0.0.1');
    signed[version] = { artifact, bundle };
  }
});
after(async () => {
  await server?.stop();
});

test(`cosign ${COSIGN_VERSION}: initialize --mirror --root from Keyless, then verify-blob without --trusted-root`, async () => {
  const cosign = findCosign();
  const version = await run(cosign, ['version']);
  assert.match(version.stdout + version.stderr, new RegExp(`GitVersion:\\s+${COSIGN_VERSION.replace(/\./g, '\\.')}`), 'the pinned cosign');
  const home = join(work, 'cosign-home');
  mkdirSync(home);
  const env = { HOME: home, TUF_ROOT: join(work, 'cosign-tuf') };
  const init = await run(cosign, ['initialize', '--mirror', `${server.url}/tuf`, '--root', join(server.dataDir, 'tuf', 'root.json')], env);
  assert.equal(init.code, 0, init.stderr);
  const policy = ['--certificate-identity', EMAIL, '--certificate-oidc-issuer', `${server.url}/oidc`];
  const { artifact, bundle } = signed.v2;
  const ok = await run(cosign, ['verify-blob', artifact, '--bundle', bundle, ...policy], env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /Verified OK/);
  const changed = join(work, 'changed.txt');
  writeFileSync(changed, 'not what was signed\n');
  assert.notEqual((await run(cosign, ['verify-blob', changed, '--bundle', bundle, ...policy], env)).code, 0);
  // Without the Keyless TUF trust, cosign's public-good root does not accept the bundle.
  const otherHome = join(work, 'cosign-home-2');
  mkdirSync(otherHome);
  assert.notEqual(
    (
      await run(cosign, ['verify-blob', artifact, '--bundle', bundle, ...policy], {
        HOME: otherHome,
        TUF_ROOT: join(work, 'cosign-tuf-empty'),
      })
    ).code,
    0,
  );
});

test(`sigstore-python ${SIGSTORE_PYTHON_VERSION}: trust-instance with Keyless's root, then verify identity with --instance`, async () => {
  const python = process.env.KEYLESS_PYTHON || 'python3';
  const version = await run(python, ['-m', 'sigstore', '--version']);
  if (version.code !== 0 || !version.stdout.includes(SIGSTORE_PYTHON_VERSION)) {
    assert.fail(
      `sigstore-python ${SIGSTORE_PYTHON_VERSION} not found for ${python} (${(version.stdout + version.stderr).trim()}): pip install sigstore==${SIGSTORE_PYTHON_VERSION} (as .ci/run does)`,
    );
  }
  const env = { XDG_DATA_HOME: join(work, 'py-data'), XDG_CACHE_HOME: join(work, 'py-cache') };
  const instance = ['-m', 'sigstore', '--instance', `${server.url}/tuf`];
  const trust = await run(python, [...instance, 'trust-instance', join(server.dataDir, 'tuf', 'root.json')], env);
  assert.equal(trust.code, 0, trust.stderr);
  const policy = ['--cert-identity', EMAIL, '--cert-oidc-issuer', `${server.url}/oidc`];
  // Both first entries (log index 0): Rekor v2 and Rekor v1.
  for (const { artifact, bundle } of [signed.v2, signed.v1]) {
    const ok = await run(python, [...instance, 'verify', 'identity', '--bundle', bundle, ...policy, artifact], env);
    assert.equal(ok.code, 0, `${bundle}: ${ok.stderr}`);
    assert.match(ok.stdout + ok.stderr, /OK: /);
  }
  const changed = join(work, 'changed-py.txt');
  writeFileSync(changed, 'not what was signed either\n');
  assert.notEqual((await run(python, [...instance, 'verify', 'identity', '--bundle', signed.v2.bundle, ...policy, changed], env)).code, 0);
});
