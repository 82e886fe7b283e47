import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { KeylessError } from './errors.js';
import { publicKeyDer } from './keys.js';
import type { HashAlgorithm } from './hash.js';

interface PrehashAddon {
  verify(spkiDer: Buffer, digest: Buffer, signature: Buffer, hashName: string): boolean;
}

let addon: PrehashAddon | undefined;

/** Finds build/Release/prehash_verify.node from src/ (tests) or dist/ (the bundle). */
function loadAddon(): PrehashAddon {
  if (addon) return addon;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', 'Release', 'prehash_verify.node');
    if (existsSync(candidate)) {
      addon = createRequire(import.meta.url)(candidate) as PrehashAddon;
      return addon;
    }
    dir = dirname(dir);
  }
  throw new KeylessError('NATIVE_ADDON_MISSING', 'build/Release/prehash_verify.node not found: run npm install (it builds the addon with node-gyp)');
}

/**
 * Verifies an ECDSA or RSA PKCS#1 v1.5 signature over a precomputed digest (Node's
 * crypto.verify always hashes its input). Ed25519 cannot sign a prehash: always false.
 */
export function verifyDigestSignature(key: KeyObject, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm): boolean {
  if (key.asymmetricKeyType === 'ed25519') return false;
  return loadAddon().verify(publicKeyDer(key), Buffer.from(digest), Buffer.from(signature), hash);
}
