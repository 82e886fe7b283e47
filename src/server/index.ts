export * from './config.js';
export * from './keys.js';
export {
  startServer,
  devIdpEnabled,
  DEFAULT_DATA_DIR,
  DEFAULT_HOST,
  DEFAULT_PORT,
  type ServeOptions,
  type RunningServer,
} from './server.js';
export { SERVICE_MODULES, type ComposedServices, type ComposeContext } from './compose.js';
export type { ServiceModule, ModuleSetup, ModuleContext } from './module.js';
export { openLogStorage, type LogStorage } from './storage.js';
export { lockDataDir } from './lock.js';
export { TRUSTED_ROOT_FILE, SIGNING_CONFIG_FILE } from './trust-files.js';
export {
  MAX_TUF_KEYS_PER_ROLE,
  TUF_KEY_NAMES,
  createTufKey,
  createTufKeys,
  findTufKey,
  findTufKeys,
  tufKeyProvider,
  tufSigner,
  tufTargetsFromTrustFiles,
} from './tuf.js';
export { readLogShards, rotateLogShard, type LogShard } from './shards.js';
