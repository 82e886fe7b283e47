// The OCI registry client: references (Docker Hub naming), auth (anonymous, Basic, Bearer;
// docker config.json and credential helpers), manifests, blobs, referrers with the
// tag-schema fallback.
export {
  RegistryClient,
  DEFAULT_MAX_MANIFEST_BYTES,
  DEFAULT_MAX_BLOB_BYTES,
  type RegistryClientOptions,
  type Descriptor,
  type Manifest,
  type FallbackIndexRead,
} from './client.js';
export {
  parseReference,
  formatReference,
  manifestReference,
  fallbackTag,
  isLoopbackRegistry,
  DOCKER_HUB,
  DIGEST,
  type ImageReference,
  type Repository,
} from './reference.js';
export { dockerConfigCredentials, chainCredentials, runCredentialHelper, type Credentials, type CredentialSource } from './credentials.js';
export { parseChallenge } from './auth.js';
export { RegistryError } from './errors.js';
export * from './media-types.js';
