import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identityFromClaims, renderSigstoreExtensions, derUtf8String } from '../../src/oidc/index.js';
import { GITHUB_CLAIMS } from './helpers.js';

const GH_ISS = 'https://token.actions.githubusercontent.com';

function code(fn: () => unknown, expected: string): void {
  assert.throws(fn, (e: { code?: string }) => e.code === expected);
}

test('GitHub workflow claims map to the SAN and every Sigstore extension (§3.10)', () => {
  const id = identityFromClaims(
    { iss: GH_ISS, aud: 'sigstore', ...GITHUB_CLAIMS, environment: 'production' },
    { issuerUrl: GH_ISS, type: 'github-workflow' },
  );
  const signer = 'https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main';
  assert.deepEqual(id.san, { type: 'uri', value: signer });
  assert.equal(id.challengeClaimValue, GITHUB_CLAIMS.sub);
  const byOid = Object.fromEntries(id.extensionList.map((e) => [e.oid.replace('1.3.6.1.4.1.57264.', ''), e.value]));
  assert.deepEqual(byOid, {
    '1.1': GH_ISS,
    '1.2': 'push',
    '1.3': GITHUB_CLAIMS.sha,
    '1.4': 'Release',
    '1.5': 'octo-org/octo-repo',
    '1.6': 'refs/heads/main',
    '1.8': GH_ISS,
    '1.9': signer,
    '1.10': GITHUB_CLAIMS.job_workflow_sha,
    '1.11': 'github-hosted',
    '1.12': 'https://github.com/octo-org/octo-repo',
    '1.13': GITHUB_CLAIMS.sha,
    '1.14': 'refs/heads/main',
    '1.15': '123456',
    '1.16': 'https://github.com/octo-org',
    '1.17': '7890',
    '1.18': 'https://github.com/' + GITHUB_CLAIMS.workflow_ref,
    '1.19': GITHUB_CLAIMS.workflow_sha,
    '1.20': 'push',
    '1.21': 'https://github.com/octo-org/octo-repo/actions/runs/42/attempts/1',
    '1.22': 'public',
    '1.23': 'production',
    '1.24': GITHUB_CLAIMS.sub,
  });
  // raw bytes for .1.1–.1.6, DER UTF8String from .1.8 on, long-form length when needed
  const e11 = id.extensionList.find((e) => e.oid.endsWith('.1.1'))!;
  assert.deepEqual(e11.der, Buffer.from(GH_ISS));
  const e18 = id.extensionList.find((e) => e.oid.endsWith('.1.8'))!;
  assert.deepEqual(e18.der, Buffer.concat([Buffer.from([0x0c, GH_ISS.length]), Buffer.from(GH_ISS)]));
  assert.deepEqual(derUtf8String('x'.repeat(148)).subarray(0, 3), Buffer.from([0x0c, 0x81, 148]));
  assert.deepEqual(derUtf8String('x'.repeat(300)).subarray(0, 4), Buffer.from([0x0c, 0x82, 0x01, 0x2c]));
  // the same through the ci-provider type; without environment no .1.23
  const ci = identityFromClaims(
    { iss: GH_ISS, ...GITHUB_CLAIMS },
    { issuerUrl: GH_ISS, type: 'ci-provider', ciProvider: 'github-workflow' },
  );
  assert.equal(
    ci.extensionList.some((e) => e.oid.endsWith('.1.23')),
    false,
  );
  for (const name of ['job_workflow_ref', 'run_attempt', 'repository_visibility']) {
    code(
      () => identityFromClaims({ iss: GH_ISS, ...GITHUB_CLAIMS, [name]: undefined }, { issuerUrl: GH_ISS, type: 'github-workflow' }),
      'TOKEN_CLAIM_MISSING',
    );
  }
});

test('GitLab pipeline claims', () => {
  const iss = 'https://gitlab.com';
  const claims = {
    iss,
    sub: 'project_path:grp/proj:ref_type:branch:ref:main',
    project_path: 'grp/proj',
    project_id: '11',
    pipeline_source: 'push',
    pipeline_id: '22',
    ci_config_ref_uri: 'gitlab.com/grp/proj//.gitlab-ci.yml@refs/heads/main',
    ci_config_sha: 'abc',
    namespace_path: 'grp',
    namespace_id: '33',
    job_id: '44',
    ref: 'main',
    ref_type: 'branch',
    sha: 'def',
    runner_environment: 'gitlab-hosted',
    runner_id: 55,
    project_visibility: 'private',
  };
  const id = identityFromClaims(claims, { issuerUrl: iss, type: 'gitlab-pipeline' });
  assert.deepEqual(id.san, { type: 'uri', value: 'https://gitlab.com/grp/proj//.gitlab-ci.yml@refs/heads/main' });
  assert.equal(id.challengeClaimValue, claims.sub);
  assert.equal(id.extensions.sourceRepositoryRef, 'refs/heads/main');
  assert.equal(id.extensions.runInvocationUri, 'https://gitlab.com/grp/proj/-/jobs/44');
  assert.equal(id.extensions.sourceRepositoryOwnerUri, 'https://gitlab.com/grp');
  assert.equal(id.extensions.githubWorkflowTrigger, undefined);
  code(() => identityFromClaims({ ...claims, ref_type: 'mr' }, { issuerUrl: iss, type: 'gitlab-pipeline' }), 'TOKEN_CLAIM_INVALID');
});

test('SPIFFE, Kubernetes, URI and username identities', () => {
  const iss = 'https://idp.example';
  const spiffe = identityFromClaims(
    { iss, sub: 'spiffe://example.org/ns/a/sa/b' },
    { issuerUrl: iss, type: 'spiffe', spiffeTrustDomain: 'example.org' },
  );
  assert.deepEqual(spiffe.san, { type: 'uri', value: 'spiffe://example.org/ns/a/sa/b' });
  code(
    () => identityFromClaims({ iss, sub: 'spiffe://other.org/x' }, { issuerUrl: iss, type: 'spiffe', spiffeTrustDomain: 'example.org' }),
    'TOKEN_SUBJECT_INVALID',
  );

  const k8s = identityFromClaims(
    { iss, sub: 'system:serviceaccount:ns:sa', 'kubernetes.io': { namespace: 'ns', serviceaccount: { name: 'sa' } } },
    { issuerUrl: iss, type: 'kubernetes' },
  );
  assert.deepEqual(k8s.san, { type: 'uri', value: 'https://kubernetes.io/namespaces/ns/serviceaccounts/sa' });
  assert.equal(k8s.challengeClaimValue, 'system:serviceaccount:ns:sa');
  code(() => identityFromClaims({ iss, sub: 's' }, { issuerUrl: iss, type: 'kubernetes' }), 'TOKEN_CLAIM_MISSING');

  const uri = identityFromClaims(
    { iss, sub: 'https://ci.example.com/jobs/1' },
    { issuerUrl: iss, type: 'uri', subjectDomain: 'https://ci.example.com' },
  );
  assert.deepEqual(uri.san, { type: 'uri', value: 'https://ci.example.com/jobs/1' });
  code(
    () =>
      identityFromClaims(
        { iss, sub: 'https://evil.example.com/x' },
        { issuerUrl: iss, type: 'uri', subjectDomain: 'https://ci.example.com' },
      ),
    'TOKEN_SUBJECT_INVALID',
  );
  code(
    () => identityFromClaims({ iss, sub: 'a@b.com' }, { issuerUrl: iss, type: 'uri', subjectDomain: 'https://ci.example.com' }),
    'TOKEN_SUBJECT_INVALID',
  );

  const user = identityFromClaims({ iss, sub: 'alice' }, { issuerUrl: iss, type: 'username', subjectDomain: 'example.com' });
  assert.deepEqual(user.san, { type: 'otherName', value: 'alice!example.com' });
  assert.equal(user.challengeClaimValue, 'alice');
  code(
    () => identityFromClaims({ iss, sub: 'a!b' }, { issuerUrl: iss, type: 'username', subjectDomain: 'example.com' }),
    'TOKEN_SUBJECT_INVALID',
  );
  code(
    () => identityFromClaims({ iss, sub: 'a@b.com' }, { issuerUrl: iss, type: 'username', subjectDomain: 'example.com' }),
    'TOKEN_SUBJECT_INVALID',
  );
});

test('email identities: issuer-claim, challenge-claim override, issuer extension only', () => {
  const iss = 'https://dex.example';
  const claims = {
    iss,
    sub: 'x1',
    email: 'bob@example.com',
    email_verified: true,
    federated_claims: { connector_id: 'https://github.com/login/oauth' },
  };
  const id = identityFromClaims(claims, { issuerUrl: iss, type: 'email', issuerClaim: '$.federated_claims.connector_id' });
  assert.equal(id.issuer, 'https://github.com/login/oauth');
  assert.deepEqual(
    id.extensionList.map((e) => e.oid),
    ['1.3.6.1.4.1.57264.1.1', '1.3.6.1.4.1.57264.1.8', '1.3.6.1.4.1.57264.1.24'],
  );
  const sub = identityFromClaims(claims, { issuerUrl: iss, type: 'email', challengeClaim: 'sub' });
  assert.equal(sub.challengeClaimValue, 'x1');
  code(() => identityFromClaims({ ...claims, email: 'not an email' }, { issuerUrl: iss, type: 'email' }), 'TOKEN_CLAIM_INVALID');
  assert.deepEqual(renderSigstoreExtensions({ issuer: '' }), []);
});

test('inferIssuerConfig guesses the type for token inspect', async () => {
  const { inferIssuerConfig } = await import('../../src/oidc/index.js');
  assert.equal(inferIssuerConfig({ iss: 'https://accounts.google.com', email: 'a@b.c' }).type, 'email');
  assert.equal(inferIssuerConfig({ iss: GH_ISS, ...GITHUB_CLAIMS }).type, 'github-workflow');
  assert.equal(inferIssuerConfig({ iss: 'http://127.0.0.1:3000/oidc/github', ...GITHUB_CLAIMS }).type, 'github-workflow');
  assert.deepEqual(inferIssuerConfig({ iss: 'https://x', sub: 'spiffe://td.org/w' }), {
    issuerUrl: 'https://x',
    type: 'spiffe',
    spiffeTrustDomain: 'td.org',
  });
  const u = inferIssuerConfig({ iss: 'https://idp.example', sub: 'bob' });
  assert.deepEqual(identityFromClaims({ iss: 'https://idp.example', sub: 'bob' }, u).san, { type: 'otherName', value: 'bob!idp.example' });
});

test('SAN values must be IA5 (printable ASCII): non-ASCII emails and URIs with spaces are refused', () => {
  const iss = 'https://idp.example';
  code(
    () => identityFromClaims({ iss, sub: 'x', email: 'jürgen@example.com', email_verified: true }, { issuerUrl: iss, type: 'email' }),
    'TOKEN_CLAIM_INVALID',
  );
  code(
    () =>
      identityFromClaims(
        { iss: GH_ISS, ...GITHUB_CLAIMS, job_workflow_ref: 'o/r/.github/workflows/a b.yml@refs/heads/main' },
        { issuerUrl: GH_ISS, type: 'github-workflow' },
      ),
    'TOKEN_CLAIM_INVALID',
  );
  // a username SAN is a UTF8String: non-ASCII is fine there
  assert.equal(
    identityFromClaims({ iss, sub: 'jürgen' }, { issuerUrl: iss, type: 'username', subjectDomain: 'example.org' }).san.value,
    'jürgen!example.org',
  );
});

test('control and format characters are refused in every value the certificate would carry', () => {
  const iss = 'https://idp.example';
  const username = { issuerUrl: iss, type: 'username', subjectDomain: 'example.com' } as const;
  for (const sub of [
    'release-bot\nVerified OK: release-bot@corp.example',
    'a\u0000b',
    'a\u001b[32mb',
    'admin\u202Etxt.exe',
    'a\u200Bb',
    'a\u2028b',
  ]) {
    code(() => identityFromClaims({ iss, sub }, username), 'TOKEN_CLAIM_INVALID');
  }
  // The same in an extension only (the GitHub workflow ref), with a clean SAN.
  code(
    () =>
      identityFromClaims(
        { iss: GH_ISS, aud: 'sigstore', ...GITHUB_CLAIMS, environment: 'prod\u001b]0;x\u0007' },
        { issuerUrl: GH_ISS, type: 'github-workflow' },
      ),
    'TOKEN_CLAIM_INVALID',
  );
  // Ordinary non-ASCII letters stay allowed in a username.
  assert.equal(identityFromClaims({ iss, sub: 'zoë' }, username).san.value, 'zoë!example.com');
});
