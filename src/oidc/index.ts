// Identity tokens: decoding, issuer configuration, token verification (jose) and the
// identity a Fulcio certificate carries for them.
export * from './types.js';
export { TokenError, type TokenErrorCode } from './errors.js';
export { decodeToken, decodeTokenUnverified, MAX_TOKEN_LENGTH, type DecodedToken } from './decode.js';
export { identityFromClaims, GITHUB_REQUIRED_CLAIMS, GITLAB_REQUIRED_CLAIMS } from './identity.js';
export { findIssuerConfig, audienceOf, issuerConfigurationJson, DEFAULT_AUDIENCE } from './issuers.js';
export {
  SIGSTORE_EXTENSION_OIDS,
  SIGSTORE_OID_PREFIX,
  OID_OTHERNAME_USERNAME,
  renderSigstoreExtensions,
  derUtf8String,
} from './extensions.js';
export {
  TokenVerifier,
  verifyIdentityToken,
  checkClaims,
  ALLOWED_ALGORITHMS,
  DEFAULT_LEEWAY_SECONDS,
  type TokenVerifierOptions,
  type VerifyOptions,
  type VerifiedToken,
} from './verify.js';
export { inferIssuerConfig } from './infer.js';
