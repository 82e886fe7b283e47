import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { KeylessError } from './errors.js';
import { publicKeyDer } from './keys.js';
import type { HashAlgorithm } from './hash.js';
import { verifyDigestJs } from './prehash-js.js';

/** One digest verifier: DER SPKI, digest, signature; false for any failure, never throws. */
export type DigestVerifyFunction = (spki: Uint8Array, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm) => boolean;

interface PrehashAddon {
  verify(spkiDer: Buffer, digest: Buffer, signature: Buffer, hashName: string): boolean;
}

/** The path of build/Release/prehash_verify.node, found from src/ (tests) or dist/ (the bundle); undefined if not built. */
export function prehashAddonPath(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'build', 'Release', 'prehash_verify.node');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

/** The addon's verifier, or undefined when it was not built (no C++ toolchain at install). */
export function loadPrehashAddon(): DigestVerifyFunction | undefined {
  const path = prehashAddonPath();
  if (!path) return undefined;
  const addon = createRequire(import.meta.url)(path) as PrehashAddon;
  return (spki, digest, signature, hash) => {
    try {
      return addon.verify(toBuffer(spki), toBuffer(digest), toBuffer(signature), hash);
    } catch {
      return false;
    }
  };
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

let selected: { backend: 'addon' | 'js'; verify: DigestVerifyFunction } | undefined;

/**
 * The addon when it was built, else JavaScript. KEYLESS_PREHASH=js forces JavaScript (CI runs
 * the suite both ways), KEYLESS_PREHASH=addon refuses to fall back. Read here, not in cli/,
 * because worker threads and library users choose the same way.
 */
function select(): NonNullable<typeof selected> {
  if (selected) return selected;
  const wanted = process.env.KEYLESS_PREHASH ?? '';
  if (!['', 'js', 'addon'].includes(wanted))
    throw new KeylessError('PREHASH_BACKEND_UNKNOWN', `KEYLESS_PREHASH must be "js" or "addon", not "${wanted}"`);
  const addon = wanted === 'js' ? undefined : loadPrehashAddon();
  if (!addon && wanted === 'addon')
    throw new KeylessError(
      'NATIVE_ADDON_MISSING',
      'KEYLESS_PREHASH=addon but build/Release/prehash_verify.node was not built: run npm install with a C++ toolchain',
    );
  selected = addon ? { backend: 'addon', verify: addon } : { backend: 'js', verify: verifyDigestJs };
  return selected;
}

/** Which implementation verifies digests in this process. */
export function prehashBackend(): 'addon' | 'js' {
  return select().backend;
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
 * KeyObject to DER costs more than the verification (OpenSSL 3 encoders). False for any failure.
 */
export function verifyDigestSignatureSpki(spki: Uint8Array, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm): boolean {
  return select().verify(spki, digest, signature, hash);
}

/** Error codes raised here, for the error-code registry. */
export const PREHASH_ERROR_CODES = ['PREHASH_BACKEND_UNKNOWN', 'NATIVE_ADDON_MISSING'] as const;
