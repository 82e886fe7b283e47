// Reading the documents the signing commands take by path (or from the environment).
import { readFileSync } from 'node:fs';
import { parseJson } from '../core/json.js';
import { fsProblem } from './fs-problem.js';
import { parseSigningConfig } from '../formats/index.js';
import { SignError, type SigningConfigLike } from '../sign/index.js';

export { SIGNING_CONFIG_ENV, TRUSTED_ROOT_ENV } from './env.js';

/** Reads a JSON file with an error that names the file and what the file was for. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SignError('FILE_UNREADABLE', `cannot read the ${what} ${path} (${fsProblem(e)})`, { check: what });
  }
  return parseJson(text, what);
}

/** A SigningConfig v0.2 file, parsed strictly by FORMATS (unknown media types and fields refused). */
export function loadSigningConfig(path: string): SigningConfigLike {
  return parseSigningConfig(readJsonFile(path, 'signing config'));
}
