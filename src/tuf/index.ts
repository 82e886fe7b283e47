// TUF: the repository Keyless publishes (metadata built and signed with @tufjs/models, an
// online timestamper) and the client that bootstraps trust from it (tuf-js over a cache).
export { TufError, type TufErrorCode } from './errors.js';
export { parseDuration, formatDuration } from './duration.js';
export { tufKey, keyIdOf, type TufSigningKey } from './keys.js';
export {
  DEFAULT_TUF_PERIODS,
  createRepository,
  readRepository,
  readRootBytes,
  publishTargets,
  planOnlineSigning,
  applyOnlinePlan,
  writeNextRoot,
  rootNamesKey,
  targetsMatch,
  isDue,
  serializeMetadata,
  type TufPeriods,
  type TargetContent,
  type RepositoryState,
  type RoleKeys,
  type OnlinePlan,
  type RootChange,
} from './repository.js';
export { Timestamper, type TimestamperOptions } from './timestamper.js';
export {
  TRUSTED_ROOT_TARGET,
  SIGNING_CONFIG_TARGET,
  loadTufTrust,
  cachedMirror,
  readCachedVersions,
  type TufTrust,
  type TufClientOptions,
} from './cache.js';
export { initializeTufCache, refreshTufTrust, parseTufRoot, sha256Hex } from './client.js';
export { syncRepository, type AvailableKeys, type SyncResult } from './maintain.js';
