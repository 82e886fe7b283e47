// Sigstore data formats: bundles, trust material, DSSE, in-toto, Rekor entries.
export * from './bundle.js';
export * from './trusted-root.js';
export * from './signing-config.js';
export * from './dsse.js';
export * from './intoto.js';
export * from './rekor.js';
export * from './rekor-v1/index.js';
export * from './rekor-v2.js';
export {
  HASH_ALGORITHMS,
  PUBLIC_KEY_DETAILS,
  SERVICE_SELECTORS,
  HashAlgorithmValue,
  KeyDetailsValue,
  ServiceSelectorValue,
  hashAlgorithmName,
  publicKeyDetailsName,
  serviceSelectorName,
  nodeHashName,
  type HashAlgorithm,
  type PublicKeyDetails,
  type ServiceSelector,
} from './enums.js';
export {
  readTransparencyLogEntry,
  parseTransparencyLogEntry,
  serializeTransparencyLogEntry,
  writeTransparencyLogEntry,
  type HashOutput,
  type LogId,
  type PublicKey,
  type TimeRange,
  type X509Certificate,
  type X509CertificateChain,
  type TransparencyLogEntry,
  type InclusionProof,
  type DistinguishedName,
} from './common.js';
export { formatTimestamp, parseTimestamp, type ReadOptions } from './protojson.js';
