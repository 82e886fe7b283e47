import { createPublicKey, createPrivateKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { FormatError, KeylessError } from './errors.js';
import { pemDecodeAll } from './encoding.js';
import type { HashAlgorithm } from './hash.js';

/** The key types Sigstore services accept (Rekor's list); anything else is refused. */
export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'ed25519' | 'rsa';

export interface PublicKeyInfo {
  key: KeyObject;
  algorithm: KeyAlgorithm;
  /** The hash Sigstore pairs with this key when signing a message (none for Ed25519). */
  defaultHash: HashAlgorithm | undefined;
}

const CURVES: Record<string, { algorithm: KeyAlgorithm; hash: HashAlgorithm }> = {
  prime256v1: { algorithm: 'ecdsa-p256', hash: 'sha256' },
  secp384r1: { algorithm: 'ecdsa-p384', hash: 'sha384' },
  secp521r1: { algorithm: 'ecdsa-p521', hash: 'sha512' },
};

export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 4096;

/** Classifies a key and refuses weak or unsupported ones (RSA < 2048, secp256k1, DSA, ...). */
export function describeKey(key: KeyObject, field = 'publicKey'): PublicKeyInfo {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    const c = CURVES[curve];
    if (!c)
      throw new KeylessError('KEY_UNSUPPORTED', `${field}: unsupported elliptic curve ${curve || 'unknown'}`, {
        check: 'key-type',
        actual: curve,
      });
    return { key, algorithm: c.algorithm, defaultHash: c.hash };
  }
  if (type === 'ed25519') return { key, algorithm: 'ed25519', defaultHash: undefined };
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      throw new KeylessError('KEY_UNSUPPORTED', `${field}: RSA key of ${bits} bits is outside ${MIN_RSA_BITS}-${MAX_RSA_BITS}`, {
        check: 'key-type',
        actual: bits,
      });
    }
    return { key, algorithm: 'rsa', defaultHash: 'sha256' };
  }
  throw new KeylessError('KEY_UNSUPPORTED', `${field}: unsupported key type ${type ?? 'unknown'}`, { check: 'key-type', actual: type });
}

/** A public key from PEM (PUBLIC KEY) or DER SubjectPublicKeyInfo bytes. */
export function parsePublicKey(input: string | Uint8Array, field = 'publicKey'): PublicKeyInfo {
  let key: KeyObject;
  try {
    if (typeof input === 'string') {
      const block = pemDecodeAll(input, field).find((b) => b.label === 'PUBLIC KEY');
      if (!block) throw new FormatError(field, 'no PEM PUBLIC KEY block found');
      key = createPublicKey({ key: block.der, format: 'der', type: 'spki' });
    } else {
      key = createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
    }
  } catch (e) {
    if (e instanceof KeylessError) throw e;
    throw new FormatError(field, `is not a valid public key (${(e as Error).message})`);
  }
  return describeKey(key, field);
}

export function publicKeyDer(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' });
}

export function parsePrivateKeyPem(pem: string, field = 'privateKey'): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (e) {
    throw new FormatError(field, `is not a valid private key (${(e as Error).message})`);
  }
}

/**
 * Verifies a signature over a message. ECDSA signatures are DER (as in X.509 and Sigstore);
 * Ed25519 signs the message itself; RSA is PKCS#1 v1.5 unless `pss` is set.
 * Returns false for a wrong or malformed signature; never throws on bad signature bytes.
 */
export function verifySignature(key: PublicKeyInfo | KeyObject, message: Uint8Array, signature: Uint8Array, hash?: HashAlgorithm): boolean {
  const info = 'algorithm' in key ? key : describeKey(key);
  try {
    if (info.algorithm === 'ed25519') return nodeVerify(null, message, info.key, signature);
    return nodeVerify(hash ?? info.defaultHash ?? 'sha256', message, info.key, signature);
  } catch {
    return false;
  }
}

/** Signs a message: DER ECDSA, Ed25519, or RSA PKCS#1 v1.5. */
export function signMessage(key: KeyObject, message: Uint8Array, hash: HashAlgorithm | null = 'sha256'): Buffer {
  return nodeSign(key.asymmetricKeyType === 'ed25519' ? null : hash, message, key);
}
