// DSSE / in-toto details the conformance snapshot does not cover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { verifySync } from '../../src/verify/index.js';
import { CONFORMANCE } from './helpers.js';
import { dsseBundle, pem, statement, synthTrustedRoot } from './synth.js';

const artifact = readFileSync(`${CONFORMANCE}/a.txt`);
const hex = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });

function code(bundle: unknown, art: Buffer | string, key: string): string {
  try {
    verifySync(bundle as object, art, { publicKey: key }, synthTrustedRoot);
    return 'OK';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

test('baseline: a sha256 subject matches the artifact and its digest', () => {
  const b = dsseBundle({ signer: p256, payload: statement({ sha256: hex('sha256', artifact) }) });
  assert.equal(code(b, artifact, pem(p256.publicKey)), 'OK');
  assert.equal(code(b, `sha256:${hex('sha256', artifact)}`, pem(p256.publicKey)), 'OK');
});

test("a statement whose only subject digest is sha512 matches the artifact bytes (sigstore-go hashes with the statement's algorithms)", () => {
  const b = dsseBundle({ signer: p256, payload: statement({ sha512: hex('sha512', artifact) }) });
  assert.equal(code(b, artifact, pem(p256.publicKey)), 'OK');
  // Only a sha256 digest was given: nothing to compare with.
  assert.equal(code(b, `sha256:${hex('sha256', artifact)}`, pem(p256.publicKey)), 'SUBJECT_MISMATCH');
  // A wrong sha512 never matches.
  const wrong = dsseBundle({ signer: p256, payload: statement({ sha512: hex('sha512', Buffer.from('other')) }) });
  assert.equal(code(wrong, artifact, pem(p256.publicKey)), 'SUBJECT_MISMATCH');
});

test("a P-384 key that signed the PAE with SHA-256 (old clients) verifies, as sigstore-go's compat verifier allows; a bad signature still fails", () => {
  const b = dsseBundle({ signer: p384, payload: statement({ sha256: hex('sha256', artifact) }), hash: 'sha256' });
  assert.equal(code(b, artifact, pem(p384.publicKey)), 'OK');
  const ok384 = dsseBundle({ signer: p384, payload: statement({ sha256: hex('sha256', artifact) }), hash: 'sha384' });
  assert.equal(code(ok384, artifact, pem(p384.publicKey)), 'OK');
  const p256sha384 = dsseBundle({ signer: p256, payload: statement({ sha256: hex('sha256', artifact) }), hash: 'sha384' });
  assert.equal(code(p256sha384, artifact, pem(p256.publicKey)), 'SIGNATURE_INVALID');
});

test('statements with a missing or unknown _type are rejected (upstream PR 405 cases)', () => {
  for (const type of ['https://in-toto.io/Statement/v2', '']) {
    const payload = JSON.parse(statement({ sha256: hex('sha256', artifact) }).toString());
    if (type) payload._type = type;
    else delete payload._type;
    const b = dsseBundle({ signer: p256, payload: Buffer.from(JSON.stringify(payload)) });
    assert.equal(code(b, artifact, pem(p256.publicKey)), 'SUBJECT_MISMATCH', type || 'missing');
  }
});

test('the library takes a sha512 (or sha384) digest: npm provenance subjects carry only sha512', () => {
  const b = dsseBundle({ signer: p256, payload: statement({ sha512: hex('sha512', artifact) }) });
  assert.equal(code(b, `sha512:${hex('sha512', artifact)}`, pem(p256.publicKey)), 'OK');
  assert.equal(code(b, `sha512:${hex('sha512', Buffer.from('x'))}`, pem(p256.publicKey)), 'SUBJECT_MISMATCH');
  assert.equal(code(b, `sha384:${hex('sha384', artifact)}`, pem(p256.publicKey)), 'SUBJECT_MISMATCH');
  // Wrong lengths are refused as input errors.
  assert.equal(code(b, `sha512:${hex('sha256', artifact)}`, pem(p256.publicKey)), 'ARTIFACT_INVALID');
  // A plain (non in-toto) payload compared by the given digest.
  const plain = dsseBundle({ signer: p256, payload: artifact, payloadType: 'text/plain' });
  assert.equal(code(plain, `sha512:${hex('sha512', artifact)}`, pem(p256.publicKey)), 'OK');
  assert.equal(code(plain, artifact, pem(p256.publicKey)), 'OK');
  assert.equal(code(plain, Buffer.from('other'), pem(p256.publicKey)), 'SUBJECT_MISMATCH');
});
