// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RFC3161Timestamp, X509Certificate as SigstoreX509 } from '@sigstore/core';
import { TSAWitness } from '@sigstore/sign';
import { verifyRFC3161Timestamp } from '@sigstore/verify/dist/timestamp/tsa.js';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/services/http/index.js';
import { tsaService } from '../../src/services/tsa/index.js';
import { createTsaChain, type TsaChain } from '../../src/x509/build/index.js';
import { der } from '../../src/x509/der.js';
import { OID, parseCertificatesPem, parseSignedTimestamp, verifyTimestampToken } from '../../src/x509/index.js';

let app: FastifyInstance;
let base: string;
let tsa: TsaChain;
const SIG = Buffer.from('a signature to timestamp');
const digest = createHash('sha256').update(SIG).digest();

before(async () => {
  tsa = createTsaChain({ now: new Date(Date.now() - 3600_000) });
  app = createHttpApp();
  await app.register(tsaService({ signer: tsa.signer, chain: tsa.chain }));
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => app.close());

const authorities = () => [{ certChain: tsa.chain, validFor: { start: new Date(0), end: undefined } }];

async function post(body: Buffer | string, type: string): Promise<Response> {
  return fetch(`${base}/api/v1/timestamp`, { method: 'POST', headers: { 'content-type': type }, body });
}

test('sigstore-js TSAWitness gets a token that sigstore-js and Keyless verify', async () => {
  const witness = new TSAWitness({ tsaBaseURL: base, retry: 0, timeout: 5000 });
  const { rfc3161Timestamps } = await witness.testify({
    $case: 'messageSignature',
    messageSignature: { signature: SIG, messageDigest: { algorithm: 1, digest: Buffer.alloc(32) } },
  } as never);
  const token = Buffer.from(rfc3161Timestamps[0]!.signedTimestamp);
  const ca = {
    certChain: tsa.chain.map((c) => SigstoreX509.parse(Buffer.from(c.der))),
    validFor: { start: new Date(0), end: new Date(8.64e15) },
  };
  verifyRFC3161Timestamp(RFC3161Timestamp.parse(token), SIG, [ca]);
  const v = verifyTimestampToken(token, SIG, authorities());
  assert.equal(v.genTime.getUTCMilliseconds(), 0);
  assert.ok(Math.abs(v.genTime.getTime() - Date.now()) < 5000);
});

test('DER request with nonce and certReq: reply type, nonce echoed, leaf embedded, policy', async () => {
  const req = der.sequence(
    der.integer(1),
    der.sequence(der.sequence(der.oid(OID.sha256), der.null()), der.octetString(digest)),
    der.integer(0x0102030405060708n),
    der.boolean(true),
  );
  const res = await post(req, 'application/timestamp-query');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/timestamp-reply');
  const token = parseSignedTimestamp(Buffer.from(await res.arrayBuffer()));
  assert.deepEqual(token.tstInfo.nonce, Buffer.from('0102030405060708', 'hex'));
  assert.equal(token.tstInfo.policy, OID.sigstoreTsaPolicy);
  assert.deepEqual(
    token.certificates.map((c) => c.der),
    [tsa.signer.certificate.der],
  );
  verifyTimestampToken(token, SIG, authorities());
});

test('JSON request with nonce, certificates and sha384', async () => {
  const d384 = createHash('sha384').update(SIG).digest();
  const res = await post(
    JSON.stringify({
      artifactHash: d384.toString('base64'),
      hashAlgorithm: 'sha384',
      nonce: 123456789,
      certificates: true,
      extra: 'ignored',
    }),
    'application/json',
  );
  assert.equal(res.status, 200);
  const token = parseSignedTimestamp(Buffer.from(await res.arrayBuffer()));
  assert.equal(BigInt('0x' + token.tstInfo.nonce!.toString('hex')), 123456789n);
  assert.equal(token.certificates.length, 1);
  assert.equal(verifyTimestampToken(token, SIG, authorities()).tstInfo.hashAlgorithm, OID.sha384);
});

test('certchain serves the PEM chain, leaf first', async () => {
  const res = await fetch(`${base}/api/v1/timestamp/certchain`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/pem-certificate-chain/);
  const certs = parseCertificatesPem(await res.text());
  assert.deepEqual(
    certs.map((c) => c.der),
    tsa.chain.map((c) => c.der),
  );
  assert.deepEqual(certs[0]!.extKeyUsage, [OID.timeStamping]);
  assert.equal(certs[0]!.extension('2.5.29.37')!.critical, true);
});

test('bad requests get 4xx JSON errors with codes, and the service keeps serving', async () => {
  const cases: Array<[Buffer | string, string, number, string]> = [
    [Buffer.from('garbage'), 'application/timestamp-query', 400, 'REQUEST_INVALID'],
    [Buffer.alloc(0), 'application/timestamp-query', 400, 'REQUEST_INVALID'],
    [
      der.sequence(der.integer(1), der.sequence(der.sequence(der.oid(OID.sha1)), der.octetString(Buffer.alloc(20)))),
      'application/timestamp-query',
      400,
      'TSA_WEAK_HASH',
    ],
    [
      der.sequence(der.integer(1), der.sequence(der.sequence(der.oid('1.2.840.113549.2.5')), der.octetString(Buffer.alloc(16)))),
      'application/timestamp-query',
      400,
      'TIMESTAMP_HASH_UNSUPPORTED',
    ],
    [
      der.sequence(der.integer(1), der.sequence(der.sequence(der.oid(OID.sha256)), der.octetString(Buffer.alloc(31)))),
      'application/timestamp-query',
      400,
      'TSA_DIGEST_LENGTH',
    ],
    [
      der.sequence(der.integer(1), der.sequence(der.sequence(der.oid(OID.sha256)), der.octetString(digest)), der.oid('1.2.3.4')),
      'application/timestamp-query',
      400,
      'TSA_POLICY_UNSUPPORTED',
    ],
    [
      der.sequence(
        der.integer(1),
        der.sequence(der.sequence(der.oid(OID.sha256)), der.octetString(digest)),
        der.context(0, der.sequence()),
      ),
      'application/timestamp-query',
      400,
      'TSA_EXTENSIONS_UNSUPPORTED',
    ],
    [
      JSON.stringify({ artifactHash: digest.toString('base64'), hashAlgorithm: 'md5' }),
      'application/json',
      400,
      'TIMESTAMP_HASH_UNSUPPORTED',
    ],
    [JSON.stringify({ artifactHash: 'not base64!', hashAlgorithm: 'sha256' }), 'application/json', 400, 'REQUEST_INVALID'],
    [JSON.stringify({ hashAlgorithm: 'sha256' }), 'application/json', 400, 'REQUEST_INVALID'],
    [
      JSON.stringify({ artifactHash: digest.toString('base64'), hashAlgorithm: 'sha256', nonce: -1 }),
      'application/json',
      400,
      'REQUEST_INVALID',
    ],
    [
      JSON.stringify({ artifactHash: digest.toString('base64'), hashAlgorithm: 'sha256', nonce: 1.5 }),
      'application/json',
      400,
      'REQUEST_INVALID',
    ],
    [JSON.stringify([1, 2]), 'application/json', 400, 'REQUEST_INVALID'],
    ['{"artifactHash":', 'application/json', 400, 'FORMAT_INVALID'],
    ['hello', 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [Buffer.alloc(20_000, 0x30), 'application/timestamp-query', 413, 'BODY_TOO_LARGE'],
  ];
  for (const [body, type, status, code] of cases) {
    const res = await post(body, type);
    const json = (await res.json()) as { code: string; message: string };
    assert.equal(res.status, status, `${code}: ${JSON.stringify(json)}`);
    assert.equal(json.code, code, JSON.stringify(json));
    assert.equal(typeof json.message, 'string');
  }
  const ok = await post(JSON.stringify({ artifactHash: digest.toString('base64'), hashAlgorithm: 'sha256' }), 'application/json');
  assert.equal(ok.status, 200);
});

test('OpenSSL verifies a token from the service (ts -verify: ESS, signature, chain, timeStamping EKU)', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { spawnSync } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'keyless-tsa-'));
  try {
    const data = Buffer.from('data timestamped through the HTTP API');
    const req = der.sequence(
      der.integer(1),
      der.sequence(der.sequence(der.oid(OID.sha256), der.null()), der.octetString(createHash('sha256').update(data).digest())),
      der.integer(42n),
      der.boolean(true),
    );
    const res = await post(req, 'application/timestamp-query');
    writeFileSync(join(dir, 'resp.tsr'), Buffer.from(await res.arrayBuffer()));
    writeFileSync(join(dir, 'data'), data);
    writeFileSync(join(dir, 'root.pem'), tsa.root.certificate.toPem());
    writeFileSync(join(dir, 'tsa.pem'), tsa.signer.certificate.toPem());
    const run = (d: string) =>
      spawnSync(
        'openssl',
        [
          'ts',
          '-verify',
          '-data',
          join(dir, d),
          '-in',
          join(dir, 'resp.tsr'),
          '-CAfile',
          join(dir, 'root.pem'),
          '-untrusted',
          join(dir, 'tsa.pem'),
        ],
        { encoding: 'utf8' },
      );
    const ok = run('data');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Verification: OK/);
    writeFileSync(join(dir, 'other'), 'other data');
    assert.notEqual(run('other').status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
