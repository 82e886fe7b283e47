// The protobuf-specs enums as name → number tables. The numbers are the proto values,
// so the results type-check as the @sigstore/protobuf-specs enums without loading
// that package at run time.
import type { HashAlgorithm, PublicKeyDetails, ServiceSelector } from '@sigstore/protobuf-specs';

export type { HashAlgorithm, PublicKeyDetails, ServiceSelector };

export const HASH_ALGORITHMS: Readonly<Record<string, HashAlgorithm>> = {
  HASH_ALGORITHM_UNSPECIFIED: 0,
  SHA2_256: 1,
  SHA2_384: 2,
  SHA2_512: 3,
  SHA3_256: 4,
  SHA3_384: 5,
};

export const PUBLIC_KEY_DETAILS: Readonly<Record<string, PublicKeyDetails>> = {
  PUBLIC_KEY_DETAILS_UNSPECIFIED: 0,
  PKCS1_RSA_PKCS1V5: 1,
  PKCS1_RSA_PSS: 2,
  PKIX_RSA_PKCS1V5: 3,
  PKIX_RSA_PSS: 4,
  PKIX_RSA_PKCS1V15_2048_SHA256: 9,
  PKIX_RSA_PKCS1V15_3072_SHA256: 10,
  PKIX_RSA_PKCS1V15_4096_SHA256: 11,
  PKIX_RSA_PSS_2048_SHA256: 16,
  PKIX_RSA_PSS_3072_SHA256: 17,
  PKIX_RSA_PSS_4096_SHA256: 18,
  PKIX_ECDSA_P256_HMAC_SHA_256: 6,
  PKIX_ECDSA_P256_SHA_256: 5,
  PKIX_ECDSA_P384_SHA_384: 12,
  PKIX_ECDSA_P521_SHA_512: 13,
  PKIX_ED25519: 7,
  PKIX_ED25519_PH: 8,
  PKIX_ECDSA_P384_SHA_256: 19,
  PKIX_ECDSA_P521_SHA_256: 20,
  LMS_SHA256: 14,
  LMOTS_SHA256: 15,
  ML_DSA_44: 23,
  ML_DSA_65: 21,
  ML_DSA_87: 22,
};

export const SERVICE_SELECTORS: Readonly<Record<string, ServiceSelector>> = {
  SERVICE_SELECTOR_UNDEFINED: 0,
  ALL: 1,
  ANY: 2,
  EXACT: 3,
};

/** Value → name per table, built once (these run for every logged entry). */
const namesByValue = new WeakMap<object, Map<number, string>>();

function nameOf(table: Readonly<Record<string, number>>, value: number, what: string): string {
  let names = namesByValue.get(table);
  if (!names) {
    names = new Map();
    // The first name wins for a value listed twice, as the linear search did.
    for (const [k, v] of Object.entries(table)) if (!names.has(v)) names.set(v, k);
    namesByValue.set(table, names);
  }
  const name = names.get(value);
  if (name === undefined) throw new RangeError(`unknown ${what} value ${value}`);
  return name;
}

export function hashAlgorithmName(v: HashAlgorithm): string {
  return nameOf(HASH_ALGORITHMS, v, 'HashAlgorithm');
}
export function publicKeyDetailsName(v: PublicKeyDetails): string {
  return nameOf(PUBLIC_KEY_DETAILS, v, 'PublicKeyDetails');
}
export function serviceSelectorName(v: ServiceSelector): string {
  return nameOf(SERVICE_SELECTORS, v, 'ServiceSelector');
}

/** Named constants for code that builds messages (the enum objects without the package). */
export const HashAlgorithmValue = {
  SHA2_256: 1 as HashAlgorithm,
  SHA2_384: 2 as HashAlgorithm,
  SHA2_512: 3 as HashAlgorithm,
} as const;

export const KeyDetailsValue = {
  PKIX_ECDSA_P256_SHA_256: 5 as PublicKeyDetails,
  PKIX_ECDSA_P384_SHA_384: 12 as PublicKeyDetails,
  PKIX_ECDSA_P521_SHA_512: 13 as PublicKeyDetails,
  PKIX_ED25519: 7 as PublicKeyDetails,
  PKIX_ED25519_PH: 8 as PublicKeyDetails,
  PKIX_RSA_PKCS1V15_2048_SHA256: 9 as PublicKeyDetails,
  PKIX_RSA_PKCS1V15_3072_SHA256: 10 as PublicKeyDetails,
  PKIX_RSA_PKCS1V15_4096_SHA256: 11 as PublicKeyDetails,
  PKCS1_RSA_PKCS1V5: 1 as PublicKeyDetails,
} as const;

export const ServiceSelectorValue = {
  ALL: 1 as ServiceSelector,
  ANY: 2 as ServiceSelector,
  EXACT: 3 as ServiceSelector,
} as const;

/** The Node hash name for a HashAlgorithm (SHA-2 only; SHA-3 is not used by Sigstore clients). */
export function nodeHashName(v: HashAlgorithm): 'sha256' | 'sha384' | 'sha512' | undefined {
  return v === 1 ? 'sha256' : v === 2 ? 'sha384' : v === 3 ? 'sha512' : undefined;
}
