// The two digest verifiers (native addon, JavaScript fallback) must give the same answer
// for every supported key type, valid or not; Node's crypto.verify over the message is the
// reference both are held to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, verify, constants, type KeyObject } from 'node:crypto';
import { loadPrehashAddon, prehashBackend, verifyDigestSignatureSpki } from '../../src/core/prehash.js';
import { verifyDigestJs } from '../../src/core/prehash-js.js';
import type { HashAlgorithm } from '../../src/core/hash.js';

const ORDERS: Record<string, bigint> = {
  'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  'P-384': 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  'P-521':
    0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};

function intBytes(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const b = Buffer.from(hex, 'hex');
  return b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
}
function derLength(n: number): Buffer {
  return n < 0x80 ? Buffer.from([n]) : Buffer.from([0x81, n]);
}
function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}
function ecdsaDer(r: bigint, s: bigint): Buffer {
  return tlv(0x30, Buffer.concat([tlv(0x02, intBytes(r)), tlv(0x02, intBytes(s))]));
}

interface Case {
  label: string;
  spki: Buffer;
  digest: Buffer;
  signature: Buffer;
  hash: HashAlgorithm;
  expected: boolean;
}

function ecCases(curve: 'P-256' | 'P-384' | 'P-521', hash: HashAlgorithm): Case[] {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const message = Buffer.from(`message for ${curve}`);
  const digest = createHash(hash).update(message).digest();
  const raw = sign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const half = raw.length / 2;
  const r = BigInt('0x' + raw.subarray(0, half).toString('hex'));
  const s = BigInt('0x' + raw.subarray(half).toString('hex'));
  const n = ORDERS[curve]!;
  const good = ecdsaDer(r, s);
  const body = good.subarray(good[1] === 0x81 ? 3 : 2);
  const c = (label: string, signature: Buffer, extra: Partial<Case> = {}): Case => {
    const d = extra.digest ?? digest;
    // The reference: Node hashing the message itself (only when the digest is the message's).
    const expected = extra.expected ?? (d === digest ? verify(hash, message, publicKey, signature) : false);
    return { label: `${curve}/${hash} ${label}`, spki, digest: d, signature, hash, ...extra, expected };
  };
  const cases = [
    c('valid', good),
    c('high-S (n - s) is valid ECDSA', ecdsaDer(r, n - s)),
    c('other digest', good, { digest: createHash(hash).update('other').digest() }),
    c('r + 1', ecdsaDer(r + 1n, s)),
    c('r = 0', ecdsaDer(0n, s)),
    c('s = 0', ecdsaDer(r, 0n)),
    c('r + n', ecdsaDer(r + n, s)),
    c('s = n', ecdsaDer(r, n)),
    c('trailing byte', Buffer.concat([good, Buffer.from([0])])),
    c('truncated', good.subarray(0, good.length - 1)),
    c('empty', Buffer.alloc(0)),
    c('raw r||s instead of DER', raw),
    c('wrong outer tag', Buffer.concat([Buffer.from([0x31]), good.subarray(1)])),
    c('BER indefinite length', Buffer.concat([Buffer.from([0x30, 0x80]), body, Buffer.from([0, 0])])),
    c(
      'non-minimal outer length',
      Buffer.concat([Buffer.from([0x30, 0x81, body.length]), body]).subarray(0, body.length < 0x80 ? undefined : 0),
    ),
    c(
      'extra leading zero in r',
      tlv(0x30, Buffer.concat([tlv(0x02, Buffer.concat([Buffer.from([0]), intBytes(r)])), tlv(0x02, intBytes(s))])),
    ),
    c(
      'negative r (sign bit set, no zero)',
      tlv(0x30, Buffer.concat([tlv(0x02, Buffer.from([0x80, ...intBytes(r).subarray(1)])), tlv(0x02, intBytes(s))])),
    ),
    c('digest one byte short', good, { digest: digest.subarray(1), expected: false }),
  ];
  const offCurve = Buffer.from(spki);
  offCurve[offCurve.length - 1]! ^= 1;
  cases.push({ label: `${curve}/${hash} point off the curve`, spki: offCurve, digest, signature: good, hash, expected: false });
  cases.push({
    label: `${curve}/${hash} SPKI with a trailing byte`,
    spki: Buffer.concat([spki, Buffer.from([0])]),
    digest,
    signature: good,
    hash,
    expected: false,
  });
  if (curve === 'P-256') {
    // The same key with a compressed point: decoded by OpenSSL on both paths.
    const jwk = publicKey.export({ format: 'jwk' });
    const y = Buffer.from(jwk.y!, 'base64url');
    const compressed = Buffer.concat([
      Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
      Buffer.from([2 + (y[y.length - 1]! & 1)]),
      Buffer.from(jwk.x!, 'base64url'),
    ]);
    cases.push({ label: 'P-256 compressed point', spki: compressed, digest, signature: good, hash, expected: true });
  }
  return cases;
}

function rsaCases(bits: number, hash: HashAlgorithm): Case[] {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const message = Buffer.from(`message for RSA-${bits}`);
  const digest = createHash(hash).update(message).digest();
  const good = sign(hash, message, privateKey);
  const flipped = Buffer.from(good);
  flipped[10]! ^= 1;
  const otherHash: HashAlgorithm = hash === 'sha256' ? 'sha384' : 'sha256';
  const c = (label: string, signature: Buffer, expected: boolean, d = digest): Case => ({
    label: `RSA-${bits}/${hash} ${label}`,
    spki,
    digest: d,
    signature,
    hash,
    expected,
  });
  return [
    c('valid', good, true),
    c('other digest', good, false, createHash(hash).update('other').digest()),
    c('bit flipped', flipped, false),
    c('one byte short', good.subarray(1), false),
    c('leading zero byte added', Buffer.concat([Buffer.from([0]), good]), false),
    c('all 0xff (not below the modulus)', Buffer.alloc(good.length, 0xff), false),
    c('signed with another hash (DigestInfo mismatch)', sign(otherHash, message, privateKey), false),
    c('PSS signature', sign(hash, message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING }), false),
    c('empty', Buffer.alloc(0), false),
  ];
}

const CASES: Case[] = [
  ...ecCases('P-256', 'sha256'),
  ...ecCases('P-384', 'sha384'),
  ...ecCases('P-521', 'sha512'),
  ...ecCases('P-256', 'sha512'),
  ...ecCases('P-384', 'sha256'),
  ...rsaCases(2048, 'sha256'),
  ...rsaCases(3072, 'sha384'),
  ...rsaCases(4096, 'sha512'),
];

function otherKeyCases(): Case[] {
  const ed = generateKeyPairSync('ed25519');
  const message = Buffer.from('m');
  return [
    {
      label: 'Ed25519 key (no prehash)',
      spki: ed.publicKey.export({ format: 'der', type: 'spki' }),
      digest: createHash('sha256').update(message).digest(),
      signature: sign(null, message, ed.privateKey),
      hash: 'sha256',
      expected: false,
    },
    {
      label: 'garbage SPKI',
      spki: Buffer.from('not a key'),
      digest: Buffer.alloc(32),
      signature: Buffer.alloc(64),
      hash: 'sha256',
      expected: false,
    },
    { label: 'secp256k1 key', ...secp256k1Case() },
  ];
}
function secp256k1Case(): Omit<Case, 'label'> {
  const k = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }) as { publicKey: KeyObject; privateKey: KeyObject };
  const message = Buffer.from('m');
  return {
    spki: k.publicKey.export({ format: 'der', type: 'spki' }),
    digest: createHash('sha256').update(message).digest(),
    signature: sign('sha256', message, k.privateKey),
    hash: 'sha256',
    expected: false,
  };
}

test('the cases are what the reference (Node crypto.verify over the message) says', () => {
  const valid = CASES.filter((c) => c.expected).map((c) => c.label);
  assert.ok(
    valid.some((l) => l.includes('high-S')),
    'high-S signatures are valid ECDSA',
  );
  assert.ok(CASES.filter((c) => !c.expected).length > CASES.length / 2);
});

test('JavaScript path: every case as the reference says', () => {
  for (const c of [...CASES, ...otherKeyCases()]) assert.equal(verifyDigestJs(c.spki, c.digest, c.signature, c.hash), c.expected, c.label);
});

test('addon path: every case as the reference says, so both paths agree', (t) => {
  const addon = loadPrehashAddon();
  if (!addon) {
    // Only on a machine where npm install found no C++ toolchain; CI builds the addon.
    t.skip('addon not built on this machine (no C++ toolchain at install)');
    return;
  }
  for (const c of [...CASES, ...otherKeyCases()]) {
    assert.equal(addon(c.spki, c.digest, c.signature, c.hash), c.expected, c.label);
    assert.equal(addon(c.spki, c.digest, c.signature, c.hash), verifyDigestJs(c.spki, c.digest, c.signature, c.hash), c.label);
  }
});

test('KEYLESS_PREHASH selects the path in use', () => {
  assert.equal(prehashBackend(), process.env.KEYLESS_PREHASH === 'js' || !loadPrehashAddon() ? 'js' : 'addon');
  const c = CASES[0]!;
  assert.equal(verifyDigestSignatureSpki(c.spki, c.digest, c.signature, c.hash), true);
});

test('addon path: keys remembered by their SPKI bytes give the answers a fresh decode gives', (t) => {
  const addon = loadPrehashAddon();
  if (!addon) {
    t.skip('addon not built on this machine (no C++ toolchain at install)');
    return;
  }
  // More keys than the addon remembers, each used several times, interleaved: hits, misses and evictions.
  const keys = Array.from({ length: 12 }, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const spkis = keys.map((k) => k.publicKey.export({ format: 'der', type: 'spki' }));
  for (let round = 0; round < 3; round++) {
    for (const [i, k] of keys.entries()) {
      const message = Buffer.from(`round ${round} key ${i}`);
      const digest = createHash('sha256').update(message).digest();
      const signature = sign('sha256', message, k.privateKey);
      assert.equal(addon(spkis[i]!, digest, signature, 'sha256'), true);
      // Another key's signature, a wrong hash name, a changed digest: refused, remembered key or not.
      assert.equal(addon(spkis[(i + 1) % keys.length]!, digest, signature, 'sha256'), false);
      assert.equal(addon(spkis[i]!, digest, signature, 'sha384'), false);
      assert.equal(addon(spkis[i]!, Buffer.from(digest).fill(1, 0, 1), signature, 'sha256'), false);
      // The caller's buffer changed after the key was remembered: the new bytes are decoded (an off-curve point fails).
      const mutable = Buffer.from(spkis[i]!);
      assert.equal(addon(mutable, digest, signature, 'sha256'), true);
      mutable[mutable.length - 1]! ^= 1;
      assert.equal(addon(mutable, digest, signature, 'sha256'), false);
    }
  }
});
