import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, SignJWT } from 'jose';
import { checkToken } from '../../src/sign/token.js';

const NOW = 1_800_000_000;
const { privateKey } = await generateKeyPair('ES256');

async function jwt(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
}
const base = { iss: 'https://idp.example', sub: 'user-1', aud: 'sigstore', exp: NOW + 600, iat: NOW };

test('a good email token: the challenge is the email', async () => {
  const t = checkToken(await jwt({ ...base, email: 'a@example.com', email_verified: true }), { now: NOW });
  assert.equal(t.issuer, 'https://idp.example');
  assert.equal(t.challenge, 'a@example.com');
  assert.equal(t.expiresAt.getTime(), (NOW + 600) * 1000);
});

test('a token without email signs its subject; audience may be an array', async () => {
  const t = checkToken(await jwt({ ...base, aud: ['other', 'sigstore'] }), { now: NOW });
  assert.equal(t.challenge, 'user-1');
});

test('expired, nearly expired and not-yet-valid tokens are refused with the claim named', async () => {
  await assert.rejects(async () => checkToken(await jwt({ ...base, exp: NOW - 10 }), { now: NOW }), {
    code: 'TOKEN_EXPIRED',
    check: 'exp',
  });
  await assert.rejects(async () => checkToken(await jwt({ ...base, exp: NOW + 2 }), { now: NOW }), { code: 'TOKEN_EXPIRED' });
  await assert.rejects(async () => checkToken(await jwt({ ...base, nbf: NOW + 3600 }), { now: NOW }), {
    code: 'TOKEN_NOT_YET_VALID',
    check: 'nbf',
  });
  await assert.rejects(async () => checkToken(await jwt({ ...base, exp: undefined }), { now: NOW }), {
    code: 'TOKEN_CLAIM_MISSING',
    check: 'exp',
  });
});

test('wrong audience names both values', async () => {
  await assert.rejects(
    async () => checkToken(await jwt({ ...base, aud: 'other' }), { now: NOW }),
    (e: Error & { code: string; expected: unknown; actual: unknown }) => {
      assert.equal(e.code, 'TOKEN_AUDIENCE_MISMATCH');
      assert.equal(e.expected, 'sigstore');
      assert.deepEqual(e.actual, ['other']);
      assert.match(e.message, /"other".*"sigstore"/);
      return true;
    },
  );
  await assert.rejects(async () => checkToken(await jwt({ ...base, aud: undefined }), { now: NOW }), { code: 'TOKEN_AUDIENCE_MISMATCH' });
  // A configured audience is honoured.
  assert.equal(checkToken(await jwt({ ...base, aud: 'custom' }), { now: NOW, audience: 'custom' }).subject, 'user-1');
});

test('issuer: present, a URL, and the expected one when given', async () => {
  await assert.rejects(async () => checkToken(await jwt({ ...base, iss: undefined }), { now: NOW }), {
    code: 'TOKEN_CLAIM_MISSING',
    check: 'iss',
  });
  await assert.rejects(async () => checkToken(await jwt({ ...base, iss: 'not a url' }), { now: NOW }), {
    code: 'TOKEN_CLAIM_INVALID',
    check: 'iss',
  });
  await assert.rejects(async () => checkToken(await jwt(base), { now: NOW, issuer: 'https://other' }), { code: 'TOKEN_ISSUER_MISMATCH' });
});

test('an unverified email is refused (the PoP would sign it)', async () => {
  await assert.rejects(async () => checkToken(await jwt({ ...base, email: 'a@example.com', email_verified: false }), { now: NOW }), {
    code: 'TOKEN_EMAIL_NOT_VERIFIED',
  });
});

test('garbage is TOKEN_MALFORMED, empty is TOKEN_MISSING', () => {
  assert.throws(() => checkToken('abc', { now: NOW }), { code: 'TOKEN_MALFORMED' });
  assert.throws(() => checkToken('a.b.c', { now: NOW }), { code: 'TOKEN_MALFORMED' });
  assert.throws(() => checkToken('  ', { now: NOW }), { code: 'TOKEN_MISSING' });
});
