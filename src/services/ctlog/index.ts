export { CtLog, MemoryCtLogStore, merkleTreeLeaf, type CtLogOptions, type CtLogStore, type SignedTreeHead } from './log.js';
export { ctlogService, CT_MAX_REQUEST_BYTES, type CtLogServiceOptions } from './plugin.js';
export { EngineCtLogStore, type EngineCtStoreOptions } from './engine-store.js';
export { ctIndexKeys, CT_INDEX_VERSION } from './index-keys.js';
