export { tufService, type TufServiceOptions } from './plugin.js';
export { parseTufConfig, DEFAULT_TUF_CONFIG, type TufConfig } from './config.js';
export {
  publishTufRepository,
  tufPaths,
  writeCurrentRoot,
  type TufKeyProvider,
  type TufPublishOptions,
  type TufPublished,
} from './module.js';
