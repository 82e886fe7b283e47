// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RFC3161Timestamp, X509Certificate as SigstoreX509 } from '@sigstore/core';
import { verifyRFC3161Timestamp } from '@sigstore/verify/dist/timestamp/tsa.js';
import { FormatError, KeylessError, VerificationError } from '../../src/core/errors.js';
import {
  loadTrustMaterial,
  parseDer,
  parseSignedTimestamp,
  parseTimestampResponse,
  verifyTimestampToken,
  OID,
  type TrustedCertificateAuthority,
} from '../../src/x509/index.js';
import {
  createTimestampResponse,
  createTsaChain,
  parseTimestampRequest,
  timestampRequestFromJson,
  type TimestampRequest,
} from '../../src/x509/build/index.js';
import { der, encodeTlv } from '../../src/x509/der.js';
import { conformanceCases, makeStack, signatureOf } from './fixtures.js';

const code = (c: string) => (e: unknown) => e instanceof KeylessError && e.code === c;
const SIG = Buffer.from('the signature bytes being timestamped');

function request(data = SIG, extra: Partial<TimestampRequest> = {}): TimestampRequest {
  return {
    hashAlgorithm: 'sha256',
    hashedMessage: createHash('sha256').update(data).digest(),
    certReq: false,
    hasExtensions: false,
    ...extra,
  };
}

function authorities(tsa = makeStack().tsa, start = new Date(0), end?: Date): TrustedCertificateAuthority[] {
  return [{ certChain: tsa.chain, validFor: { start, end } }];
}

test('a token verifies and returns genTime in whole seconds; the TSTInfo has the Sigstore shape', () => {
  const { tsa } = makeStack();
  const now = new Date('2026-03-04T05:06:07.891Z');
  const tsaAt = createTsaChain({ now: new Date('2026-01-01T00:00:00Z') });
  const resp = createTimestampResponse(request(SIG, { nonce: Buffer.from([0x01, 0x02, 0x03]) }), tsaAt.signer, { now });
  const v = verifyTimestampToken(resp, SIG, authorities(tsaAt));
  assert.equal(v.genTime.toISOString(), '2026-03-04T05:06:07.000Z');
  assert.equal(v.tstInfo.policy, OID.sigstoreTsaPolicy);
  assert.deepEqual(v.tstInfo.accuracy, { seconds: 1, millis: 0, micros: 0 });
  assert.deepEqual(v.tstInfo.nonce, Buffer.from([1, 2, 3]));
  assert.equal(v.tstInfo.serialNumber.length, 20);
  assert.equal(v.tstInfo.tsa?.type, 'directoryName');
  const parsed = parseTimestampResponse(resp);
  assert.equal(parsed.status, 0);
  assert.equal(parsed.token!.certificates.length, 0);
  // certReq → exactly the leaf embedded.
  const withCert = parseSignedTimestamp(createTimestampResponse(request(SIG, { certReq: true }), tsa.signer));
  assert.deepEqual(
    withCert.certificates.map((c) => c.der),
    [tsa.signer.certificate.der],
  );
  assert.ok('issuer' in withCert.signerInfo.sid);
  assert.deepEqual(
    [...withCert.signerInfo.signedAttrs.keys()].sort(),
    [OID.contentType, OID.messageDigest, OID.signingTime, OID.signingCertificateV2].sort(),
  );
});

test('sigstore-js verifies our tokens (RFC3161Timestamp + verifyRFC3161Timestamp)', () => {
  const { tsa } = makeStack();
  for (const certReq of [false, true]) {
    const resp = createTimestampResponse(request(SIG, { certReq, nonce: Buffer.from([0x7f, 0xff]) }), tsa.signer);
    const ts = RFC3161Timestamp.parse(Buffer.from(resp));
    const ca = {
      certChain: tsa.chain.map((c) => SigstoreX509.parse(Buffer.from(c.der))),
      validFor: { start: new Date(0), end: new Date(8.64e15) },
    };
    verifyRFC3161Timestamp(ts, SIG, [ca]);
    assert.throws(() => verifyRFC3161Timestamp(ts, Buffer.from('other'), [ca]));
  }
});

test('wrong imprint, tampered TSTInfo and tampered signature fail', () => {
  const { tsa } = makeStack();
  const auth = authorities(tsa);
  const resp = createTimestampResponse(request(), tsa.signer);
  assert.throws(() => verifyTimestampToken(resp, Buffer.from('something else'), auth), code('TIMESTAMP_IMPRINT_MISMATCH'));

  // Flip one byte of genTime inside the TSTInfo: the messageDigest attribute no longer matches.
  const genTime = resp.indexOf(Buffer.from([0x18, 0x0f]));
  const t1 = Buffer.from(resp);
  t1[genTime + 5] = t1[genTime + 5]! ^ 1;
  assert.throws(() => verifyTimestampToken(t1, SIG, auth), code('TIMESTAMP_MESSAGE_DIGEST_MISMATCH'));

  // Flip the last byte of the signature (the OCTET STRING at the very end).
  const t2 = Buffer.from(resp);
  t2[t2.length - 1] = t2[t2.length - 1]! ^ 1;
  assert.throws(
    () => verifyTimestampToken(t2, SIG, auth),
    (e: unknown) => code('TIMESTAMP_SIGNATURE_INVALID')(e) || e instanceof FormatError,
  );

  // Tampered signingTime attribute: the signature over the signed attributes fails.
  const st = resp.indexOf(Buffer.from([0x17, 0x0d]));
  const t3 = Buffer.from(resp);
  t3[st + 3] = t3[st + 3] === 0x30 ? 0x31 : 0x30;
  assert.throws(() => verifyTimestampToken(t3, SIG, auth), code('TIMESTAMP_SIGNATURE_INVALID'));
});

test('untrusted TSA, TSA outside its trusted-root window, genTime outside the TSA certificate', () => {
  const { tsa } = makeStack();
  const other = makeStack().tsa;
  const resp = createTimestampResponse(request(), tsa.signer);
  assert.throws(() => verifyTimestampToken(resp, SIG, authorities(other)), code('TIMESTAMP_AUTHORITY_UNTRUSTED'));
  const genTime = parseSignedTimestamp(resp).tstInfo.genTime;
  verifyTimestampToken(resp, SIG, authorities(tsa, new Date(0), genTime)); // end inclusive
  assert.throws(
    () => verifyTimestampToken(resp, SIG, authorities(tsa, new Date(0), new Date(genTime.getTime() - 1))),
    code('TIMESTAMP_OUTSIDE_AUTHORITY_VALIDITY'),
  );
  assert.throws(
    () => verifyTimestampToken(resp, SIG, authorities(tsa, new Date(genTime.getTime() + 1))),
    code('TIMESTAMP_OUTSIDE_AUTHORITY_VALIDITY'),
  );

  // The TSA certificate was issued an hour before "now"; a token dated earlier is outside it.
  const early = createTimestampResponse(request(), tsa.signer, { now: new Date(tsa.signer.certificate.notBefore.getTime() - 1000) });
  assert.throws(() => verifyTimestampToken(early, SIG, authorities(tsa)), code('CERTIFICATE_NOT_YET_VALID'));
});

test('a token signed by the right key but naming another certificate in ESS fails', () => {
  const { tsa } = makeStack();
  // Same key, a different certificate for it: the sid and ESS hash name the other certificate.
  const reissued = createTsaChain({ rootKey: tsa.root.key, signingKey: tsa.signer.key, now: new Date(Date.now() - 1000_000) });
  const resp = createTimestampResponse(request(), reissued.signer);
  // The trusted root lists only the original chain: the sid (serial) does not match its leaf.
  assert.throws(() => verifyTimestampToken(resp, SIG, authorities(tsa)), code('TIMESTAMP_AUTHORITY_UNTRUSTED'));
});

test('garbage tokens fail with FORMAT_INVALID, never hang', () => {
  const { tsa } = makeStack();
  const resp = createTimestampResponse(request(), tsa.signer);
  const auth = authorities(tsa);
  for (const bad of [
    Buffer.alloc(0),
    Buffer.from([0x30, 0x00]),
    resp.subarray(0, 100),
    Buffer.alloc(10_000, 0x30),
    Buffer.from('garbage'),
  ]) {
    assert.throws(
      () => verifyTimestampToken(bad, SIG, auth),
      (e: unknown) => e instanceof FormatError || e instanceof VerificationError,
    );
  }
  for (let i = 0; i < resp.length; i += 3) {
    const t = Buffer.from(resp);
    t[i] = t[i]! ^ 0x5a;
    // Unsigned parts (e.g. SignedData.digestAlgorithms) may change harmlessly; anything else fails cleanly.
    try {
      const v = verifyTimestampToken(t, SIG, auth);
      assert.deepEqual(v.tstInfo.der, parseSignedTimestamp(resp).tstInfo.der, `byte ${i}`);
    } catch (e) {
      assert.ok(e instanceof KeylessError, `byte ${i}: ${String(e)}`);
    }
  }
  // A rejected response (status 2) is not a timestamp.
  const rejected = der.sequence(der.sequence(der.integer(2)));
  assert.throws(() => verifyTimestampToken(rejected, SIG, auth), code('TIMESTAMP_NOT_GRANTED'));
});

test('TimeStampReq parsing: DER and JSON forms, refusals', () => {
  const digest = createHash('sha256').update(SIG).digest();
  const req = der.sequence(
    der.integer(1),
    der.sequence(der.sequence(der.oid(OID.sha256), der.null()), der.octetString(digest)),
    der.oid('1.2.3.4'),
    der.integer(0x1234567890n),
    der.boolean(true),
  );
  const parsed = parseTimestampRequest(req);
  assert.equal(parsed.hashAlgorithm, 'sha256');
  assert.equal(parsed.certReq, true);
  assert.equal(parsed.policy, '1.2.3.4');
  assert.deepEqual(parsed.nonce, Buffer.from('1234567890', 'hex'));
  const sha1 = der.sequence(der.integer(1), der.sequence(der.sequence(der.oid(OID.sha1)), der.octetString(Buffer.alloc(20))));
  assert.throws(() => parseTimestampRequest(sha1), code('TSA_WEAK_HASH'));
  const shortDigest = der.sequence(der.integer(1), der.sequence(der.sequence(der.oid(OID.sha256)), der.octetString(Buffer.alloc(31))));
  assert.throws(() => parseTimestampRequest(shortDigest), code('TSA_DIGEST_LENGTH'));
  assert.throws(() => parseTimestampRequest(Buffer.from('nope')), code('FORMAT_INVALID'));
  assert.throws(() => parseTimestampRequest(encodeTlv(0x30, Buffer.alloc(0))), code('FORMAT_INVALID'));

  const j = timestampRequestFromJson({
    artifactHash: digest.toString('base64'),
    hashAlgorithm: 'sha256',
    nonce: 12345678901234567890n,
    certificates: true,
  });
  assert.deepEqual(j.hashedMessage, digest);
  assert.equal(BigInt('0x' + j.nonce!.toString('hex')), 12345678901234567890n);
  assert.throws(
    () => timestampRequestFromJson({ artifactHash: digest.toString('base64'), hashAlgorithm: 'md5' }),
    code('TIMESTAMP_HASH_UNSUPPORTED'),
  );
  // The nonce survives into the token as sent.
  const { tsa } = makeStack();
  const tok = parseSignedTimestamp(createTimestampResponse(j, tsa.signer));
  assert.deepEqual(tok.tstInfo.nonce, j.nonce!.subarray(j.nonce![0] === 0 ? 1 : 0));
  assert.equal(parseDer(tok.der, 'x').tag, 0x30);
});

test('TimeStampReq is strict DER: one nonce, minimal and non-negative, fields in order; the echoed nonce is re-encoded', () => {
  const digest = createHash('sha256').update(SIG).digest();
  const imprint = der.sequence(der.sequence(der.oid(OID.sha256), der.null()), der.octetString(digest));
  const req = (...rest: Buffer[]) => der.sequence(der.integer(1), imprint, ...rest);
  const int = (hex: string) => encodeTlv(0x02, Buffer.from(hex, 'hex'));
  // A nonce whose top bit is set needs its leading zero: accepted, echoed minimal.
  assert.deepEqual(parseTimestampRequest(req(int('0080ff'))).nonce, Buffer.from('0080ff', 'hex'));
  for (const [name, bad] of [
    ['non-minimal nonce', req(int('000001'))],
    ['negative nonce', req(int('ff01'))],
    ['two nonces', req(der.integer(1n), der.integer(2n))],
    ['nonce before policy', req(der.integer(7n), der.oid('1.2.3.4'))],
    ['certReq before nonce', req(der.boolean(true), der.integer(7n))],
    ['explicit certReq FALSE', req(encodeTlv(0x01, Buffer.from([0])))],
    ['certReq TRUE not 0xFF', req(encodeTlv(0x01, Buffer.from([1])))],
    ['nonce over 32 bytes', req(int('7f' + '00'.repeat(32)))],
    ['non-minimal version', der.sequence(int('0001'), imprint)],
  ] as const) {
    assert.throws(() => parseTimestampRequest(bad), code('FORMAT_INVALID'), name);
  }
  // What the token carries is the minimal encoding of the value, whatever the JSON form spelled.
  const { tsa } = makeStack();
  const parsed = parseTimestampRequest(req(int('00ff')));
  const response = createTimestampResponse(parsed, tsa.signer);
  const tok = parseSignedTimestamp(response);
  assert.equal(BigInt('0x' + tok.tstInfo.nonce!.toString('hex')), 255n);
  // OpenSSL, a strict reader of these tokens, reads the answer and the echoed nonce.
  const dir = mkdtempSync(join(tmpdir(), 'keyless-tsa-'));
  try {
    writeFileSync(join(dir, 'resp.der'), response);
    const r = spawnSync('openssl', ['ts', '-reply', '-in', join(dir, 'resp.der'), '-text'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Nonce: 0xFF\b/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every conformance timestamp from a trusted TSA verifies; the _fail ones fail with the named check', () => {
  const expectFail: Record<string, string> = {
    'rekor2-timestamp-outside-trust-root-tsa-validity_fail': 'TIMESTAMP_OUTSIDE_AUTHORITY_VALIDITY',
    'rekor2-timestamp-payload-mismatch_fail': 'TIMESTAMP_IMPRINT_MISMATCH',
    'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': 'TIMESTAMP_AUTHORITY_UNTRUSTED',
  };
  let ok = 0;
  for (const c of conformanceCases()) {
    const stamps = c.bundle.verificationMaterial?.timestampVerificationData?.rfc3161Timestamps ?? [];
    if (stamps.length === 0) continue;
    const tm = loadTrustMaterial(c.trustedRoot);
    for (const s of stamps) {
      const token = Buffer.from(s.signedTimestamp, 'base64');
      if (expectFail[c.name]) {
        assert.throws(() => verifyTimestampToken(token, signatureOf(c.bundle), tm.timestampAuthorities), code(expectFail[c.name]!), c.name);
      } else {
        verifyTimestampToken(token, signatureOf(c.bundle), tm.timestampAuthorities);
        ok++;
      }
    }
  }
  assert.ok(ok >= 20, `${ok}`);
  assert.ok(conformanceCases().some((c) => c.name === 'rekor2-timestamp-without-embedded-cert'));
});

test('an embedded TSA certificate that chains to a trusted TSA root is used; without it the token is untrusted', () => {
  const { tsa } = makeStack();
  // A second signing certificate under the same TSA root (a rotated key): not listed in the trusted root.
  const rotated = createTsaChain({ rootKey: tsa.root.key, now: new Date(Date.now() - 3600_000) });
  const signer = { certificate: rotated.signer.certificate, key: rotated.signer.key };
  const trusted = [{ certChain: [tsa.signer.certificate, tsa.root.certificate], validFor: { start: new Date(0), end: undefined } }];
  // rotated.root has the same subject and key as tsa.root, so the rotated leaf chains to the trusted root.
  const withCert = createTimestampResponse(request(SIG, { certReq: true }), signer);
  const v = verifyTimestampToken(withCert, SIG, trusted);
  assert.deepEqual(v.signer.der, rotated.signer.certificate.der);
  const withoutCert = createTimestampResponse(request(SIG), signer);
  assert.throws(() => verifyTimestampToken(withoutCert, SIG, trusted), code('TIMESTAMP_AUTHORITY_UNTRUSTED'));
  // An embedded certificate from another root with the same names does not help: its signature fails.
  const foreign = createTsaChain();
  assert.throws(
    () => verifyTimestampToken(createTimestampResponse(request(SIG, { certReq: true }), foreign.signer), SIG, trusted),
    code('CERTIFICATE_SIGNATURE_INVALID'),
  );
  const otherNames = createTsaChain({ organization: 'elsewhere' });
  assert.throws(
    () => verifyTimestampToken(createTimestampResponse(request(SIG, { certReq: true }), otherNames.signer), SIG, trusted),
    code('TIMESTAMP_AUTHORITY_UNTRUSTED'),
  );
});

test('P-384 TSA key with a sha384 imprint and SHA-256 CMS signature verifies (the Sigstore TSA pairing)', () => {
  const tsa384 = createTsaChain({ keyType: 'ecdsa-p384', now: new Date(Date.now() - 3600_000) });
  const resp = createTimestampResponse(
    { hashAlgorithm: 'sha384', hashedMessage: createHash('sha384').update(SIG).digest(), certReq: false, hasExtensions: false },
    tsa384.signer,
  );
  const token = parseSignedTimestamp(resp);
  assert.equal(token.signerInfo.signatureAlgorithm, OID.ecdsaWithSha256);
  verifyTimestampToken(resp, SIG, authorities(tsa384));
  const ts = RFC3161Timestamp.parse(Buffer.from(resp));
  verifyRFC3161Timestamp(ts, SIG, [
    {
      certChain: tsa384.chain.map((c) => SigstoreX509.parse(Buffer.from(c.der))),
      validFor: { start: new Date(0), end: new Date(8.64e15) },
    },
  ]);
});
