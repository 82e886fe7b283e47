// Digest verification without the native addon: ECDSA with @noble/curves (audited, pure
// JavaScript, takes a prehashed message) and RSA PKCS#1 v1.5 with Node's raw RSA public
// operation plus a comparison against the one valid encoding. Same answers as the addon
// (test/core/prehash.test.ts checks them side by side), several times slower.
import { constants, createPublicKey, publicDecrypt, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import type { HashAlgorithm } from './hash.js';

type CurveName = 'p256' | 'p384' | 'p521';
interface NobleCurve {
  verify(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array, opts: { prehash: false; lowS: false; format: 'der' }): boolean;
}

export const DIGEST_LENGTH: Record<HashAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };

// SPKI of a named-curve key with an uncompressed point is a fixed prefix then the point.
const EC_SPKI_PREFIXES: readonly [CurveName, Buffer][] = [
  ['p256', Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex')],
  ['p384', Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex')],
  ['p521', Buffer.from('30819b301006072a8648ce3d020106052b8104002303818600', 'hex')],
];
const CURVE_BY_OPENSSL_NAME: Record<string, CurveName> = { prime256v1: 'p256', secp384r1: 'p384', secp521r1: 'p521' };

// DigestInfo (RFC 8017 §9.2) prefixes: the hash OID with NULL parameters, then the digest.
const DIGEST_INFO_PREFIX: Record<HashAlgorithm, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

// Loaded on first use: the addon path never pays for it.
let curves: Record<CurveName, NobleCurve> | undefined;
function curve(name: CurveName): NobleCurve {
  curves ??= createRequire(import.meta.url)('@noble/curves/nist') as Record<CurveName, NobleCurve>;
  return curves[name];
}

function ecPoint(spki: Buffer): { curve: CurveName; point: Uint8Array } | undefined {
  for (const [name, prefix] of EC_SPKI_PREFIXES) {
    if (spki.length > prefix.length && spki.subarray(0, prefix.length).equals(prefix))
      return { curve: name, point: spki.subarray(prefix.length) };
  }
  return undefined;
}

function verifyRsaPkcs1(key: ReturnType<typeof createPublicKey>, digest: Buffer, signature: Buffer, hash: HashAlgorithm): boolean {
  const modulusBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  // As OpenSSL: the signature is exactly as long as the modulus (and below it, or decrypt throws).
  if (modulusBytes === 0 || signature.length !== modulusBytes) return false;
  const encoded = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature);
  const info = Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
  if (modulusBytes < info.length + 11) return false;
  const expected = Buffer.alloc(modulusBytes, 0xff);
  expected[0] = 0x00;
  expected[1] = 0x01;
  expected[modulusBytes - info.length - 1] = 0x00;
  info.copy(expected, modulusBytes - info.length);
  return encoded.length === expected.length && timingSafeEqual(encoded, expected);
}

/** ECDSA (P-256/384/521) or RSA PKCS#1 v1.5 over a digest, from DER SPKI; false for any failure. */
export function verifyDigestJs(spki: Uint8Array, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm): boolean {
  try {
    if (DIGEST_LENGTH[hash] !== digest.byteLength) return false;
    const spkiBuf = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
    const sig = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
    const dgst = Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength);
    let ec = ecPoint(spkiBuf);
    if (!ec) {
      const key = createPublicKey({ key: spkiBuf, format: 'der', type: 'spki' });
      if (key.asymmetricKeyType === 'rsa') return verifyRsaPkcs1(key, dgst, sig, hash);
      const name = key.asymmetricKeyType === 'ec' ? CURVE_BY_OPENSSL_NAME[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
      if (!name) return false;
      // A compressed point or other encoding: let OpenSSL decode it, noble takes it uncompressed.
      const jwk = key.export({ format: 'jwk' });
      ec = { curve: name, point: Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]) };
    }
    // lowS false: ECDSA as specified (and as OpenSSL verifies) accepts both s and n - s.
    return curve(ec.curve).verify(sig, dgst, ec.point, { prehash: false, lowS: false, format: 'der' });
  } catch {
    return false;
  }
}
