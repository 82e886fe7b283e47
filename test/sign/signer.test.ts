import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { bundleFromJSON, assertBundleLatest } from '@sigstore/bundle';
import { base64Decode, base64Encode } from '../../src/core/encoding.js';
import { sha256 } from '../../src/core/hash.js';
import { parseBundle, preAuthEncoding, parseRekorEntryBody } from '../../src/formats/index.js';
import { parseCertificate, parseTimestampResponse } from '../../src/x509/index.js';
import { KeylessSigner } from '../../src/sign/signer.js';
import { selectServices } from '../../src/sign/services.js';
import { startFixtureStack, type FixtureStack } from './stack-fixture.js';

let stack: FixtureStack;
before(async () => {
  stack = await startFixtureStack();
});
after(async () => {
  await stack.close();
});

function signer(logVersion: 1 | 2, token?: Promise<string>): KeylessSigner {
  const services = selectServices(stack.signingConfig(logVersion) as never);
  return new KeylessSigner({ services, getToken: () => token ?? stack.token() });
}

type Json = Record<string, any>;

test('Rekor v1: a message bundle with the leaf only, the entry mapped field by field, a timestamp over the signature', async () => {
  const s = signer(1);
  const artifact = Buffer.from('hello keyless\n');
  const { bundle, certificate } = await s.signMessage(artifact);
  s.dispose();
  const b = bundle as Json;
  assert.equal(b.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  // The leaf and nothing else: never the intermediate or the root.
  const leaf = parseCertificate(base64Decode(b.verificationMaterial.certificate.rawBytes, 'cert'));
  assert.equal(leaf.isCA, false);
  assert.ok(leaf.der.equals(certificate.leafDer));
  assert.equal(b.verificationMaterial.x509CertificateChain, undefined);
  assert.equal(leaf.sigstoreIdentity, 'alice@example.com');

  assert.equal(b.messageSignature.messageDigest.algorithm, 'SHA2_256');
  assert.equal(b.messageSignature.messageDigest.digest, base64Encode(sha256(artifact)));

  const [tle] = b.verificationMaterial.tlogEntries as Json[];
  assert.equal(tle!.logId.keyId, base64Encode(Buffer.from('ab'.repeat(32), 'hex')));
  assert.equal(typeof tle!.logIndex, 'string');
  assert.equal(tle!.integratedTime, '1700000000');
  assert.deepEqual(tle!.kindVersion, { kind: 'hashedrekord', version: '0.0.1' });
  assert.equal(tle!.inclusionProof.rootHash, base64Encode(Buffer.from('ef'.repeat(32), 'hex')));
  assert.deepEqual(tle!.inclusionProof.hashes, [base64Encode(Buffer.from('cd'.repeat(32), 'hex'))]);
  assert.equal(tle!.inclusionPromise.signedEntryTimestamp, base64Encode(Buffer.from('set')));
  const body = parseRekorEntryBody(base64Decode(tle!.canonicalizedBody, 'body'));
  assert.equal(body.kind, 'hashedrekord');

  const ts = parseTimestampResponse(
    base64Decode(b.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp, 'ts'),
  );
  assert.ok(ts.token!.tstInfo.hashedMessage.equals(sha256(base64Decode(b.messageSignature.signature, 'sig'))));
  assert.ok(ts.token!.tstInfo.nonce, 'the request carried a nonce and the TSA echoed it');

  // Both our parser and sigstore-js's accept it as a v0.3 bundle.
  parseBundle(bundle);
  assertBundleLatest(bundleFromJSON(bundle));
});

test('Rekor v2: the request is hashedrekord 0.0.2 with the leaf certificate and default keyDetails', async () => {
  const s = signer(2);
  const artifact = Buffer.from('v2 artifact');
  const { bundle } = await s.signMessage(artifact);
  s.dispose();
  const req = JSON.parse(stack.rekorV2.requests.at(-1)!.body.toString()) as Json;
  const h = req.hashedRekordRequestV002;
  assert.equal(h.digest, base64Encode(sha256(artifact)));
  assert.equal(h.signature.verifier.keyDetails, 'PKIX_ECDSA_P256_SHA_256');
  assert.equal(h.signature.verifier.x509Certificate.rawBytes, (bundle as Json).verificationMaterial.certificate.rawBytes);
  assert.equal(h.signature.content, (bundle as Json).messageSignature.signature);
  const tle = (bundle as Json).verificationMaterial.tlogEntries[0];
  assert.deepEqual(tle.kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
  assert.equal(tle.inclusionPromise, undefined);
  parseBundle(bundle);
  assertBundleLatest(bundleFromJSON(bundle));
});

test('DSSE to Rekor v2 is a hashedrekord over SHA-256 of the PAE; to Rekor v1 a dsse 0.0.1 entry', async () => {
  const payload = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'a', digest: { sha256: '00'.repeat(32) } }],
      predicateType: 'https://example/p',
      predicate: {},
    }),
  );
  const s2 = signer(2);
  const r2 = await s2.signDsse(payload, 'application/vnd.in-toto+json');
  s2.dispose();
  const req = JSON.parse(stack.rekorV2.requests.at(-1)!.body.toString()) as Json;
  assert.equal(req.hashedRekordRequestV002.digest, base64Encode(sha256(preAuthEncoding('application/vnd.in-toto+json', payload))));
  const env = (r2.bundle as Json).dsseEnvelope;
  assert.equal(env.payload, base64Encode(payload));
  assert.equal(req.hashedRekordRequestV002.signature.content, env.signatures[0].sig);
  assert.equal(env.signatures[0].keyid, undefined);

  const s1 = signer(1);
  const r1 = await s1.signDsse(payload, 'application/vnd.in-toto+json');
  s1.dispose();
  assert.deepEqual((r1.bundle as Json).verificationMaterial.tlogEntries[0].kindVersion, { kind: 'dsse', version: '0.0.1' });
  parseBundle(r1.bundle);
  parseBundle(r2.bundle);
});

test('one certificate serves many signatures; concurrent first calls ask the CA once', async () => {
  const before = stack.fulcio.requests.length;
  const s = signer(1);
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.signMessage(Buffer.from(`file ${i}`))));
  s.dispose();
  assert.equal(stack.fulcio.requests.length - before, 1);
  const certs = new Set(results.map((r) => (r.bundle as Json).verificationMaterial.certificate.rawBytes));
  assert.equal(certs.size, 1);
});

test('after dispose the key is gone', async () => {
  const s = signer(1);
  await s.signMessage(Buffer.from('x'));
  s.dispose();
  assert.equal(s.certificate, undefined);
});

test('an expired token is refused before the CA is asked', async () => {
  const before = stack.fulcio.requests.length;
  const s = signer(1, stack.token({ exp: Math.floor(Date.now() / 1000) - 60 }));
  await assert.rejects(s.signMessage(Buffer.from('x')), { code: 'TOKEN_EXPIRED' });
  assert.equal(stack.fulcio.requests.length, before);
});

test('a streamed file gets the same kind of bundle: its SHA-256 and a signature over its bytes', async () => {
  const { mkdtempSync, writeFileSync, createReadStream } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { verify: nodeVerify } = await import('node:crypto');
  const path = join(mkdtempSync(join(tmpdir(), 'keyless-stream-')), 'big.bin');
  const content = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a);
  writeFileSync(path, content);
  const s = signer(1);
  const r = await s.signStream(createReadStream(path, { highWaterMark: 1 << 20 }));
  s.dispose();
  assert.ok(r.digest.equals(sha256(content)));
  const b = r.bundle as Json;
  assert.equal(b.messageSignature.messageDigest.digest, base64Encode(sha256(content)));
  const leaf = parseCertificate(base64Decode(b.verificationMaterial.certificate.rawBytes, 'cert'));
  assert.ok(nodeVerify('sha256', content, leaf.publicKey, base64Decode(b.messageSignature.signature, 'sig')));
});
