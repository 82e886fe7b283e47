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

/**
 * The path of build/Release/prehash_verify.node, found from src/ (tests) or dist/ (the
 * bundle). Worker threads load the addon from this path themselves.
 */
export function prehashAddonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'build', 'Release', 'prehash_verify.node');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new KeylessError('NATIVE_ADDON_MISSING', 'build/Release/prehash_verify.node not found: run npm install (it builds the addon with node-gyp)');
}

function loadAddon(): PrehashAddon {
  addon ??= createRequire(import.meta.url)(prehashAddonPath()) as PrehashAddon;
  return addon;
}

/**
 * Verifies an ECDSA or RSA PKCS#1 v1.5 signature over a precomputed digest (Node's
 * crypto.verify always hashes its input). Ed25519 cannot sign a prehash: always false.
 */
export function verifyDigestSignature(key: KeyObject, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm): boolean {
  if (key.asymmetricKeyType === 'ed25519') return false;
  return verifyDigestSignatureSpki(publicKeyDer(key), digest, signature, hash);
}

/**
 * The same from DER SubjectPublicKeyInfo bytes, which is what logs receive: exporting a
 * KeyObject to DER costs more than the verification (OpenSSL 3 encoders), and the addon
 * builds named-curve EC keys straight from the point. False for any failure.
 */
export function verifyDigestSignatureSpki(spki: Uint8Array, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm): boolean {
  return loadAddon().verify(Buffer.from(spki), Buffer.from(digest), Buffer.from(signature), hash);
}
