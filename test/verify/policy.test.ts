// Policy semantics: exact identity comparison (a regular-expression-looking value is
// not a match), anchored regular expressions, issuer, and certificate extensions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verify, VerifyCode, type VerificationPolicy } from '../../src/index.js';
import { compilePolicy } from '../../src/verify/index.js';
import { CONFORMANCE_DIR, DEFAULT_IDENTITY, DEFAULT_ISSUER } from '../conformance/helpers.js';

const bundle = readFileSync(join(CONFORMANCE_DIR, 'happy-path-v0.3', 'bundle.sigstore.json'));
const artifact = readFileSync(join(CONFORMANCE_DIR, 'a.txt'));

const run = (policy: VerificationPolicy) => verify(bundle, artifact, policy);
const rejectsWith = (policy: VerificationPolicy, code: string, check?: string) =>
  assert.rejects(run(policy), (e: { code?: string; check?: string }) => {
    assert.equal(e.code, code);
    if (check) assert.equal(e.check, check);
    return true;
  });

describe('identity policy', () => {
  it('accepts the exact identity and issuer', async () => {
    const r = await run({ certificateIdentity: DEFAULT_IDENTITY, certificateOidcIssuer: DEFAULT_ISSUER });
    assert.equal(r.identity, DEFAULT_IDENTITY);
    assert.equal(r.issuer, DEFAULT_ISSUER);
    assert.equal(r.extensions?.githubWorkflowRepository, 'sigstore-conformance/extremely-dangerous-public-oidc-beacon');
  });

  it('an identity that would match as a regular expression is not a match', async () => {
    await rejectsWith(
      { certificateIdentity: 'https://github.com/sigstore-conformance/.*', certificateOidcIssuer: DEFAULT_ISSUER },
      VerifyCode.POLICY_IDENTITY_MISMATCH,
      'policy.identity',
    );
    await rejectsWith(
      { certificateIdentity: DEFAULT_IDENTITY.replace(/\./g, '.'), certificateOidcIssuer: 'https://token.actions.githubusercontent.com.*' },
      VerifyCode.POLICY_ISSUER_MISMATCH,
      'policy.issuer',
    );
    await rejectsWith(
      { certificateIdentity: 'extremely-dangerous', certificateOidcIssuer: DEFAULT_ISSUER },
      VerifyCode.POLICY_IDENTITY_MISMATCH,
    );
  });

  it('a regular expression must match the whole value', async () => {
    await rejectsWith(
      { certificateIdentityRegexp: 'extremely-dangerous', certificateOidcIssuer: DEFAULT_ISSUER },
      VerifyCode.POLICY_IDENTITY_MISMATCH,
      'policy.identity-regexp',
    );
    await rejectsWith(
      { certificateIdentityRegexp: 'https://github\\.com/sigstore-conformance/', certificateOidcIssuer: DEFAULT_ISSUER },
      VerifyCode.POLICY_IDENTITY_MISMATCH,
    );
    await rejectsWith(
      { certificateIdentity: DEFAULT_IDENTITY, certificateOidcIssuerRegexp: 'https://token' },
      VerifyCode.POLICY_ISSUER_MISMATCH,
      'policy.issuer-regexp',
    );
    // Alternation must not escape the anchors.
    await rejectsWith(
      { certificateIdentityRegexp: 'nomatch|https://github', certificateOidcIssuer: DEFAULT_ISSUER },
      VerifyCode.POLICY_IDENTITY_MISMATCH,
    );
    const r = await run({
      certificateIdentityRegexp: 'https://github\\.com/sigstore-conformance/.*@refs/heads/main',
      certificateOidcIssuerRegexp: 'https://token\\.actions\\.githubusercontent\\.com',
    });
    assert.equal(r.identity, DEFAULT_IDENTITY);
  });

  it("accepts the issue's spellings: certificateIdentityRegExp, certificateOidcIssuerRegExp, key", async () => {
    const r = await run({
      certificateIdentityRegExp: 'https://github\\.com/sigstore-conformance/.*',
      certificateOidcIssuerRegExp: 'https://token\\.actions\\.githubusercontent\\.com',
    });
    assert.equal(r.identity, DEFAULT_IDENTITY);
    await rejectsWith(
      { certificateIdentityRegExp: 'sigstore-conformance', certificateOidcIssuer: DEFAULT_ISSUER },
      VerifyCode.POLICY_IDENTITY_MISMATCH,
    );
    const dir = join(CONFORMANCE_DIR, 'managed-key-happy-path');
    await verify(readFileSync(join(dir, 'bundle.sigstore.json')), artifact, { key: readFileSync(join(dir, 'key.pub'), 'utf8') });
  });

  it('certificate extension matches', async () => {
    const ok = await run({
      certificateIdentity: DEFAULT_IDENTITY,
      certificateOidcIssuer: DEFAULT_ISSUER,
      extensions: {
        githubWorkflowRepository: 'sigstore-conformance/extremely-dangerous-public-oidc-beacon',
        githubWorkflowRef: 'refs/heads/main',
        githubWorkflowTrigger: 'workflow_dispatch',
      },
    });
    assert.ok(ok.checks.some((c) => c.check === 'policy.extension.githubWorkflowRepository' && c.ok));
    await rejectsWith(
      {
        certificateIdentity: DEFAULT_IDENTITY,
        certificateOidcIssuer: DEFAULT_ISSUER,
        extensions: { githubWorkflowRepository: 'someone/else' },
      },
      VerifyCode.POLICY_EXTENSION_MISMATCH,
      'policy.extension.githubWorkflowRepository',
    );
  });

  it('a certificate bundle needs both an identity and an issuer', async () => {
    await rejectsWith({ certificateIdentity: DEFAULT_IDENTITY }, VerifyCode.POLICY_INVALID);
    await rejectsWith({}, VerifyCode.POLICY_INVALID);
  });

  it('invalid policies are refused before verification', () => {
    assert.throws(() => compilePolicy({ certificateIdentity: 'a', certificateIdentityRegexp: 'b' }), { code: VerifyCode.POLICY_INVALID });
    assert.throws(() => compilePolicy({ certificateIdentityRegexp: '(' }), { code: VerifyCode.POLICY_INVALID });
    assert.throws(() => compilePolicy({ extensions: { nope: 'x' } as never }), { code: VerifyCode.POLICY_INVALID });
    assert.throws(() => compilePolicy({ certificateIdentity: '' }), { code: VerifyCode.POLICY_INVALID });
  });

  it('a key and an identity policy together are refused', async () => {
    const dir = join(CONFORMANCE_DIR, 'managed-key-happy-path');
    const key = readFileSync(join(dir, 'key.pub'), 'utf8');
    const b = readFileSync(join(dir, 'bundle.sigstore.json'));
    await verify(b, artifact, { publicKey: key });
    await assert.rejects(
      verify(b, artifact, { publicKey: key, certificateIdentity: DEFAULT_IDENTITY, certificateOidcIssuer: DEFAULT_ISSUER }),
      { code: VerifyCode.POLICY_INVALID },
    );
  });
});
