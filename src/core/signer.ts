import { createPublicKey, KeyObject, sign as nodeSign } from 'node:crypto';
import { describeKey, type KeyAlgorithm } from './keys.js';
import type { HashAlgorithm } from './hash.js';

/**
 * What a service signs with: the key's algorithm, its public key, and a sign operation.
 * Services never see private keys, so a key store backed by an HSM (PKCS#11 `C_Sign`, a
 * synchronous call) can stand behind the same interface. Signing stays synchronous so
 * certificate, SCT and checkpoint encoders keep their straight-line form (no extra
 * turn of the event loop on the append path).
 */
export interface Signer {
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: KeyObject;
  /**
   * Signs `data`: ECDSA as DER, Ed25519 pure, RSA PKCS#1 v1.5. `hash` defaults to the
   * key's own (P-256 SHA-256, P-384 SHA-384, RSA SHA-256) and is ignored for Ed25519.
   */
  sign(data: Uint8Array, hash?: HashAlgorithm): Buffer;
}

/** A private key given where a Signer is expected (tests, library callers with software keys). */
export type SigningKey = Signer | KeyObject;

const wrapped = new WeakMap<KeyObject, Signer>();

/** A Signer over an in-process private key: what the file key store hands to services. */
export function softwareSigner(privateKey: KeyObject): Signer {
  let signer = wrapped.get(privateKey);
  if (signer) return signer;
  const publicKey = createPublicKey(privateKey);
  const info = describeKey(publicKey, 'signingKey');
  const ed25519 = info.algorithm === 'ed25519';
  const defaultHash = info.defaultHash ?? 'sha256';
  signer = {
    algorithm: info.algorithm,
    publicKey,
    sign: (data, hash) => nodeSign(ed25519 ? null : (hash ?? defaultHash), data, privateKey),
  };
  wrapped.set(privateKey, signer);
  return signer;
}

export function asSigner(key: SigningKey): Signer {
  return key instanceof KeyObject ? softwareSigner(key) : key;
}

/** ECDSA DER `SEQUENCE { r, s }` to the fixed-width `r ‖ s` JWS uses (RFC 7518 §3.4). */
export function ecdsaDerToRaw(signature: Uint8Array, size: number): Buffer {
  const der = Buffer.from(signature);
  let pos = 2;
  if (der[0] !== 0x30) throw new RangeError('not a DER ECDSA signature');
  if (der[1]! & 0x80) pos += der[1]! & 0x7f;
  const out = Buffer.alloc(2 * size);
  for (let i = 0; i < 2; i++) {
    if (der[pos] !== 0x02) throw new RangeError('not a DER ECDSA signature');
    const len = der[pos + 1]!;
    let value = der.subarray(pos + 2, pos + 2 + len);
    while (value.length > size && value[0] === 0) value = value.subarray(1);
    if (value.length > size) throw new RangeError('ECDSA integer larger than the curve');
    value.copy(out, i * size + size - value.length);
    pos += 2 + len;
  }
  return out;
}
