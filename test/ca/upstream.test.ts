// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Issue 8, item 7: an identity provider that fails or is slow is an upstream failure
// (502 / 504 with a code), never a 500.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { createHttpApp } from '../../src/services/http/index.js';
import { caService } from '../../src/services/ca/index.js';
import { createCaChain } from '../../src/x509/build/index.js';
import { TokenVerifier } from '../../src/oidc/index.js';
import { ecKey, publicKeyRequest } from './helpers.js';

test('a stalled or failing issuer discovery answers 504 / 502 with a code', async () => {
  // /stalled: headers then nothing; /broken: 500.
  const idp = createServer((req, res) => {
    if (req.url!.startsWith('/broken')) {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"issuer":');
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  const idpBase = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  const issuers = [
    { issuerUrl: `${idpBase}/stalled`, type: 'email' as const },
    { issuerUrl: `${idpBase}/broken`, type: 'email' as const },
  ];
  const chain = createCaChain();
  const app = createHttpApp();
  await app.register(
    caService({
      issuers,
      tokenVerifier: new TokenVerifier(issuers, { fetchTimeoutMs: 500 }),
      issuer: chain.intermediate,
      parents: [chain.root.certificate],
    }),
  );
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const key = ecKey();
    for (const [path, status, code] of [
      ['stalled', 504, 'TOKEN_DISCOVERY_TIMEOUT'],
      ['broken', 502, 'TOKEN_DISCOVERY_FAILED'],
    ] as const) {
      const now = Math.floor(Date.now() / 1000);
      const jwt = await new SignJWT({ email: 'a@example.com', email_verified: true })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(`${idpBase}/${path}`)
        .setAudience('sigstore')
        .setSubject('a')
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(signing);
      const r = await fetch(`${base}/api/v2/signingCert`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(publicKeyRequest(jwt, key, 'a@example.com')),
      });
      const body = (await r.json()) as { code: string };
      assert.equal(r.status, status, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.code, code);
    }
  } finally {
    await app.close();
    idp.closeAllConnections();
    idp.close();
  }
});
