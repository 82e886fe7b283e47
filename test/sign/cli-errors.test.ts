// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Bad input through the real CLI: one line on stderr, a non-zero exit, nothing at --bundle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync, existsSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, SignJWT } from 'jose';
import { startFixture, json } from './fixtures.js';

const BIN = join(process.cwd(), 'bin', 'keyless');
const ROOT = join(process.cwd(), 'assets', 'trusted_root.production.json');
let dir: string;
let artifact: string;
let deadUrl: string;
let key: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function keyless(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(SIGSTORE_ID_TOKEN|ACTIONS_ID_TOKEN_|KEYLESS_|BROWSER$)/.test(k)),
    );
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function config(url: string, over: Record<string, unknown> = {}): string {
  const svc = (u: string, v = 1) => ({ url: u, majorApiVersion: v, validFor: { start: '2020-01-01T00:00:00Z' } });
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [svc(url)],
      oidcUrls: [],
      rekorTlogUrls: [svc(url)],
      tsaUrls: [svc(`${url}/api/v1/timestamp`)],
      rekorTlogConfig: { selector: 'ANY' },
      tsaConfig: { selector: 'ANY' },
      ...over,
    }),
  );
  return file;
}

const token = (claims: Record<string, unknown> = {}) =>
  new SignJWT({
    iss: 'https://idp.example',
    sub: 'me',
    aud: 'sigstore',
    exp: Math.floor(Date.now() / 1000) + 600,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256' })
    .sign(key);

function assertOneLineFailure(r: Run, pattern: RegExp, bundle: string, exit = 1): void {
  assert.equal(r.code, exit, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, '');
  assert.equal(existsSync(bundle), false, 'nothing may be written at --bundle');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary file is left behind',
  );
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keyless-sign-cli-'));
  artifact = join(dir, 'artifact.txt');
  writeFileSync(artifact, 'artifact\n');
  key = (await generateKeyPair('ES256')).privateKey;
  const f = await startFixture((_q, _b, res) => json(res, 200, {}));
  deadUrl = f.url;
  await f.close();
});
after(() => {});

test('no identity token and no terminal: fails at once, nothing waits for input', async () => {
  const bundle = join(dir, 'a.sigstore.json');
  const r = await keyless(['sign-blob', artifact, '--bundle', bundle, '--signing-config', config(deadUrl), '--trusted-root', ROOT]);
  assertOneLineFailure(r, /no identity token/, bundle);
});

test('an expired token is refused with its expiry', async () => {
  const bundle = join(dir, 'b.sigstore.json');
  const r = await keyless([
    'sign-blob',
    artifact,
    '--bundle',
    bundle,
    '--signing-config',
    config(deadUrl),
    '--trusted-root',
    ROOT,
    '--identity-token',
    await token({ exp: Math.floor(Date.now() / 1000) - 120 }),
  ]);
  assertOneLineFailure(r, /identity token expired at/, bundle);
});

test('a wrong-audience token names both audiences', async () => {
  const bundle = join(dir, 'c.sigstore.json');
  const r = await keyless([
    'sign-blob',
    artifact,
    '--bundle',
    bundle,
    '--signing-config',
    config(deadUrl),
    '--trusted-root',
    ROOT,
    '--identity-token',
    await token({ aud: 'not-sigstore' }),
  ]);
  assertOneLineFailure(r, /audience is "not-sigstore", expected "sigstore"/, bundle);
});

test('an unreachable CA is named in the error', async () => {
  const bundle = join(dir, 'd.sigstore.json');
  const r = await keyless([
    'sign-blob',
    artifact,
    '--bundle',
    bundle,
    '--signing-config',
    config(deadUrl),
    '--trusted-root',
    ROOT,
    '--identity-token',
    await token(),
  ]);
  assertOneLineFailure(r, new RegExp(`Fulcio at ${deadUrl.replace(/\./g, '\\.')}: cannot be reached`), bundle);
});

test('a signing config with no usable service', async () => {
  const bundle = join(dir, 'e.sigstore.json');
  const cfg = config(deadUrl, {
    caUrls: [{ url: deadUrl, majorApiVersion: 1, validFor: { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' } }],
  });
  const r = await keyless([
    'sign-blob',
    artifact,
    '--bundle',
    bundle,
    '--signing-config',
    cfg,
    '--trusted-root',
    ROOT,
    '--identity-token',
    await token(),
  ]);
  assertOneLineFailure(r, /no usable certificate authority/, bundle);
  const cfg2 = config(deadUrl, { rekorTlogUrls: [{ url: deadUrl, majorApiVersion: 3, validFor: { start: '2020-01-01T00:00:00Z' } }] });
  const r2 = await keyless([
    'sign-blob',
    artifact,
    '--bundle',
    bundle,
    '--signing-config',
    cfg2,
    '--trusted-root',
    ROOT,
    '--identity-token',
    await token(),
  ]);
  assertOneLineFailure(r2, /no usable transparency log/, bundle);
});

test('an unreadable or missing file', async () => {
  const bundle = join(dir, 'f.sigstore.json');
  const r = await keyless([
    'sign-blob',
    join(dir, 'missing.txt'),
    '--bundle',
    bundle,
    '--signing-config',
    config(deadUrl),
    '--trusted-root',
    ROOT,
    '--identity-token',
    await token(),
  ]);
  assertOneLineFailure(r, /cannot read .*missing\.txt \(no such file or directory\)/, bundle, 2);
  const sub = join(dir, 'a-directory');
  mkdirSync(sub, { recursive: true });
  const r2 = await keyless([
    'sign-blob',
    sub,
    '--bundle',
    bundle,
    '--signing-config',
    config(deadUrl),
    '--trusted-root',
    ROOT,
    '--identity-token',
    await token(),
  ]);
  assertOneLineFailure(r2, /not a regular file/, bundle, 2);
});

test('a private instance without its trusted root is refused before signing', async () => {
  const bundle = join(dir, 'g.sigstore.json');
  const r = await keyless([
    'sign-blob',
    artifact,
    '--bundle',
    bundle,
    '--signing-config',
    config(deadUrl),
    '--identity-token',
    await token(),
  ]);
  assertOneLineFailure(r, /--trusted-root/, bundle);
});

test('sign-bundle --staging is refused clearly', async () => {
  const bundle = join(dir, 'h.sigstore.json');
  const r = await keyless(['sign-bundle', '--staging', '--identity-token', await token(), '--bundle', bundle, artifact]);
  assertOneLineFailure(r, /--staging/, bundle);
});

test('usage errors exit 2', async () => {
  const r = await keyless(['sign-blob', artifact, artifact]);
  assert.equal(r.code, 2);
  const r2 = await keyless(['attest-blob', artifact, '--bundle', join(dir, 'x.json')]);
  assert.equal(r2.code, 2);
});

test("--oidc-issuer must match the token's issuer", async () => {
  const bundle = join(dir, 'i.sigstore.json');
  const r = await keyless([
    'sign-blob',
    artifact,
    '--bundle',
    bundle,
    '--signing-config',
    config(deadUrl),
    '--trusted-root',
    ROOT,
    '--identity-token',
    await token(),
    '--oidc-issuer',
    'https://other-idp.example',
  ]);
  assertOneLineFailure(r, /issuer is "https:\/\/idp\.example", expected "https:\/\/other-idp\.example"/, bundle);
});

test('--timeout stops a signing that hangs, leaving nothing behind', async () => {
  const hang = await startFixture(() => new Promise(() => {}));
  try {
    const bundle = join(dir, 'j.sigstore.json');
    const r = await keyless([
      'sign-blob',
      artifact,
      '--bundle',
      bundle,
      '--signing-config',
      config(hang.url),
      '--trusted-root',
      ROOT,
      '--identity-token',
      await token(),
      '--timeout',
      '1s',
    ]);
    assertOneLineFailure(r, /gave up after --timeout 1s/, bundle);
  } finally {
    await hang.close();
  }
});

test('a malformed trusted root is refused before any service is asked', async () => {
  const bundle = join(dir, 'k.sigstore.json');
  const root = join(dir, 'bad-root.json');
  writeFileSync(root, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: 'nope' }));
  const r = await keyless([
    'sign-blob',
    artifact,
    '--bundle',
    bundle,
    '--signing-config',
    config(deadUrl),
    '--trusted-root',
    root,
    '--identity-token',
    await token(),
  ]);
  assertOneLineFailure(r, /tlogs/, bundle);
  assert.doesNotMatch(r.stderr, /cannot be reached/);
});

test('an output place that does not exist is refused before signing', async () => {
  const missing = join(dir, 'no-such-dir');
  const r = await keyless([
    'sign-blob',
    artifact,
    '--bundle',
    join(missing, 'x.sigstore.json'),
    '--signing-config',
    config(deadUrl),
    '--trusted-root',
    ROOT,
    '--identity-token',
    await token(),
  ]);
  assertOneLineFailure(r, /does not exist/, join(missing, 'x.sigstore.json'));
  // --output-dir is created when missing; a regular file there is refused.
  const r2 = await keyless([
    'sign-blob',
    artifact,
    artifact,
    '--output-dir',
    artifact,
    '--signing-config',
    config(deadUrl),
    '--trusted-root',
    ROOT,
    '--identity-token',
    await token(),
  ]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /^error: --output-dir .* is not a directory\n$/);
  const created = join(dir, 'new', 'bundles');
  await keyless([
    'sign-blob',
    artifact,
    '--output-dir',
    created,
    '--signing-config',
    config(deadUrl),
    '--trusted-root',
    ROOT,
    '--identity-token',
    await token(),
  ]);
  assert.equal(statSync(created).isDirectory(), true);
});
