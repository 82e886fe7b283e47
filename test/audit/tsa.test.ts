// RFC 3161 timestamps: the TSA certificate's purpose, and trust-root windows.
import { softwareSigner } from '../../src/core/signer.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { VerificationError } from '../../src/core/errors.js';
import { verifyTimestampToken, type TrustedCertificateAuthority } from '../../src/x509/index.js';
import { buildCertificate, createTimestampResponse, createTsaChain, ext, generateKey, publicKeyOf } from '../../src/x509/build/index.js';
import { loadCase, outcome } from './helpers.js';

const SIG = Buffer.from('signature bytes');
const req = {
  hashAlgorithm: 'sha256' as const,
  hashedMessage: createHash('sha256').update(SIG).digest(),
  certReq: false,
  hasExtensions: false,
};
const code = (c: string) => (e: unknown) => e instanceof VerificationError && e.code === c;

test('a TSA certificate without any EKU extension is not a timestamping certificate', () => {
  const chain = createTsaChain({ now: new Date(Date.now() - 3600_000) });
  const key = generateKey().privateKey;
  const noEku = buildCertificate(
    {
      issuer: chain.root.certificate.subject.der,
      subject: { organization: 'keyless', commonName: 'no-eku-tsa' },
      notBefore: chain.root.certificate.notBefore,
      notAfter: chain.root.certificate.notAfter,
      publicKey: publicKeyOf(key),
      extensions: [ext.keyUsage('digitalSignature')],
    },
    chain.root.key,
  );
  const token = createTimestampResponse(req, { certificate: noEku, key: softwareSigner(key) });
  const authorities: TrustedCertificateAuthority[] = [
    { certChain: [noEku, chain.root.certificate], validFor: { start: new Date(0), end: undefined } },
  ];
  assert.throws(() => verifyTimestampToken(token, SIG, authorities), code('TIMESTAMP_EKU_MISSING'));
  // The proper TSA certificate from the same root verifies.
  const good = createTimestampResponse(req, chain.signer);
  assert.ok(
    verifyTimestampToken(good, SIG, [{ certChain: chain.chain, validFor: { start: new Date(0), end: undefined } }]).genTime instanceof Date,
  );
});

test('the TSA validity window in the trusted root is inclusive at its end (conformance trust-root-tsa-validity-end-inclusive shape)', () => {
  const c = loadCase('rekor2-happy-path');
  const ok = outcome(c);
  assert.equal(ok, 'OK');
  // Close the TSA window exactly at the token's genTime (2025-06-12T12:02:20Z): still valid.
  // (A fresh root object each time: trust material is cached per root object.)
  for (const [end, want] of [
    ['2025-06-12T12:02:20Z', 'OK'],
    ['2025-06-12T12:02:19Z', 'TIMESTAMP_INVALID'],
  ] as const) {
    const d = loadCase('rekor2-happy-path');
    d.trustedRoot.timestampAuthorities[0].validFor.end = end;
    assert.equal(outcome(d), want, end);
  }
});
