export * from './errors.js';
export * from './encoding.js';
export * from './hash.js';
export * from './canonical-json.js';
export * from './json.js';
export * from './keys.js';
export * from './prehash.js';
export * from './signer.js';
