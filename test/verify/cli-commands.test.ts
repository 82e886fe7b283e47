// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// verify-blob and verify-blob-attestation through bin/keyless.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CONFORMANCE_DIR, DEFAULT_IDENTITY, DEFAULT_ISSUER, ensureBuilt, runKeyless } from '../conformance/helpers.js';

const A_TXT = join(CONFORMANCE_DIR, 'a.txt');
const bundle = (name: string) => join(CONFORMANCE_DIR, name, 'bundle.sigstore.json');
const identity = ['--certificate-identity', DEFAULT_IDENTITY, '--certificate-oidc-issuer', DEFAULT_ISSUER];

describe('verify-blob and verify-blob-attestation', () => {
  before(() => ensureBuilt());

  it('verify-blob accepts a good bundle and refuses another file', () => {
    const ok = runKeyless(['verify-blob', '--bundle', bundle('happy-path-v0.3'), ...identity, A_TXT]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Verified OK/);
    const other = runKeyless(['verify-blob', '--bundle', bundle('happy-path-v0.3'), ...identity, bundle('happy-path-v0.3')]);
    assert.equal(other.status, 1);
    assert.match(other.stderr, /^error: artifact\.digest: /);
  });

  it('verify-blob takes its argument as a path, never as a digest (no such file: exit 2)', () => {
    const r = runKeyless([
      'verify-blob',
      '--bundle',
      bundle('happy-path-v0.3'),
      ...identity,
      `sha256:${'a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf'}`,
    ]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no such file/);
  });

  it('verify-blob with --key for a managed-key bundle', () => {
    const dir = join(CONFORMANCE_DIR, 'managed-key-happy-path');
    assert.equal(
      runKeyless(['verify-blob', '--bundle', join(dir, 'bundle.sigstore.json'), '--key', join(dir, 'key.pub'), A_TXT]).status,
      0,
    );
  });

  it('verify-blob-attestation checks the subject and the predicate type', () => {
    const b = bundle('happy-path-intoto-in-dsse-v3');
    // Without --type, cosign's default predicate type (custom) is required: this is SLSA provenance.
    const untyped = runKeyless(['verify-blob-attestation', '--bundle', b, ...identity, A_TXT]);
    assert.equal(untyped.status, 1);
    assert.match(untyped.stderr, /intoto\.predicate-type.*cosign\.sigstore\.dev\/attestation\/v1/);
    assert.equal(runKeyless(['verify-blob-attestation', '--bundle', b, ...identity, '--type', 'slsaprovenance1', A_TXT]).status, 0);
    assert.equal(
      runKeyless(['verify-blob-attestation', '--bundle', b, ...identity, '--type', 'https://slsa.dev/provenance/v1', A_TXT]).status,
      0,
    );
    const digest = runKeyless([
      'verify-blob-attestation',
      '--bundle',
      b,
      ...identity,
      '--type',
      'slsaprovenance1',
      'sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf',
    ]);
    assert.equal(digest.status, 0, digest.stderr);
    const wrongType = runKeyless(['verify-blob-attestation', '--bundle', b, ...identity, '--type', 'spdxjson', A_TXT]);
    assert.equal(wrongType.status, 1);
    assert.match(wrongType.stderr, /intoto\.predicate-type/);
    const wrongSubject = runKeyless(['verify-blob-attestation', '--bundle', b, ...identity, '--type', 'slsaprovenance1', b]);
    assert.equal(wrongSubject.status, 1);
    assert.match(wrongSubject.stderr, /intoto\.subject/);
  });

  it('verify-blob-attestation --json carries the verified statement, alone on stdout', () => {
    const r = runKeyless([
      'verify-blob-attestation',
      '--bundle',
      bundle('happy-path-intoto-in-dsse-v3'),
      ...identity,
      '--type',
      'slsaprovenance1',
      '--json',
      A_TXT,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const report = JSON.parse(r.stdout);
    assert.equal(report.statement.predicateType, 'https://slsa.dev/provenance/v1');
    assert.equal(report.statement.subject[0].digest.sha256, 'a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf');
  });

  it('verify-blob-attestation refuses a message-signature bundle', () => {
    const r = runKeyless(['verify-blob-attestation', '--bundle', bundle('happy-path-v0.3'), ...identity, A_TXT]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /dsse\.payload-type/);
  });

  it('--staging without --trusted-root is a usage error', () => {
    assert.equal(runKeyless(['verify-bundle', '--staging', '--bundle', bundle('happy-path-v0.3'), ...identity, A_TXT]).status, 2);
  });
});
