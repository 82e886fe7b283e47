// Signature algorithm identifiers → Node crypto verification.
import { verify as nodeVerify, type KeyObject } from 'node:crypto';
import { VerificationError } from '../core/errors.js';
import { OID, type DigestName } from './oids.js';

interface SignatureScheme {
  hash: DigestName | null;
  keyType: 'ec' | 'rsa' | 'ed25519';
}

const SCHEMES: Readonly<Record<string, SignatureScheme>> = {
  [OID.ecdsaWithSha256]: { hash: 'sha256', keyType: 'ec' },
  [OID.ecdsaWithSha384]: { hash: 'sha384', keyType: 'ec' },
  [OID.ecdsaWithSha512]: { hash: 'sha512', keyType: 'ec' },
  [OID.sha256WithRsa]: { hash: 'sha256', keyType: 'rsa' },
  [OID.sha384WithRsa]: { hash: 'sha384', keyType: 'rsa' },
  [OID.sha512WithRsa]: { hash: 'sha512', keyType: 'rsa' },
  [OID.ed25519]: { hash: null, keyType: 'ed25519' },
};

export function signatureScheme(algorithmOid: string): SignatureScheme {
  const s = SCHEMES[algorithmOid];
  if (!s) {
    throw new VerificationError('SIGNATURE_ALGORITHM_UNSUPPORTED', `unsupported signature algorithm ${algorithmOid}`, {
      check: 'signature-algorithm',
      actual: algorithmOid,
    });
  }
  return s;
}

/**
 * Verifies `signature` over `data` with the algorithm named by an X.509/CMS
 * AlgorithmIdentifier OID. The hash comes from the OID, never from the key's curve
 * (the Sigstore TSA signs with a P-384 key and SHA-256). False on any mismatch.
 */
export function verifyWithAlgorithm(algorithmOid: string, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const scheme = signatureScheme(algorithmOid);
  if (key.asymmetricKeyType !== scheme.keyType) return false;
  try {
    return nodeVerify(scheme.hash, data, key, signature);
  } catch {
    return false;
  }
}

/** verifyWithAlgorithm in libuv's thread pool (Node's callback form of crypto.verify). */
export function verifyWithAlgorithmAsync(algorithmOid: string, key: KeyObject, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const scheme = signatureScheme(algorithmOid);
  if (key.asymmetricKeyType !== scheme.keyType) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      nodeVerify(scheme.hash, data, key, signature, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}

/** The certificate/CMS signature algorithm OID for a signing key (ECDSA by curve, RSA PKCS#1 v1.5 SHA-256, Ed25519). */
export function signatureAlgorithmFor(key: KeyObject, hash?: DigestName): { oid: string; hash: DigestName | null } {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return { oid: OID.ed25519, hash: null };
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const h = hash ?? (curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256');
    return { oid: h === 'sha256' ? OID.ecdsaWithSha256 : h === 'sha384' ? OID.ecdsaWithSha384 : OID.ecdsaWithSha512, hash: h };
  }
  if (type === 'rsa') {
    const h = hash ?? 'sha256';
    return { oid: h === 'sha256' ? OID.sha256WithRsa : h === 'sha384' ? OID.sha384WithRsa : OID.sha512WithRsa, hash: h };
  }
  throw new VerificationError('KEY_UNSUPPORTED', `cannot sign with a ${type ?? 'unknown'} key`, { check: 'key-type', actual: type });
}
