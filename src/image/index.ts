// Container images: sign, attest, verify and list what is attached, in an OCI registry,
// in cosign's bundle-referrer layout and its legacy `.sig`/`.att` tags.
export {
  resolveTargets,
  signImages,
  checkLegacyServices,
  IMAGE_CONCURRENCY,
  type ImageTarget,
  type ImageSignOptions,
  type ImageSignature,
} from './sign.js';
export { mapLimit } from './map-limit.js';
export { verifyImage, verificationFailure, type ImageVerifyOptions, type ImageVerification, type VerifiedSignature } from './verify.js';
export { collectCandidates, MAX_BUNDLE_BYTES, type Candidate, type Collected } from './collect.js';
export { imageTree, type TreeEntry } from './tree.js';
export {
  COSIGN_SIGN_PREDICATE_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  DSSE_ENVELOPE_MEDIA_TYPE,
  ANNOTATION,
  EMPTY_CONFIG,
  referrerManifest,
  bundleLayerOf,
  simpleSigningPayload,
  legacyTag,
  bundleFromLegacyLayer,
} from './layouts.js';
export { ImageError } from './errors.js';
