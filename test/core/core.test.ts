import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import {
  base64Decode,
  canonicalize,
  describeKey,
  digest,
  FormatError,
  parseJson,
  parsePublicKey,
  pemDecode,
  pemEncode,
  verifyDigestSignature,
  verifySignature,
  bytesEqual,
} from '../../src/core/index.js';

test('base64Decode accepts standard and URL-safe, padded or not, and refuses garbage', () => {
  assert.deepEqual(base64Decode('+/8=', 'f'), Buffer.from([0xfb, 0xff]));
  assert.deepEqual(base64Decode('-_8', 'f'), Buffer.from([0xfb, 0xff]));
  for (const bad of ['a', '!!!!', 'ab=c', 'abc==='] as const) {
    assert.throws(
      () => base64Decode(bad, 'x.y'),
      (e: unknown) => e instanceof FormatError && e.field === 'x.y',
    );
  }
  assert.throws(() => base64Decode(42, 'n'), FormatError);
});

test('canonicalize follows RFC 8785 key order and number forms', () => {
  assert.equal(canonicalize({ b: 1, a: [true, null, 'x'], '\u00e9': 1e21, c: 0.1 }), '{"a":[true,null,"x"],"b":1,"c":0.1,"é":1e+21}');
  // UTF-16 code unit order: U+1D11E (surrogates D834) sorts before U+FB01.
  assert.equal(canonicalize({ '\ufb01': 1, '\u{1d11e}': 2 }), '{"\u{1d11e}":2,"\ufb01":1}');
  assert.throws(() => canonicalize({ n: Number.NaN }), FormatError);
});

test('parseJson refuses deep nesting and names the field', () => {
  assert.deepEqual(parseJson('{"a":[1,{"b":"[[["}]}', 'doc'), { a: [1, { b: '[[[' }] });
  assert.throws(
    () => parseJson('['.repeat(100_000), 'doc'),
    (e: unknown) => e instanceof FormatError && e.field === 'doc',
  );
  assert.throws(() => parseJson('{"a":', 'doc'), FormatError);
});

test('PEM round trip in Go layout', () => {
  const der = Buffer.alloc(100, 7);
  const pem = pemEncode('CERTIFICATE', der);
  assert.match(pem, /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
  assert.deepEqual(pemDecode(pem, 'CERTIFICATE'), der);
  assert.throws(() => pemDecode(pem, 'PUBLIC KEY'), FormatError);
});

test('key allow-list: P-256/384/521, Ed25519, RSA 2048-4096 only', () => {
  const ok = [
    generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    generateKeyPairSync('ed25519'),
    generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ];
  for (const k of ok) assert.ok(describeKey(k.publicKey).algorithm);
  for (const weak of [
    generateKeyPairSync('rsa', { modulusLength: 1024 }),
    generateKeyPairSync('ec', { namedCurve: 'secp256k1' }),
    generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }),
  ]) {
    assert.throws(
      () => describeKey(weak.publicKey),
      (e: unknown) => (e as { code?: string }).code === 'KEY_UNSUPPORTED',
    );
  }
});

test('signatures verify over the message and over a precomputed digest; tampering fails', () => {
  for (const [kp, hash] of [
    [generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'sha256'],
    [generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'sha384'],
    [generateKeyPairSync('rsa', { modulusLength: 2048 }), 'sha256'],
  ] as const) {
    const message = Buffer.from('artifact bytes');
    const sig = sign(hash, message, kp.privateKey);
    const info = parsePublicKey(kp.publicKey.export({ format: 'pem', type: 'spki' }) as string);
    assert.equal(verifySignature(info, message, sig, hash), true);
    assert.equal(verifySignature(info, Buffer.from('other'), sig, hash), false);
    assert.equal(verifyDigestSignature(kp.publicKey, digest(hash, message), sig, hash), true);
    assert.equal(verifyDigestSignature(kp.publicKey, digest(hash, Buffer.from('other')), sig, hash), false);
    const bad = Buffer.from(sig);
    bad[bad.length - 3]! ^= 1;
    assert.equal(verifyDigestSignature(kp.publicKey, digest(hash, message), bad, hash), false);
    assert.equal(verifySignature(info, message, Buffer.from('garbage'), hash), false);
  }
});

test('bytesEqual is false for different lengths and contents', () => {
  assert.equal(bytesEqual(Buffer.from('ab'), Buffer.from('ab')), true);
  assert.equal(bytesEqual(Buffer.from('ab'), Buffer.from('abc')), false);
  assert.equal(bytesEqual(Buffer.from('ab'), Buffer.from('ac')), false);
});

test('prehash verification from SPKI: every named curve, RSA, and a point off the curve', async () => {
  const { verifyDigestSignatureSpki } = await import('../../src/core/index.js');
  const cases = [
    [generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'sha256'],
    [generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'sha384'],
    [generateKeyPairSync('ec', { namedCurve: 'P-521' }), 'sha512'],
    [generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'sha512'],
    [generateKeyPairSync('rsa', { modulusLength: 3072 }), 'sha384'],
  ] as const;
  for (const [kp, hash] of cases) {
    const message = Buffer.from('digest only');
    const sig = sign(hash, message, kp.privateKey);
    const spki = kp.publicKey.export({ format: 'der', type: 'spki' });
    assert.equal(verifyDigestSignatureSpki(spki, digest(hash, message), sig, hash), true);
    assert.equal(verifyDigestSignatureSpki(spki, digest(hash, Buffer.from('x')), sig, hash), false);
    // A digest of the wrong length for the named hash is refused, not truncated.
    assert.equal(verifyDigestSignatureSpki(spki, digest(hash, message).subarray(1), sig, hash), false);
    const offCurve = Buffer.from(spki);
    offCurve[offCurve.length - 1]! ^= 1;
    assert.equal(verifyDigestSignatureSpki(offCurve, digest(hash, message), sig, hash), false);
  }
  assert.equal(verifyDigestSignatureSpki(Buffer.from('not a key'), Buffer.alloc(32), Buffer.alloc(64), 'sha256'), false);
});

test('softwareSigner signs with the key default hash; ecdsaDerToRaw gives what JWS verifiers read', async () => {
  const { generateKeyPairSync, verify } = await import('node:crypto');
  const { softwareSigner, asSigner, ecdsaDerToRaw } = await import('../../src/core/signer.js');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = softwareSigner(privateKey);
  assert.equal(signer.algorithm, 'ecdsa-p256');
  assert.equal(asSigner(privateKey), signer, 'one Signer per key');
  assert.equal(asSigner(signer), signer);
  // Enough signatures that some r or s is shorter than 32 bytes (about 1 in 128 per signature).
  for (let i = 0; i < 600; i++) {
    const data = Buffer.from(`message ${i}`);
    const raw = ecdsaDerToRaw(signer.sign(data), 32);
    assert.equal(raw.length, 64);
    assert.ok(verify('sha256', data, { key: signer.publicKey, dsaEncoding: 'ieee-p1363' }, raw), `signature ${i}`);
  }
  assert.throws(() => ecdsaDerToRaw(Buffer.from([0x31, 0x00]), 32), RangeError);
  const ed = softwareSigner(generateKeyPairSync('ed25519').privateKey);
  assert.equal(ed.algorithm, 'ed25519');
  assert.ok(verify(null, Buffer.from('x'), ed.publicKey, ed.sign(Buffer.from('x'), 'sha512')), 'the hash is ignored for Ed25519');
});
