// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// verify-blob / verify-blob-attestation stream the artifact: a file larger than the
// in-memory threshold verifies (and a changed last byte fails), `-` reads standard input,
// and KEYLESS_TRUSTED_ROOT applies to verification as it does to signing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, openSync, writeSync, closeSync, copyFileSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { X509Certificate, verify } from 'node:crypto';
import { join } from 'node:path';
import { startServe, keyless, BIN, type Serve, type Run } from '../sign/serve-helper.js';
import { ARTIFACT_IN_MEMORY_BYTES } from '../../src/cli/commands/verify-command.js';

const EMAIL = 'stream@example.com';
let serve: Serve;
let work: string;
let issuer: string;
let big: string;
let bigBundle: string;
let attBundle: string;
let token: string;

/** A file of `size` bytes, written in 1 MiB pieces with a pattern that differs per piece. */
function writeBig(path: string, size: number): void {
  const fd = openSync(path, 'w');
  const piece = Buffer.alloc(1024 * 1024);
  for (let off = 0, i = 0; off < size; off += piece.length, i++) {
    piece.fill(i % 251);
    writeSync(fd, piece, 0, Math.min(piece.length, size - off));
  }
  closeSync(fd);
}

function keylessStdin(args: string[], file: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    createReadStream(file).pipe(child.stdin);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  serve = await startServe();
  work = mkdtempSync(join(tmpdir(), 'keyless-verify-stream-'));
  const t = await keyless(['dev-token', '--url', serve.url, '--email', EMAIL]);
  assert.equal(t.code, 0, t.stderr);
  token = t.stdout.trim();
  issuer = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iss as string;
  big = join(work, 'big.bin');
  writeBig(big, ARTIFACT_IN_MEMORY_BYTES + 3 * 1024 * 1024 + 17);
  bigBundle = join(work, 'big.sigstore.json');
  attBundle = join(work, 'big.intoto.sigstore.json');
  const common = ['--signing-config', serve.signingConfig(2), '--trusted-root', serve.trustedRoot, '--identity-token', token];
  const s = await keyless(['sign-blob', big, '--bundle', bigBundle, ...common]);
  assert.equal(s.code, 0, s.stderr);
  const predicate = join(work, 'predicate.json');
  writeFileSync(predicate, '{"k":"v"}');
  const a = await keyless([
    'attest-blob',
    big,
    '--bundle',
    attBundle,
    '--type',
    'https://example.com/p/v1',
    '--predicate',
    predicate,
    ...common,
  ]);
  assert.equal(a.code, 0, a.stderr);
});
after(async () => {
  await serve?.stop();
});

const policy = () => ['--certificate-identity', EMAIL, '--certificate-oidc-issuer', issuer];

test('verify-blob streams a file larger than the in-memory threshold; a changed last byte fails the digest check', async () => {
  const ok = await keyless(['verify-blob', big, '--bundle', bigBundle, ...policy(), '--trusted-root', serve.trustedRoot]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^Verified OK/);
  const changed = join(work, 'changed.bin');
  copyFileSync(big, changed);
  const fd = openSync(changed, 'r+');
  writeSync(fd, Buffer.from([0xff]), 0, 1, ARTIFACT_IN_MEMORY_BYTES + 3 * 1024 * 1024 + 16);
  closeSync(fd);
  const bad = await keyless(['verify-blob', changed, '--bundle', bigBundle, ...policy(), '--trusted-root', serve.trustedRoot]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: artifact\.digest: /);
});

test('verify-blob - reads the artifact from standard input', async () => {
  const ok = await keylessStdin(['verify-blob', '-', '--bundle', bigBundle, ...policy(), '--trusted-root', serve.trustedRoot], big);
  assert.equal(ok.code, 0, ok.stderr);
  const other = await keylessStdin(
    ['verify-blob', '-', '--bundle', bigBundle, ...policy(), '--trusted-root', serve.trustedRoot],
    serve.trustedRoot,
  );
  assert.equal(other.code, 1);
});

test('verify-blob-attestation streams the file and matches it to the statement subject', async () => {
  const ok = await keyless([
    'verify-blob-attestation',
    big,
    '--bundle',
    attBundle,
    ...policy(),
    '--type',
    'https://example.com/p/v1',
    '--trusted-root',
    serve.trustedRoot,
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  const stdin = await keylessStdin(
    [
      'verify-blob-attestation',
      '-',
      '--bundle',
      attBundle,
      ...policy(),
      '--type',
      'https://example.com/p/v1',
      '--trusted-root',
      serve.trustedRoot,
    ],
    big,
  );
  assert.equal(stdin.code, 0, stdin.stderr);
});

test('KEYLESS_TRUSTED_ROOT applies to verification; without it the built-in root is named in the failure', async () => {
  const viaEnv = await keyless(['verify-blob', big, '--bundle', bigBundle, ...policy()], { KEYLESS_TRUSTED_ROOT: serve.trustedRoot });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  const without = await keyless(['verify-blob', big, '--bundle', bigBundle, ...policy()]);
  assert.equal(without.code, 1);
});

test('a missing artifact is named, without an errno code', async () => {
  const r = await keyless(['verify-blob', join(work, 'nope.bin'), '--bundle', bigBundle, ...policy(), '--trusted-root', serve.trustedRoot]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /nope\.bin: no such file or directory/);
  assert.doesNotMatch(r.stderr, /ENOENT/);
});

test('sign-blob prints a summary on stderr and writes --output-signature / --output-certificate (cosign form)', async () => {
  const small = join(work, 'small.txt');
  writeFileSync(small, 'summary test\n');
  const sig = join(work, 'small.sig');
  const cert = join(work, 'small.pem');
  const r = await keyless([
    'sign-blob',
    small,
    '--bundle',
    join(work, 'small.sigstore.json'),
    '--output-signature',
    sig,
    '--output-certificate',
    cert,
    '--signing-config',
    serve.signingConfig(1),
    '--trusted-root',
    serve.trustedRoot,
    '--identity-token',
    token,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    new RegExp(
      `^Signed as ${EMAIL.replace('.', '\\.')} \\(issuer ${issuer.replace(/[.]/g, '\\.')}\\), certificate valid \\S+ to \\S+$`,
      'm',
    ),
  );
  assert.match(r.stderr, /^Logged: hashedrekord\/0\.0\.1 entry \d+ at \S+ in log [0-9a-f]{16}…$/m);
  const certificate = new X509Certificate(readFileSync(cert));
  assert.match(certificate.subjectAltName ?? '', new RegExp(EMAIL));
  assert.equal(verify('sha256', readFileSync(small), certificate.publicKey, Buffer.from(readFileSync(sig, 'utf8').trim(), 'base64')), true);
});
