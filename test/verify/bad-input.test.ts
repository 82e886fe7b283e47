// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Broken input through `bin/keyless verify-bundle`: a clear one-line error, exit 2 (input error),
// never a stack trace, never a hang. A malformed certificate or key inside is a failed check: 1.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFORMANCE_DIR, DEFAULT_IDENTITY, DEFAULT_ISSUER, ensureBuilt, runKeyless } from '../conformance/helpers.js';

const A_TXT = join(CONFORMANCE_DIR, 'a.txt');
const happyV03 = JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'happy-path-v0.3', 'bundle.sigstore.json'), 'utf8'));
const happyV01 = JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'happy-path-v0.1', 'bundle.sigstore.json'), 'utf8'));

let dir: string;
function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function verifyArgs(bundlePath: string, extra: string[] = []): string[] {
  return [
    'verify-bundle',
    '--bundle',
    bundlePath,
    '--certificate-identity',
    DEFAULT_IDENTITY,
    '--certificate-oidc-issuer',
    DEFAULT_ISSUER,
    ...extra,
    A_TXT,
  ];
}

function expectCleanFailure(args: string[], status = 2): string {
  const r = runKeyless(args, dir);
  assert.equal(r.status, status, `exit ${r.status}, stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0]!, /^error: /);
  assert.doesNotMatch(r.stderr, /\n\s+at |TypeError|RangeError|ReferenceError/);
  return lines[0]!;
}

function mutate(base: unknown, edit: (b: any) => void): string {
  const b = structuredClone(base) as any;
  edit(b);
  return JSON.stringify(b);
}

describe('verify-bundle with bad input', () => {
  before(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'keyless-bad-'));
  });

  it('malformed JSON', () => {
    expectCleanFailure(verifyArgs(file('bad.json', '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", ')));
  });

  it('not JSON at all (binary garbage)', () => {
    expectCleanFailure(verifyArgs(file('garbage.json', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]))));
  });

  it('wrong types', () => {
    expectCleanFailure(
      verifyArgs(
        file(
          'types.json',
          mutate(happyV03, (b) => (b.verificationMaterial.tlogEntries = 'nope')),
        ),
      ),
    );
    expectCleanFailure(
      verifyArgs(
        file(
          'types2.json',
          mutate(happyV03, (b) => (b.messageSignature.signature = 12345)),
        ),
      ),
    );
    expectCleanFailure(verifyArgs(file('types3.json', '[1, 2, 3]')));
    expectCleanFailure(verifyArgs(file('types4.json', 'null')));
  });

  it('bogus base64', () => {
    expectCleanFailure(
      verifyArgs(
        file(
          'b64.json',
          mutate(happyV03, (b) => (b.verificationMaterial.certificate.rawBytes = 'not*base64!')),
        ),
      ),
    );
  });

  it('truncated DER certificate', () => {
    const der = Buffer.from(happyV03.verificationMaterial.certificate.rawBytes, 'base64');
    const line = expectCleanFailure(
      verifyArgs(
        file(
          'trunc.json',
          mutate(happyV03, (b) => (b.verificationMaterial.certificate.rawBytes = der.subarray(0, 200).toString('base64'))),
        ),
      ),
      1,
    );
    assert.match(line, /certificate/);
  });

  it('garbage DER certificate', () => {
    expectCleanFailure(
      verifyArgs(
        file(
          'gder.json',
          mutate(happyV03, (b) => (b.verificationMaterial.certificate.rawBytes = Buffer.alloc(300, 0x30).toString('base64'))),
        ),
      ),
      1,
    );
  });

  it('a 100 MB bundle', () => {
    const p = join(dir, 'huge.json');
    const fd = openSync(p, 'w');
    ftruncateSync(fd, 100 * 1024 * 1024);
    closeSync(fd);
    const line = expectCleanFailure(verifyArgs(p));
    assert.match(line, /limit/);
  });

  it('a chain of 1,000 certificates', () => {
    const leaf = happyV01.verificationMaterial.x509CertificateChain.certificates[0];
    const text = mutate(
      happyV01,
      (b) => (b.verificationMaterial.x509CertificateChain.certificates = Array.from({ length: 1000 }, () => leaf)),
    );
    expectCleanFailure(verifyArgs(file('chain.json', text)), 1);
  });

  it('deeply nested JSON', () => {
    expectCleanFailure(verifyArgs(file('deep.json', '['.repeat(200_000) + ']'.repeat(200_000))));
    expectCleanFailure(verifyArgs(file('deep2.json', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000))));
  });

  it('a missing bundle file', () => {
    expectCleanFailure(verifyArgs(join(dir, 'does-not-exist.json')));
  });

  it('a malformed trusted root', () => {
    const bundle = file('ok.json', JSON.stringify(happyV03));
    expectCleanFailure(verifyArgs(bundle, ['--trusted-root', file('tr.json', '{"mediaType": 3}')]));
  });

  it('a trusted-root log key without a validity start is malformed', () => {
    const root = JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'trusted_root.production.json'), 'utf8'));
    for (const t of root.tlogs) delete t.publicKey.validFor.start;
    const bundle = file('ok2.json', JSON.stringify(happyV03));
    expectCleanFailure(verifyArgs(bundle, ['--trusted-root', file('nostart.json', JSON.stringify(root))]));
  });

  it('a garbage public key file', () => {
    const bundle = join(CONFORMANCE_DIR, 'managed-key-happy-path', 'bundle.sigstore.json');
    expectCleanFailure([
      'verify-bundle',
      '--bundle',
      bundle,
      '--key',
      file('key.pem', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'),
      A_TXT,
    ]);
  });

  it('usage errors exit 2', () => {
    const bundle = file('ok3.json', JSON.stringify(happyV03));
    assert.equal(runKeyless(['verify-bundle', '--bundle', bundle, A_TXT], dir).status, 2);
    assert.equal(runKeyless(['verify-bundle', '--bundle', bundle, '--certificate-identity', DEFAULT_IDENTITY, A_TXT], dir).status, 2);
    assert.equal(runKeyless(['verify-bundle', '--certificate-identity', 'x', '--certificate-oidc-issuer', 'y', A_TXT], dir).status, 2);
    assert.equal(
      runKeyless(
        [
          'verify-bundle',
          '--bundle',
          bundle,
          '--certificate-identity',
          'x',
          '--certificate-identity-regexp',
          'y',
          '--certificate-oidc-issuer',
          'z',
          A_TXT,
        ],
        dir,
      ).status,
      2,
    );
    // Both a key and an identity (conformance managed-key-and-client-identity_fail).
    const key = join(CONFORMANCE_DIR, 'managed-key-happy-path', 'key.pub');
    const managed = join(CONFORMANCE_DIR, 'managed-key-happy-path', 'bundle.sigstore.json');
    assert.equal(
      runKeyless(
        [
          'verify-bundle',
          '--bundle',
          managed,
          '--certificate-identity',
          DEFAULT_IDENTITY,
          '--certificate-oidc-issuer',
          DEFAULT_ISSUER,
          '--key',
          key,
          A_TXT,
        ],
        dir,
      ).status,
      2,
    );
  });

  it('--json reports every check, also on failure', () => {
    const ok = runKeyless(
      [...verifyArgs(join(CONFORMANCE_DIR, 'happy-path-v0.3', 'bundle.sigstore.json')).slice(0, -1), '--json', A_TXT],
      dir,
    );
    assert.equal(ok.status, 0, ok.stderr);
    const report = JSON.parse(ok.stdout);
    assert.equal(report.ok, true);
    const names = report.checks.map((c: { check: string }) => c.check);
    for (const n of [
      'tlog[0].signed-entry-timestamp',
      'tlog[0].checkpoint',
      'tlog[0].inclusion-proof',
      'tlog[0].body',
      'certificate.sct',
      'signature',
      'policy.identity',
      'policy.issuer',
    ]) {
      assert.ok(names.includes(n), `missing check ${n} in ${names.join(', ')}`);
    }
    const bad = runKeyless(
      [
        'verify-bundle',
        '--bundle',
        join(CONFORMANCE_DIR, 'happy-path-v0.3', 'bundle.sigstore.json'),
        '--certificate-identity',
        'someone@example.com',
        '--certificate-oidc-issuer',
        DEFAULT_ISSUER,
        '--json',
        A_TXT,
      ],
      dir,
    );
    assert.equal(bad.status, 1);
    const failed = JSON.parse(bad.stdout);
    assert.equal(failed.ok, false);
    assert.equal(failed.error.code, 'POLICY_IDENTITY_MISMATCH');
    assert.equal(failed.error.expected, 'someone@example.com');
    assert.equal(failed.error.actual, DEFAULT_IDENTITY);
    assert.equal(failed.checks.at(-1).ok, false);
  });
});
