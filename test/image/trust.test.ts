// @integration: starts `keyless serve` and a registry on loopback
// The image commands find their trust as verify-blob and sign-blob do: --trusted-root (and
// --signing-config), then KEYLESS_TRUSTED_ROOT (KEYLESS_SIGNING_CONFIG), then the TUF cache of
// `keyless initialize`, then the built-in public-good root (src/cli/trust-resolution.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, keyless, type Serve } from '../sign/serve-helper.js';
import { startSpecRegistry, type SpecRegistry } from '../support/oci-registry.js';
import { pushImage } from '../support/images.js';
import { RegistryClient } from '../../src/registry/index.js';
import { PRODUCTION_TRUSTED_ROOT } from '../../src/verify/index.js';

const EMAIL = 'image-trust@example.com';
let serve: Serve;
let registry: SpecRegistry;
let work: string;
let token: string;
let policy: string[];
let tuf: { KEYLESS_TUF_ROOT: string };
/** No TUF cache: only flags and the environment count. */
let noTuf: { KEYLESS_TUF_ROOT: string };
/** A genuine trusted root that does not know this server (the public-good one). */
let otherRoot: string;

before(async () => {
  [serve, registry] = await Promise.all([startServe(), startSpecRegistry()]);
  work = mkdtempSync(join(tmpdir(), 'keyless-image-trust-'));
  const t = await keyless(['dev-token', '--url', serve.url, '--email', EMAIL]);
  assert.equal(t.code, 0, t.stderr);
  token = t.stdout.trim();
  policy = ['--certificate-identity', EMAIL, '--certificate-oidc-issuer', `${serve.url}/oidc`];
  tuf = { KEYLESS_TUF_ROOT: join(work, 'tuf-cache') };
  noTuf = { KEYLESS_TUF_ROOT: join(work, 'no-tuf-cache') };
  otherRoot = join(work, 'public-good-trusted-root.json');
  writeFileSync(otherRoot, JSON.stringify(PRODUCTION_TRUSTED_ROOT));
  const init = await keyless(['initialize', '--mirror', `${serve.url}/tuf`, '--root', join(serve.dataDir, 'tuf', 'root.json')], tuf);
  assert.equal(init.code, 0, init.stderr);
});
after(async () => {
  await Promise.all([registry?.stop(), serve?.stop()]);
});

async function image(name: string): Promise<string> {
  const repo = { registry: registry.host, repository: `trust/${name}` };
  await pushImage(new RegistryClient(), repo, 'v1');
  return `${registry.host}/${repo.repository}:v1`;
}

test('after keyless initialize, sign, attest, verify and verify-attestation need no trust flags (TUF cache)', async () => {
  const ref = await image('tuf');
  const signed = await keyless(['sign', ref, '--identity-token', token, '-y'], tuf);
  assert.equal(signed.code, 0, signed.stderr);
  const predicate = join(work, 'predicate.json');
  writeFileSync(predicate, '{"scanner":"none"}');
  const attested = await keyless(['attest', ref, '--predicate', predicate, '--type', 'vuln', '--identity-token', token, '-y'], tuf);
  assert.equal(attested.code, 0, attested.stderr);
  const verified = await keyless(['verify', ref, ...policy], tuf);
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /Verified OK/);
  assert.equal((await keyless(['verify-attestation', '--type', 'vuln', ref, ...policy], tuf)).code, 0);
  // --offline uses the cache without asking the mirror.
  const offline = await keyless(['verify', ref, ...policy, '--offline'], tuf);
  assert.equal(offline.code, 0, offline.stderr);
  // Without the cache: the built-in public-good root, which does not know this server.
  const builtIn = await keyless(['verify', ref, ...policy], noTuf);
  assert.equal(builtIn.code, 1, builtIn.stderr);
  assert.doesNotMatch(builtIn.stdout, /Verified OK/);
});

test('KEYLESS_TRUSTED_ROOT comes before the TUF cache, --trusted-root before both', async () => {
  const ref = await image('order');
  assert.equal(
    (
      await keyless(['sign', ref, '--identity-token', token, '--signing-config', serve.signingConfig(2), '-y'], {
        KEYLESS_TRUSTED_ROOT: serve.trustedRoot,
        ...noTuf,
      })
    ).code,
    0,
  );
  // The environment alone is enough.
  assert.equal((await keyless(['verify', ref, ...policy], { KEYLESS_TRUSTED_ROOT: serve.trustedRoot, ...noTuf })).code, 0);
  // The environment wins over a valid TUF cache: a root that does not know the server fails.
  const envFirst = await keyless(['verify', ref, ...policy], { KEYLESS_TRUSTED_ROOT: otherRoot, ...tuf });
  assert.equal(envFirst.code, 1, envFirst.stderr);
  // The flag wins over the environment, both ways.
  assert.equal(
    (await keyless(['verify', ref, ...policy, '--trusted-root', serve.trustedRoot], { KEYLESS_TRUSTED_ROOT: otherRoot, ...noTuf })).code,
    0,
  );
  assert.equal(
    (await keyless(['verify', ref, ...policy, '--trusted-root', otherRoot], { KEYLESS_TRUSTED_ROOT: serve.trustedRoot, ...tuf })).code,
    1,
  );
  // Signing checks its bundle with the resolved root too: the wrong one stops it before anything is pushed.
  const wrongSign = await keyless(['sign', ref, '--identity-token', token, '--signing-config', serve.signingConfig(2), '-y'], {
    KEYLESS_TRUSTED_ROOT: otherRoot,
    ...noTuf,
  });
  assert.equal(wrongSign.code, 1, wrongSign.stderr);
});

test('an unreadable KEYLESS_TRUSTED_ROOT is an input error that names the variable', async () => {
  const ref = await image('unreadable');
  const r = await keyless(['verify', ref, ...policy], { KEYLESS_TRUSTED_ROOT: join(work, 'missing.json'), ...noTuf });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /trusted root .*missing\.json \(from KEYLESS_TRUSTED_ROOT\)/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
