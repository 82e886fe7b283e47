import { createHash, timingSafeEqual } from 'node:crypto';

export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

export function digest(algorithm: HashAlgorithm, ...parts: Uint8Array[]): Buffer {
  const h = createHash(algorithm);
  for (const p of parts) h.update(p);
  return h.digest();
}

export function sha256(...parts: Uint8Array[]): Buffer {
  return digest('sha256', ...parts);
}

/** Constant-time equality for secrets and digests; different lengths are simply unequal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
