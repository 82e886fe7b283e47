// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { TokenVerifier, verifyIdentityToken, decodeTokenUnverified, type IssuerConfig } from '../../src/oidc/index.js';
import { startTestIssuer, nowSeconds, segment, type TestIssuer } from './helpers.js';

let idp: TestIssuer;
let issuers: IssuerConfig[];
let verifier: TokenVerifier;

before(async () => {
  idp = await startTestIssuer();
  issuers = [{ issuerUrl: idp.url, type: 'email' }];
  verifier = new TokenVerifier(issuers);
});
after(() => idp.close());

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const t = nowSeconds();
  return { iss: idp.url, sub: 'alice', aud: 'sigstore', iat: t, exp: t + 600, email: 'alice@example.com', email_verified: true, ...extra };
}

async function rejects(jwt: unknown, code: string, v: TokenVerifier = verifier): Promise<void> {
  await assert.rejects(v.verify(jwt), (e: { code?: string }) => {
    assert.equal(e.code, code);
    return true;
  });
}

test('a valid ES256 token verifies and yields the email identity', async () => {
  const jwt = await idp.sign(claims());
  const r = await verifier.verify(jwt);
  assert.equal(r.identity.san.type, 'email');
  assert.equal(r.identity.san.value, 'alice@example.com');
  assert.equal(r.identity.challengeClaimValue, 'alice@example.com');
  assert.equal(r.identity.issuer, idp.url);
  assert.equal(r.issuerConfig, issuers[0]);
});

test('an RS256 token verifies too; discovery and JWKS are fetched once and cached', async () => {
  const before = { ...idp.requests };
  for (let i = 0; i < 5; i++) await verifier.verify(await idp.sign(claims(), { alg: 'RS256' }));
  assert.deepEqual(idp.requests, before);
  assert.equal(idp.requests.discovery, 1);
  assert.equal(idp.requests.jwks, 1);
});

test('verifyIdentityToken reuses one cache per issuer list', async () => {
  const list: IssuerConfig[] = [{ issuerUrl: idp.url, type: 'email' }];
  const before = idp.requests.discovery;
  await verifyIdentityToken(await idp.sign(claims()), list);
  await verifyIdentityToken(await idp.sign(claims()), list);
  assert.equal(idp.requests.discovery, before + 1);
});

test('forged signature: TOKEN_SIGNATURE_INVALID', async () => {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  await rejects(await idp.sign(claims(), { key: other }), 'TOKEN_SIGNATURE_INVALID');
  // payload swapped under a valid signature
  const [h, , s] = (await idp.sign(claims())).split('.');
  await rejects(`${h}.${segment(claims({ email: 'mallory@example.com' }))}.${s}`, 'TOKEN_SIGNATURE_INVALID');
});

test('expired and not-yet-valid tokens, with leeway', async () => {
  const t = nowSeconds();
  await rejects(await idp.sign(claims({ iat: t - 7200, exp: t - 3600 })), 'TOKEN_EXPIRED');
  await rejects(await idp.sign(claims({ nbf: t + 3600 })), 'TOKEN_NOT_YET_VALID');
  // within the 60 s leeway both pass
  await verifier.verify(await idp.sign(claims({ exp: t - 10, nbf: t + 10 })));
  // an explicit verification time
  const jwt = await idp.sign(claims({ exp: t + 600 }));
  await assert.rejects(verifier.verify(jwt, { now: (t + 3600) * 1000 }), { code: 'TOKEN_EXPIRED' });
  await rejects(await idp.sign(claims({ exp: undefined })), 'TOKEN_CLAIM_MISSING');
  await rejects(await idp.sign(claims({ exp: 'tomorrow' })), 'TOKEN_CLAIM_INVALID');
});

test('wrong audience names the claim and the expected value', async () => {
  const jwt = await idp.sign(claims({ aud: ['x'] }));
  await assert.rejects(verifier.verify(jwt), (e: { code?: string; message?: string }) => {
    assert.equal(e.code, 'TOKEN_AUDIENCE_MISMATCH');
    assert.match(e.message!, /aud \["x"\] does not contain "sigstore"/);
    return true;
  });
  await verifier.verify(await idp.sign(claims({ aud: ['other', 'sigstore'] })));
  const custom = new TokenVerifier([{ issuerUrl: idp.url, type: 'email', clientId: 'my-app' }]);
  await custom.verify(await idp.sign(claims({ aud: 'my-app' })));
  await rejects(await idp.sign(claims()), 'TOKEN_AUDIENCE_MISMATCH', custom);
});

test('unknown issuer, alg none, disallowed alg, unknown kid', async () => {
  await rejects(await idp.sign(claims({ iss: 'https://evil.example' })), 'TOKEN_ISSUER_UNKNOWN');
  await rejects(`${segment({ alg: 'none', typ: 'JWT' })}.${segment(claims())}.`, 'TOKEN_ALG_NONE');
  await rejects(`${segment({ alg: 'HS256', kid: 'ec-1' })}.${segment(claims())}.${segment('x')}`, 'TOKEN_ALG_NOT_ALLOWED');
  await rejects(await idp.sign(claims(), { kid: 'nope' }), 'TOKEN_UNKNOWN_KEY');
  // ES384 is allowed globally but not listed in the issuer's discovery document
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
  await rejects(await idp.sign(claims(), { alg: 'ES384', key: p384, kid: 'ec-1' }), 'TOKEN_ALG_NOT_ALLOWED');
  const onlyRsa = new TokenVerifier([{ issuerUrl: idp.url, type: 'email', algorithms: ['RS256'] }]);
  await rejects(await idp.sign(claims()), 'TOKEN_ALG_NOT_ALLOWED', onlyRsa);
});

test('malformed tokens: TOKEN_MALFORMED from decode and verify', async () => {
  for (const bad of [
    '',
    'abc',
    'a.b',
    'a.b.c.d',
    '!!.e30.',
    `${segment('not json')}.${segment({})}.`,
    `${segment([1])}.${segment({})}.`,
    42,
    null,
    'x'.repeat(70000),
  ]) {
    assert.throws(() => decodeTokenUnverified(bad), { code: 'TOKEN_MALFORMED' });
    await rejects(bad, 'TOKEN_MALFORMED');
  }
  assert.equal(decodeTokenUnverified(await idp.sign(claims())).email, 'alice@example.com');
});

test('email issuers need email_verified true', async () => {
  await rejects(await idp.sign(claims({ email_verified: false })), 'TOKEN_EMAIL_NOT_VERIFIED');
  await rejects(await idp.sign(claims({ email_verified: undefined })), 'TOKEN_EMAIL_NOT_VERIFIED');
  await rejects(await idp.sign(claims({ email: undefined })), 'TOKEN_CLAIM_MISSING');
  await verifier.verify(await idp.sign(claims({ email_verified: 'true' })));
  const skip = new TokenVerifier([{ issuerUrl: idp.url, type: 'email', skipEmailVerification: true }]);
  await skip.verify(await idp.sign(claims({ email_verified: false })));
});

test('discovery problems: issuer mismatch and unreachable issuer', async () => {
  const saved = idp.discovery;
  idp.discovery = { ...saved, issuer: 'https://someone-else.example' };
  const v = new TokenVerifier(issuers);
  await rejects(await idp.sign(claims()), 'TOKEN_ISSUER_MISMATCH', v);
  idp.discovery = saved;
  const gone = new TokenVerifier([{ issuerUrl: 'http://127.0.0.1:1', type: 'email' }], { fetchTimeoutMs: 2000 });
  await rejects(await idp.sign(claims({ iss: 'http://127.0.0.1:1' })), 'TOKEN_DISCOVERY_FAILED', gone);
});

test('key rotation: an unknown kid triggers one refetch of the JWKS', async () => {
  const v = new TokenVerifier(issuers);
  await v.verify(await idp.sign(claims()));
  const rotated = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwt = await idp.sign(claims(), { key: rotated.privateKey, kid: 'ec-2' });
  await rejects(jwt, 'TOKEN_UNKNOWN_KEY', v); // refetch is rate-limited: the set was fetched just now
  idp.jwks.keys.push({ ...rotated.publicKey.export({ format: 'jwk' }), kid: 'ec-2', use: 'sig', alg: 'ES256' });
  const later = new TokenVerifier(issuers);
  await later.verify(jwt);
});

test('a static key set skips discovery; wildcard issuers match one path segment', async () => {
  const before = idp.requests.discovery;
  const v = new TokenVerifier([{ issuerUrl: idp.url, type: 'email', jwks: idp.jwks as never }]);
  await v.verify(await idp.sign(claims()));
  assert.equal(idp.requests.discovery, before);
  const w = new TokenVerifier([{ wildcardIssuerUrl: 'https://oidc.*.example/id', type: 'email', jwks: idp.jwks as never }]);
  await w.verify(await idp.sign(claims({ iss: 'https://oidc.eu-1.example/id' })));
  await rejects(await idp.sign(claims({ iss: 'https://oidc.a.b.example/id' })), 'TOKEN_ISSUER_UNKNOWN', w);
});

test('every allowed algorithm family verifies: RS256, PS256, ES256/384/512, EdDSA; tampering fails each', async () => {
  const { SignJWT } = await import('jose');
  const pairs = {
    RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    PS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    ES384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    ES512: generateKeyPairSync('ec', { namedCurve: 'P-521' }),
    EdDSA: generateKeyPairSync('ed25519'),
  };
  const jwks = { keys: Object.entries(pairs).map(([alg, p]) => ({ ...p.publicKey.export({ format: 'jwk' }), kid: alg, alg })) };
  const v = new TokenVerifier([{ issuerUrl: 'https://static.example', type: 'email', jwks: jwks as never }]);
  for (const [alg, p] of Object.entries(pairs)) {
    const jwt = await new SignJWT(claims({ iss: 'https://static.example' })).setProtectedHeader({ alg, kid: alg }).sign(p.privateKey);
    assert.equal((await v.verify(jwt)).identity.san.value, 'alice@example.com', alg);
    const [h, , sig] = jwt.split('.');
    await rejects(
      `${h}.${segment(claims({ iss: 'https://static.example', email: 'eve@example.com' }))}.${sig}`,
      'TOKEN_SIGNATURE_INVALID',
      v,
    );
  }
  // a key used with the wrong algorithm is no candidate
  const wrong = await new SignJWT(claims({ iss: 'https://static.example' }))
    .setProtectedHeader({ alg: 'ES384', kid: 'ES256' })
    .sign(pairs.ES384.privateKey);
  await rejects(wrong, 'TOKEN_UNKNOWN_KEY', v);
  // JWS extensions are refused
  const crit = await new SignJWT(claims({ iss: 'https://static.example' }))
    .setProtectedHeader({ alg: 'ES256', kid: 'ES256', crit: ['exp'] } as never)
    .sign(pairs.ES256.privateKey)
    .catch(() => undefined);
  if (crit) await rejects(crit, 'TOKEN_MALFORMED', v);
  const [, p2, s2] = (
    await new SignJWT(claims({ iss: 'https://static.example' }))
      .setProtectedHeader({ alg: 'ES256', kid: 'ES256' })
      .sign(pairs.ES256.privateKey)
  ).split('.');
  await rejects(`${segment({ alg: 'ES256', kid: 'ES256', crit: ['x-custom'], 'x-custom': 1 })}.${p2}.${s2}`, 'TOKEN_MALFORMED', v);
});

test('discovery answers are read with a limit and a deadline: an endless body and a stalled body fail cleanly', async () => {
  const { createServer } = await import('node:http');
  let sent = 0;
  const server = createServer((req, res) => {
    if (req.url?.includes('endless')) {
      // No Content-Length, then megabytes until the client gives up.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (sent < 512 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 512 * 1024 * 1024) res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    } else {
      // Headers, then nothing.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"issuer":');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    // Too large is a failure of the issuer (502); too slow is a timeout (504 at the CA).
    for (const [path, code] of [
      ['endless', 'TOKEN_DISCOVERY_FAILED'],
      ['stalled', 'TOKEN_DISCOVERY_TIMEOUT'],
    ] as const) {
      const iss = `${base}/${path}`;
      const v = new TokenVerifier([{ issuerUrl: iss, type: 'email' }], { fetchTimeoutMs: 1500 });
      await rejects(await idp.sign(claims({ iss })), code, v);
    }
    // The endless body was cut off near the 1 MiB limit, not read to the end.
    assert.ok(sent < 64 * 1024 * 1024, `the server pushed ${sent} bytes before the client stopped reading`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
