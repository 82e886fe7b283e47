import { parseSigningConfig } from '../formats/index.js';
import { readJsonFile } from './config.js';
import type { SigningConfigLike } from './services.js';

/** A SigningConfig v0.2 file, parsed strictly by FORMATS (unknown media types and fields refused). */
export function loadSigningConfig(path: string): SigningConfigLike {
  return parseSigningConfig(readJsonFile(path, 'signing config'));
}
