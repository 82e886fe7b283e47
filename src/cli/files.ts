// Reading the documents the signing commands take by path (or from the environment).
import { readFileSync } from 'node:fs';
import { parseJson } from '../core/json.js';
import { parseSigningConfig } from '../formats/index.js';
import { SignError, type SigningConfigLike } from '../sign/index.js';

/** Environment variables that stand in for `--signing-config` / `--trusted-root`. */
export const SIGNING_CONFIG_ENV = 'KEYLESS_SIGNING_CONFIG';
export const TRUSTED_ROOT_ENV = 'KEYLESS_TRUSTED_ROOT';

/** Reads a JSON file with an error that names the file and what the file was for. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SignError('FILE_UNREADABLE', `cannot read the ${what} ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { check: what });
  }
  return parseJson(text, what);
}

/** A SigningConfig v0.2 file, parsed strictly by FORMATS (unknown media types and fields refused). */
export function loadSigningConfig(path: string): SigningConfigLike {
  return parseSigningConfig(readJsonFile(path, 'signing config'));
}
