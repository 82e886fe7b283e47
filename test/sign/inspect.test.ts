import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, SignJWT } from 'jose';
import { inspectToken } from '../../src/sign/inspect.js';
import { startFixture, json } from './fixtures.js';

const { privateKey } = await generateKeyPair('ES256');
const now = () => Math.floor(Date.now() / 1000);
const jwt = (claims: Record<string, unknown>) =>
  new SignJWT({ aud: 'sigstore', iat: now(), exp: now() + 300, ...claims }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);

test("the CA's configuration decides the identity: a uri issuer certifies sub as a URI SAN", async () => {
  const f = await startFixture((req, _b, res) => {
    if (req.url !== '/api/v2/configuration') return json(res, 404, {});
    json(res, 200, {
      issuers: [
        {
          issuerUrl: 'https://ci.example.com',
          audience: 'sigstore',
          challengeClaim: 'sub',
          spiffeTrustDomain: '',
          issuerType: 'uri',
          subjectDomain: 'https://example.com',
          skipEmailVerification: false,
        },
      ],
    });
  });
  try {
    const report = await inspectToken(await jwt({ iss: 'https://ci.example.com', sub: 'https://example.com/jobs/42' }), { caUrl: f.url });
    assert.equal(report.status, 'ok');
    assert.equal(report.issuerType, 'uri');
    assert.match(report.issuerTypeSource, /^from http/);
    assert.deepEqual(report.certificate.san, { type: 'uri', value: 'https://example.com/jobs/42' });
    assert.equal(report.certificate.issuer, 'https://ci.example.com');
    // An issuer the CA does not know is an error that names it.
    await assert.rejects(inspectToken(await jwt({ iss: 'https://unknown.example', sub: 'x' }), { caUrl: f.url }), {
      code: 'TOKEN_ISSUER_UNKNOWN',
    });
  } finally {
    await f.close();
  }
});

test('without a CA the type is guessed; an expired token is reported, not hidden', async () => {
  const report = await inspectToken(
    await jwt({ iss: 'https://idp.example', sub: 's', email: 'e@example.com', email_verified: true, exp: now() - 10 }),
    {},
  );
  assert.equal(report.issuerType, 'email');
  assert.match(report.issuerTypeSource, /guessed/);
  assert.deepEqual(report.certificate.san, { type: 'email', value: 'e@example.com' });
  assert.equal(report.statusCode, 'TOKEN_EXPIRED');
});
