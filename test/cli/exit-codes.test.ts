// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The exit statuses, pinned for every command: 0 success, 1 a check or an operation
// failed, 2 usage or input error. And every command's -h ends with an example.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFORMANCE_DIR, DEFAULT_IDENTITY, DEFAULT_ISSUER, ensureBuilt } from '../conformance/helpers.js';

const KEYLESS = join(process.cwd(), 'bin', 'keyless');
const A_TXT = join(CONFORMANCE_DIR, 'a.txt');
const V03 = join(CONFORMANCE_DIR, 'happy-path-v0.3', 'bundle.sigstore.json');
const DSSE = join(CONFORMANCE_DIR, 'happy-path-intoto-in-dsse-v3', 'bundle.sigstore.json');
const ID = ['--certificate-identity', DEFAULT_IDENTITY, '--certificate-oidc-issuer', DEFAULT_ISSUER];
const COMMANDS = [
  ['verify-bundle'],
  ['verify-blob'],
  ['verify-blob-attestation'],
  ['sign-blob'],
  ['attest-blob'],
  ['sign-bundle'],
  ['token'],
  ['token', 'inspect'],
  ['signing-config'],
  ['signing-config', 'create'],
  ['trusted-root'],
  ['trusted-root', 'create'],
  ['serve'],
  ['dev-token'],
  ['completion'],
];
let dir: string;

function keyless(args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SIGSTORE_ID_TOKEN|ACTIONS_ID_TOKEN_|KEYLESS_)/.test(k)));
  return spawnSync(process.execPath, [KEYLESS, ...args], { encoding: 'utf8', env, input: '' });
}

function unsignedToken(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'JWT' })}.${part({ aud: 'sigstore', sub: 's', exp: Math.floor(Date.now() / 1000) + 600, ...claims })}.c2ln`;
}

function expectStatus(args: string[], status: number): ReturnType<typeof keyless> {
  const r = keyless(args);
  assert.equal(r.status, status, `keyless ${args.join(' ')} exited ${r.status}, expected ${status}: ${r.stderr}`);
  return r;
}

before(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'keyless-exit-'));
});

test('every command: -h exits 0 and ends with an example; an unknown flag exits 2', () => {
  for (const c of COMMANDS) {
    const help = expectStatus([...c, '-h'], 0);
    assert.match(help.stdout, /\nExample:\n {2}\S/, `${c.join(' ')} -h has no example`);
    expectStatus([...c, '--no-such-flag'], 2);
  }
  expectStatus(['no-such-command'], 2);
  assert.match(expectStatus(['--version'], 0).stdout, /^\d+\.\d+\.\d+\n$/);
});

test('verify-bundle, verify-blob, verify-blob-attestation: 0 verified, 1 a check failed, 2 usage or input error', () => {
  for (const cmd of ['verify-bundle', 'verify-blob']) {
    expectStatus([cmd, '--bundle', V03, ...ID, A_TXT], 0);
    expectStatus(
      [cmd, '--bundle', V03, '--certificate-identity', 'someone@example.com', '--certificate-oidc-issuer', DEFAULT_ISSUER, A_TXT],
      1,
    );
    expectStatus([cmd, '--bundle', V03, A_TXT], 2);
    expectStatus([cmd, '--bundle', join(dir, 'missing.json'), ...ID, A_TXT], 2);
    expectStatus([cmd, '--bundle', join(CONFORMANCE_DIR, 'trusted_root.production.json'), ...ID, A_TXT], 2);
  }
  expectStatus(['verify-blob-attestation', '--bundle', DSSE, ...ID, '--type', 'slsaprovenance1', A_TXT], 0);
  // cosign's default: without --type the predicate type must be custom.
  expectStatus(['verify-blob-attestation', '--bundle', DSSE, ...ID, A_TXT], 1);
  expectStatus(['verify-blob-attestation', '--bundle', DSSE, ...ID, '--type', 'spdxjson', A_TXT], 1);
  expectStatus(['verify-blob-attestation', '--bundle', DSSE, A_TXT], 2);
});

test('sign-blob, attest-blob, sign-bundle: 2 for usage and unreadable input, 1 when a service cannot be reached', () => {
  expectStatus(['sign-blob'], 2);
  expectStatus(
    [
      'sign-blob',
      join(dir, 'missing.txt'),
      '--bundle',
      join(dir, 'x.json'),
      '--identity-token',
      unsignedToken({ iss: 'https://idp.example' }),
    ],
    2,
  );
  expectStatus(['attest-blob', A_TXT, '--bundle', join(dir, 'y.json')], 2);
  expectStatus(['sign-bundle'], 2);
  const sc = join(dir, 'sc.json');
  expectStatus(
    [
      'signing-config',
      'create',
      '--fulcio',
      'url=http://127.0.0.1:9,api-version=1,start-time=2024-01-01T00:00:00Z,operator=t',
      '--rekor',
      'url=http://127.0.0.1:9,api-version=1,start-time=2024-01-01T00:00:00Z,operator=t',
      '--output-file',
      sc,
    ],
    0,
  );
  const r = expectStatus(
    [
      'sign-blob',
      A_TXT,
      '--bundle',
      join(dir, 'z.json'),
      '--signing-config',
      sc,
      '--trusted-root',
      join(CONFORMANCE_DIR, 'trusted_root.production.json'),
      '--identity-token',
      unsignedToken({ iss: 'https://idp.example', email: 'a@example.com', email_verified: true }),
    ],
    1,
  );
  assert.match(r.stderr, /^error: /);
});

test('token inspect: 0 for a usable token, 1 for an expired one or the wrong audience', () => {
  const good = { iss: 'https://accounts.google.com', email: 'a@example.com', email_verified: true };
  expectStatus(['token', 'inspect', unsignedToken(good)], 0);
  expectStatus(['token', 'inspect', unsignedToken({ ...good, exp: 1000 })], 1);
  expectStatus(['token', 'inspect', unsignedToken({ ...good, aud: 'another-audience' })], 1);
  expectStatus(['token', 'inspect', 'neither-a-jwt-nor-a-file'], 1);
});

test('signing-config / trusted-root create: 0 written, 2 for a malformed service spec', () => {
  expectStatus(['signing-config', 'create', '--fulcio', 'nonsense', '--output-file', join(dir, 'bad.json')], 2);
  const file = join(dir, 'not-a-pem.pem');
  writeFileSync(file, 'not a certificate');
  const r = keyless([
    'trusted-root',
    'create',
    '--fulcio',
    `url=https://f.example,certificate-chain=${file}`,
    '--out',
    join(dir, 'tr.json'),
  ]);
  assert.ok(r.status === 1 || r.status === 2, r.stderr);
  assert.match(r.stderr, /^error: /);
});

test('serve and dev-token: 2 for a bad flag value, 1 when the identity provider cannot be reached', () => {
  expectStatus(['serve', '--port', 'not-a-port'], 2);
  expectStatus(['dev-token', '--url', 'http://127.0.0.1:9', '--email', 'a@example.com'], 1);
});

test('completion: 0 for bash, zsh and fish; 2 for another shell', () => {
  for (const shell of ['bash', 'zsh', 'fish']) assert.match(expectStatus(['completion', shell], 0).stdout, /verify-blob/);
  expectStatus(['completion', 'powershell'], 2);
});

test("cosign v3's deprecated --new-bundle-format is accepted with a one-line note; --offline (the TUF cache only) is accepted silently", () => {
  const r = expectStatus(['verify-blob', '--offline', '--new-bundle-format', '--bundle', V03, ...ID, A_TXT], 0);
  assert.match(r.stdout, /^Verified OK/);
  assert.match(r.stderr, /^note: --new-bundle-format has no effect: .+\n$/);
  const s = expectStatus(['sign-blob', '--new-bundle-format', join(dir, 'missing.txt'), '--bundle', join(dir, 'n.json')], 2);
  assert.match(s.stderr, /^note: --new-bundle-format has no effect/);
});
