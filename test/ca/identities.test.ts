// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseCertificatesPem, type Certificate } from '../../src/x509/index.js';
import { startStack, token, ecKey, publicKeyRequest, post, nowSeconds, type Stack } from './helpers.js';

// Issuer types beyond the dev IdP's, with the IdP key as a fixed key set; the dev IdP itself is
// reached over HTTP discovery here (as Fulcio reaches any issuer).
let stack: Stack;
before(async () => {
  stack = await startStack({
    viaHttpDiscovery: true,
    extraIssuers: (jwks) => [
      { issuerUrl: 'https://users.example', type: 'username', subjectDomain: 'example.org', jwks },
      { issuerUrl: 'https://ci.example', type: 'uri', subjectDomain: 'https://ci.example', jwks },
      { issuerUrl: 'https://spire.example', type: 'spiffe', spiffeTrustDomain: 'prod.example', jwks },
      { issuerUrl: 'https://k8s.example', type: 'kubernetes', jwks, clientId: 'fulcio' },
    ],
  });
});
after(() => stack.close());

async function issue(claims: Record<string, unknown>, challenge: string): Promise<{ status: number; leaf?: Certificate; code?: unknown }> {
  const t = nowSeconds();
  const jwt = await token(stack, { aud: 'sigstore', iat: t, exp: t + 600, ...claims });
  const r = await post(stack, publicKeyRequest(jwt, ecKey(), challenge));
  if (r.status !== 200) return { status: r.status, code: r.json.code };
  const pem = (r.json.signedCertificateEmbeddedSct as { chain: { certificates: string[] } }).chain.certificates[0]!;
  return { status: 200, leaf: parseCertificatesPem(pem)[0]! };
}

test('dev IdP email token verified through HTTP discovery', async () => {
  const r = await issue({ iss: stack.issuer, sub: 'a@example.com', email: 'a@example.com', email_verified: true }, 'a@example.com');
  assert.equal(r.status, 200);
  assert.equal(r.leaf!.subjectAltNames[0]!.value, 'a@example.com');
});

test('username identity: otherName SAN "<sub>!<domain>"; PoP over sub', async () => {
  const r = await issue({ iss: 'https://users.example', sub: 'alice' }, 'alice');
  assert.equal(r.status, 200, String(r.code));
  const san = r.leaf!.subjectAltNames[0]!;
  assert.equal(san.type, 'otherName');
  assert.equal(san.value, 'alice!example.org');
  assert.equal(r.leaf!.sigstoreIdentity, 'alice!example.org');
  assert.equal((await issue({ iss: 'https://users.example', sub: 'alice' }, 'alice!example.org')).code, 'POP_INVALID');
});

test('uri, spiffe and kubernetes identities', async () => {
  const uri = await issue({ iss: 'https://ci.example', sub: 'https://ci.example/jobs/7' }, 'https://ci.example/jobs/7');
  assert.deepEqual(
    uri.leaf!.subjectAltNames.map((s) => [s.type, s.value]),
    [['uri', 'https://ci.example/jobs/7']],
  );
  assert.equal(
    (await issue({ iss: 'https://ci.example', sub: 'https://other.example/x' }, 'https://other.example/x')).code,
    'TOKEN_SUBJECT_INVALID',
  );
  const spiffe = await issue({ iss: 'https://spire.example', sub: 'spiffe://prod.example/web' }, 'spiffe://prod.example/web');
  assert.equal(spiffe.leaf!.subjectAltNames[0]!.value, 'spiffe://prod.example/web');
  assert.equal(
    (await issue({ iss: 'https://spire.example', sub: 'spiffe://dev.example/web' }, 'spiffe://dev.example/web')).code,
    'TOKEN_SUBJECT_INVALID',
  );
  const k8sClaims = {
    iss: 'https://k8s.example',
    aud: 'fulcio',
    sub: 'system:serviceaccount:ns:builder',
    'kubernetes.io': { namespace: 'ns', serviceaccount: { name: 'builder' } },
  };
  const k8s = await issue(k8sClaims, 'system:serviceaccount:ns:builder');
  assert.equal(k8s.status, 200, String(k8s.code));
  assert.equal(k8s.leaf!.subjectAltNames[0]!.value, 'https://kubernetes.io/namespaces/ns/serviceaccounts/builder');
  assert.equal((await issue({ ...k8sClaims, aud: 'sigstore' }, 'system:serviceaccount:ns:builder')).code, 'TOKEN_AUDIENCE_MISMATCH');
});
