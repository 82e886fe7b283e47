// Verification-side X.509: certificates, chains, SCTs, RFC 3161 tokens.
// Deliberately free of @peculiar/* imports (they cost ~65 ms to load); the building
// side lives in ./build/index.ts and is never re-exported from here.
export {
  Certificate,
  importSpki,
  certificateFromTbs,
  parseCertificate,
  parseCertificateCached,
  parseCertificatesPem,
  MAX_CERTIFICATE_BYTES,
} from './certificate.js';
export { DistinguishedName, type NameAttribute } from './name.js';
export {
  KEY_USAGE_BITS,
  SIGSTORE_EXTENSION_NAMES,
  decodeSigstoreExtension,
  encodeSigstoreExtension,
  isRawSigstoreExtension,
  type BasicConstraints,
  type Extension,
  type KeyUsage,
  type SubjectAltName,
} from './extensions.js';
export { chainFailureKind, verifyCertificateChain, validateCertificatePath, type ChainOptions, type VerifiedChain } from './chain.js';
export {
  TRUSTED_ROOT_INVALID,
  TrustedLog,
  describePeriod,
  loadTrustMaterial,
  loadTrustedKey,
  periodContains,
  toPeriod,
  trustedLog,
  type KeyDetails,
  type TrustMaterial,
  type TrustedCertificateAuthority,
  type TrustedCtLog,
  type TrustedRootLike,
  type ValidityPeriod,
} from './trust.js';
export {
  parseSct,
  parseSctList,
  serializeSct,
  serializeSctList,
  sctSignedData,
  precertSignedData,
  precertEntryFromCertificate,
  verifySctSignature,
  verifyEmbeddedScts,
  signSct,
  digitallySigned,
  sctToJson,
  sctFromJson,
  parseMerkleTreeLeaf,
  type MerkleTreeLeaf,
  type Sct,
  type CtEntry,
  type VerifiedSct,
} from './sct.js';
export {
  parseTimestampToken,
  parseTimestampResponse,
  parseSignedTimestamp,
  verifyTimestampToken,
  MAX_TIMESTAMP_BYTES,
  type TimestampToken,
  type TimestampResponse,
  type TstInfo,
  type SignerInfo,
  type VerifiedTimestamp,
} from './rfc3161.js';
export { verifyWithAlgorithm, signatureAlgorithmFor } from './signature.js';
export { OID, DIGEST_BY_OID, OID_BY_DIGEST, type DigestName } from './oids.js';
export { der, encodeTlv, parseDer, readNode, DerNode, TAG } from './der.js';
