// The signing client: identity tokens, service selection, ephemeral keys, Fulcio / Rekor v1 /
// Rekor v2 / TSA clients, bundle building, and signing as functions (signBlobs, signStatement)
// that take data and hand bundles to a sink: files, the process and the terminal are the CLI's.
export {
  KeylessSigner,
  CERTIFICATE_REUSE_MARGIN_MS,
  witness,
  type SignerOptions,
  type SignResult,
  type WitnessServices,
} from './signer.js';
export { KeyPairSigner, type KeySignResult } from './key-signer.js';
export { generateEncryptedKeyPair, encryptPkcs8, loadSigningKey, keyFileFormat, KEY_FILE_SCRYPT } from './key-file.js';
export {
  selectServices,
  selectWitnesses,
  eligible,
  SUPPORTED_API_VERSIONS,
  type SigningConfigLike,
  type SelectedServices,
  type SelectedService,
  type ServiceEntry,
} from './services.js';
export { checkToken, decodeToken, SIGSTORE_AUDIENCE, type CheckedToken, type TokenCheckOptions } from './token.js';
export {
  obtainIdentityToken,
  githubActionsToken,
  TOKEN_SOURCES,
  TOKEN_ENV,
  type TokenSource,
  type TokenSourceOptions,
} from './token-sources.js';
export { browserLogin, deviceLogin, discover, type InteractiveOptions, type DeviceOptions } from './oauth.js';
export { EphemeralKey, SigningKey } from './ephemeral-key.js';
export { requestSigningCertificate, type SigningCertificate } from './fulcio.js';
export {
  submitRekorV1,
  submitRekorV2,
  rekorV1ProposedEntry,
  rekorV2Request,
  type TlogEntryJson,
  type LogContent,
  type LogVerifier,
} from './rekor.js';
export { requestTimestamp } from './tsa.js';
export { buildBundle, type BundleParts, type SignedContent } from './bundle-builder.js';
export { buildStatement, resolvePredicateType } from './statement.js';
export { callService, DEFAULT_CALL_POLICY, type CallPolicy } from './http.js';
export { ServiceError, IdentityError, SignError } from './errors.js';
export { PUBLIC_GOOD_SIGNING_CONFIG, withOverrides, type ServiceOverrides } from './config.js';
export {
  signBlobs,
  signStatement,
  POOL_THRESHOLD,
  BATCH_CONCURRENCY,
  type BlobSource,
  type BundleSink,
  type SigningOptions,
  type SignBlobsOptions,
  type KeySigningOptions,
  type KeySignBlobsOptions,
  type BatchOptions,
} from './sign-blobs.js';
export { createSelfVerifier, type SelfVerifier } from './self-verify.js';
export { inspectToken, type InspectOptions, type TokenReport } from './inspect.js';
