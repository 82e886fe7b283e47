export { idpService, type IdpServiceOptions } from './plugin.js';
export { devIdpIssuerConfigs, GITHUB_ISSUER_SUFFIX } from './discovery.js';
export {
  devSigner,
  signIdToken,
  devTokenClaims,
  githubClaims,
  DEFAULT_TOKEN_TTL_SECONDS,
  MAX_TOKEN_TTL_SECONDS,
  DEV_AUDIENCE,
  type DevIdentity,
  type DevSigner,
} from './tokens.js';
export { requestDevToken, devIssuerUrl, type DevTokenRequest } from './client.js';
