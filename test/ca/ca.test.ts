// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { softwareSigner } from '../../src/core/signer.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { FulcioSigner } from '@sigstore/sign';
import { parseCertificate, parseCertificatesPem, verifyEmbeddedScts, type Certificate } from '../../src/x509/index.js';
import { startStack, emailClaims, token, ecKey, publicKeyRequest, csrPem, post, nowSeconds, type Stack } from './helpers.js';
import { GITHUB_CLAIMS } from '../oidc/helpers.js';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

function chainOf(json: Record<string, unknown>): Certificate[] {
  const embedded = json.signedCertificateEmbeddedSct as { chain: { certificates: string[] } };
  assert.ok(embedded, JSON.stringify(json));
  assert.equal(embedded.chain.certificates.length, 3);
  return embedded.chain.certificates.map((pem) => parseCertificatesPem(pem)[0]!);
}

function checkSct(leaf: Certificate): void {
  const scts = verifyEmbeddedScts(leaf, stack.chain.intermediate.certificate, [
    { logId: stack.ctLog.logId, publicKey: stack.ctLog.publicKey, validFor: { start: new Date(0), end: undefined } },
  ]);
  assert.equal(scts.length, 1);
}

test('public key + proof of possession: a Fulcio leaf with SAN, extensions and a verifying embedded SCT', async () => {
  const key = ecKey();
  const jwt = await token(stack, emailClaims(stack));
  const r = await post(stack, publicKeyRequest(jwt, key, 'dev@example.com'));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const [leaf, intermediate, root] = chainOf(r.json);
  assert.ok(leaf!.der.equals(parseCertificate(leaf!.der).der));
  assert.ok(intermediate!.der.equals(stack.chain.intermediate.certificate.der));
  assert.ok(root!.der.equals(stack.chain.root.certificate.der));
  assert.ok(leaf!.verifySignedBy(intermediate!));
  assert.deepEqual(
    leaf!.subjectAltNames.map((s) => [s.type, s.value]),
    [['email', 'dev@example.com']],
  );
  assert.equal(leaf!.oidcIssuer, stack.issuer);
  assert.deepEqual(leaf!.keyUsage, ['digitalSignature']);
  assert.deepEqual(leaf!.extKeyUsage, ['1.3.6.1.5.5.7.3.3']);
  assert.ok(leaf!.publicKey.export({ format: 'der', type: 'spki' }).equals(key.publicKey.export({ format: 'der', type: 'spki' })));
  assert.equal(leaf!.notAfter.getTime() - leaf!.notBefore.getTime(), 10 * 60 * 1000);
  assert.equal(leaf!.isPrecertificate, false);
  assert.equal(leaf!.extension('1.3.6.1.4.1.57264.1.1')!.critical, false);
  checkSct(leaf!);
});

test('token in Authorization: Bearer and a CSR (sigstore-python style)', async () => {
  const key = ecKey();
  const jwt = await token(stack, emailClaims(stack));
  const csr = Buffer.from(csrPem(key.publicKey, key.privateKey)).toString('base64');
  const r = await post(stack, { certificateSigningRequest: csr }, { authorization: `Bearer ${jwt}` });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const [leaf] = chainOf(r.json);
  assert.ok(leaf!.publicKey.export({ format: 'der', type: 'spki' }).equals(key.publicKey.export({ format: 'der', type: 'spki' })));
  checkSct(leaf!);
  // sigstore-go style: publicKeyRequest only, Bearer header
  const body = publicKeyRequest(jwt, key, 'dev@example.com');
  delete body.credentials;
  const r2 = await post(stack, body, { authorization: `Bearer ${jwt}` });
  assert.equal(r2.status, 200);
});

test('GitHub-like workflow tokens carry every workflow extension', async () => {
  const key = ecKey('P-384');
  const iss = `${stack.issuer}/github`;
  const t = nowSeconds();
  const jwt = await token(stack, { iss, aud: 'sigstore', iat: t, exp: t + 600, ...GITHUB_CLAIMS });
  const r = await post(stack, publicKeyRequest(jwt, key, GITHUB_CLAIMS.sub, 'sha384'));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const [leaf] = chainOf(r.json);
  assert.deepEqual(
    leaf!.subjectAltNames.map((s) => s.value),
    [`https://github.com/${GITHUB_CLAIMS.job_workflow_ref}`],
  );
  const ext = leaf!.sigstoreExtensions;
  assert.equal(ext['1.3.6.1.4.1.57264.1.8'], iss);
  assert.equal(ext['1.3.6.1.4.1.57264.1.2'], 'push');
  assert.equal(ext['1.3.6.1.4.1.57264.1.21'], 'https://github.com/octo-org/octo-repo/actions/runs/42/attempts/1');
  assert.equal(ext['1.3.6.1.4.1.57264.1.24'], GITHUB_CLAIMS.sub);
  checkSct(leaf!);
});

test('sigstore-js FulcioSigner obtains a certificate', async () => {
  const jwt = await token(stack, emailClaims(stack));
  const signer = new FulcioSigner({ fulcioBaseURL: stack.base, identityProvider: { getToken: async () => jwt } });
  const sig = await signer.sign(Buffer.from('hello'));
  assert.equal(sig.key.$case, 'x509Certificate');
  const leaf = parseCertificatesPem((sig.key as { certificate: string }).certificate)[0]!;
  assert.equal(leaf.subjectAltNames[0]!.value, 'dev@example.com');
  checkSct(leaf);
});

test('trustBundle and configuration', async () => {
  const tb = (await (await fetch(`${stack.base}/api/v2/trustBundle`)).json()) as { chains: Array<{ certificates: string[] }> };
  assert.equal(tb.chains.length, 1);
  assert.ok(parseCertificatesPem(tb.chains[0]!.certificates[0]!)[0]!.der.equals(stack.chain.intermediate.certificate.der));
  assert.ok(parseCertificatesPem(tb.chains[0]!.certificates[1]!)[0]!.der.equals(stack.chain.root.certificate.der));
  const conf = (await (await fetch(`${stack.base}/api/v2/configuration`)).json()) as { issuers: Array<Record<string, unknown>> };
  assert.deepEqual(conf.issuers[0], {
    issuerUrl: stack.issuer,
    audience: 'sigstore',
    challengeClaim: 'email',
    spiffeTrustDomain: '',
    issuerType: 'email',
    subjectDomain: '',
    skipEmailVerification: false,
  });
  assert.equal(conf.issuers[1]!.issuerType, 'github-workflow');
});

test('token failures: specific 4xx codes', async () => {
  const key = ecKey();
  const t = nowSeconds();
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const forgedSigner = { ...stack.signer, signer: softwareSigner(other) };
  const { signIdToken } = await import('../../src/services/idp/index.js');
  const seg = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const cases: Array<[string, Promise<string> | string]> = [
    ['TOKEN_SIGNATURE_INVALID', signIdToken(forgedSigner, emailClaims(stack))],
    ['TOKEN_EXPIRED', token(stack, emailClaims(stack, { iat: t - 7200, exp: t - 3600 }))],
    ['TOKEN_NOT_YET_VALID', token(stack, emailClaims(stack, { nbf: t + 3600 }))],
    ['TOKEN_AUDIENCE_MISMATCH', token(stack, emailClaims(stack, { aud: 'other' }))],
    ['TOKEN_ISSUER_UNKNOWN', token(stack, emailClaims(stack, { iss: 'https://accounts.example.com' }))],
    ['TOKEN_ALG_NONE', `${seg({ alg: 'none' })}.${seg(emailClaims(stack))}.`],
    ['TOKEN_UNKNOWN_KEY', signIdToken({ ...stack.signer, kid: 'not-a-key' }, emailClaims(stack))],
    ['TOKEN_MALFORMED', 'not.a.jwt!'],
    ['TOKEN_EMAIL_NOT_VERIFIED', token(stack, emailClaims(stack, { email_verified: false }))],
  ];
  for (const [code, jwtP] of cases) {
    const r = await post(stack, publicKeyRequest(await jwtP, key, 'dev@example.com'));
    assert.equal(r.status, 400, code);
    assert.equal(r.json.code, code);
    assert.equal(typeof r.json.message, 'string');
  }
  const missing = await post(stack, { publicKeyRequest: publicKeyRequest('x', key, 'x').publicKeyRequest });
  assert.equal(missing.status, 401);
  assert.equal(missing.json.code, 'TOKEN_MISSING');
});

test('request failures: proof of possession, CSR, keys, malformed input', async () => {
  const key = ecKey();
  const jwt = await token(stack, emailClaims(stack));
  const good = publicKeyRequest(jwt, key, 'dev@example.com') as {
    publicKeyRequest: { publicKey: { content: string }; proofOfPossession: string };
  };
  const withPkr = (over: Record<string, unknown>) => ({
    credentials: { oidcIdentityToken: jwt },
    publicKeyRequest: { ...good.publicKeyRequest, ...over },
  });
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const other = ecKey();
  const cases: Array<[string, unknown, Record<string, string>?]> = [
    ['POP_INVALID', publicKeyRequest(jwt, key, 'dev@example.com.evil')],
    ['POP_INVALID', publicKeyRequest(jwt, key, 'dev@example.com'.replace('dev', 'sub'))],
    ['POP_INVALID', withPkr({ proofOfPossession: 'not base64!' })],
    ['POP_MISSING', withPkr({ proofOfPossession: undefined })],
    ['PUBLIC_KEY_INVALID', withPkr({ publicKey: { content: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' } })],
    ['PUBLIC_KEY_INVALID', withPkr({ publicKey: { content: 42 } })],
    ['PUBLIC_KEY_INVALID', withPkr({ publicKey: undefined })],
    ['KEY_UNSUPPORTED', withPkr({ publicKey: { content: k1.publicKey.export({ format: 'pem', type: 'spki' }) } })],
    ['KEY_UNSUPPORTED', withPkr({ publicKey: { content: rsa1024.publicKey.export({ format: 'pem', type: 'spki' }) } })],
    [
      'CSR_SIGNATURE_INVALID',
      { certificateSigningRequest: Buffer.from(csrPem(key.publicKey, other.privateKey)).toString('base64') },
      { authorization: `Bearer ${jwt}` },
    ],
    [
      'CSR_INVALID',
      {
        certificateSigningRequest: Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n').toString(
          'base64',
        ),
      },
      { authorization: `Bearer ${jwt}` },
    ],
    ['CSR_INVALID', { certificateSigningRequest: '%%%' }, { authorization: `Bearer ${jwt}` }],
    ['CSR_INVALID', { certificateSigningRequest: Buffer.from([0x30, 0x82, 0xff]).toString('base64') }, { authorization: `Bearer ${jwt}` }],
    ['REQUEST_INVALID', { credentials: { oidcIdentityToken: jwt } }],
    ['REQUEST_INVALID', { ...withPkr({}), certificateSigningRequest: 'AAAA' }],
    ['REQUEST_INVALID', [1, 2, 3]],
    ['REQUEST_INVALID', { credentials: 'x', publicKeyRequest: good.publicKeyRequest }],
  ];
  for (const [code, body, headers] of cases) {
    const r = await post(stack, body, headers);
    assert.equal(r.status, 400, `${code}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.code, code, JSON.stringify(r.json));
  }
  // signing `sub` for an email issuer: the message says so
  const subJwt = await token(stack, emailClaims(stack, { sub: 'user-123' }));
  const wrongClaim = await post(stack, publicKeyRequest(subJwt, key, 'user-123'));
  assert.equal(wrongClaim.json.code, 'POP_INVALID');
  assert.match(String(wrongClaim.json.message), /signs the "sub" claim instead/);
  const bad = await post(stack, '{"credentials":');
  assert.equal(bad.status, 400);
  const wrongType = await fetch(`${stack.base}/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'application/xml' },
    body: '<x/>',
  });
  assert.equal(wrongType.status, 415);
  // a PoP with a P-256 key but signed over SHA-512 is refused (Fulcio's default scheme only)
  const r = await post(stack, publicKeyRequest(jwt, key, 'dev@example.com', 'sha512'));
  assert.equal(r.json.code, 'POP_INVALID');
});

test("Ed25519, RSA and P-521 keys: PoP checked with each key's default scheme", async () => {
  const jwt = await token(stack, emailClaims(stack));
  const mk = (type: 'ed25519' | 'rsa' | 'ec', hash: string | null) => {
    const pair =
      type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : type === 'ec'
          ? generateKeyPairSync('ec', { namedCurve: 'P-521' })
          : generateKeyPairSync('ed25519');
    return publicKeyRequest(
      jwt,
      { privateKey: pair.privateKey, pem: pair.publicKey.export({ format: 'pem', type: 'spki' }) as string },
      'dev@example.com',
      hash,
    );
  };
  for (const [type, hash] of [
    ['ed25519', null],
    ['rsa', 'sha256'],
    ['ec', 'sha512'],
  ] as const) {
    const r = await post(stack, mk(type, hash));
    assert.equal(r.status, 200, `${type}: ${JSON.stringify(r.json)}`);
  }
  // P-256 and P-384 points that are not on their curve (P-256 is imported from JWK, P-384 from DER)
  for (const [prefix, size] of [
    ['3059301306072a8648ce3d020106082a8648ce3d030107034200', 32],
    ['3076301006072a8648ce3d020106052b81040022036200', 48],
  ] as const) {
    const badPoint = Buffer.concat([Buffer.from(prefix, 'hex'), Buffer.from([4]), Buffer.alloc(2 * size, 1)]);
    const pem = `-----BEGIN PUBLIC KEY-----\n${badPoint.toString('base64')}\n-----END PUBLIC KEY-----\n`;
    const r = await post(stack, {
      credentials: { oidcIdentityToken: jwt },
      publicKeyRequest: { publicKey: { content: pem }, proofOfPossession: 'AAAA' },
    });
    assert.equal(r.status, 400, `${size * 8}-bit point`);
    assert.equal(r.json.code, 'PUBLIC_KEY_INVALID');
  }
});

test('legacy v1 API: signedEmailAddress, token in the header, 201 PEM chain; rootCert', async () => {
  const key = ecKey();
  const jwt = await token(stack, emailClaims(stack));
  const der = key.publicKey.export({ format: 'der', type: 'spki' });
  for (const content of [der.toString('base64'), Buffer.from(key.pem).toString('base64')]) {
    const body = {
      publicKey: { algorithm: 'ecdsa', content },
      signedEmailAddress: nodeSign('sha256', Buffer.from('dev@example.com'), key.privateKey).toString('base64'),
    };
    const r = await fetch(`${stack.base}/api/v1/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
      body: JSON.stringify(body),
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('content-type'), 'application/pem-certificate-chain');
    const chain = parseCertificatesPem(await r.text());
    assert.equal(chain.length, 3);
    assert.equal(chain[0]!.subjectAltNames[0]!.value, 'dev@example.com');
    checkSct(chain[0]!);
  }
  const bad = await fetch(`${stack.base}/api/v1/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
    body: JSON.stringify({ publicKey: { content: der.toString('base64') }, signedEmailAddress: 'AAAA' }),
  });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { code: string }).code, 'POP_INVALID');
  const root = await fetch(`${stack.base}/api/v1/rootCert`);
  assert.equal(parseCertificatesPem(await root.text()).length, 2);
});

test('an issuing CA outside its validity refuses with 503 CA_NOT_VALID', async () => {
  const { CertificateAuthority } = await import('../../src/services/ca/index.js');
  const later = new CertificateAuthority({
    issuers: stack.issuers,
    issuer: stack.chain.intermediate,
    parents: [stack.chain.root.certificate],
    now: () => new Date(stack.chain.intermediate.certificate.notAfter.getTime() + 1000),
  });
  const jwt = await token(stack, emailClaims(stack));
  await assert.rejects(
    later.signingCertificate(publicKeyRequest(jwt, ecKey(), 'dev@example.com'), undefined),
    (e: { code?: string; status?: number }) => {
      assert.equal(e.code, 'CA_NOT_VALID');
      assert.equal(e.status, 503);
      return true;
    },
  );
});
