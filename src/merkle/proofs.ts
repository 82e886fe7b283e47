import { VerificationError } from '../core/errors.js';
import type { MerkleErrorCode } from '../core/error-codes.js';
import { bytesEqual } from '../core/hash.js';
import { hexEncode } from '../core/encoding.js';
import { HASH_SIZE, emptyRoot, nodeHash, splitPoint } from './hash.js';

function bitLength(x: number): number {
  let n = 0;
  while (x > 0) {
    n++;
    x = Math.floor(x / 2);
  }
  return n;
}

/**
 * The levels of leaf `index`'s audit path in a tree of `size` that lie below the right
 * border: where index and the last index differ (RFC 6962 / RFC 9162 §2.1.3.2).
 */
export function innerProofSize(index: number, size: number): number {
  return bitLength(xor(index, size - 1));
}

/** XOR for indexes beyond 32 bits (JS bit operators truncate). */
function xor(a: number, b: number): number {
  const hi = (Math.floor(a / 2 ** 32) ^ Math.floor(b / 2 ** 32)) >>> 0;
  const lo = ((a >>> 0) ^ (b >>> 0)) >>> 0;
  return hi * 2 ** 32 + lo;
}

/** The number of set bits (indexes beyond 32 bits too). */
export function popCount(x: number): number {
  let n = 0;
  while (x > 0) {
    if (x % 2 === 1) n++;
    x = Math.floor(x / 2);
  }
  return n;
}

function checkIndex(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new VerificationError('PROOF_PARAMETER_INVALID', `${field} must be a non-negative integer, got ${String(value)}`, {
      check: field,
    });
  }
}

function checkHashes(proof: readonly Uint8Array[], code: MerkleErrorCode): void {
  for (const h of proof) {
    if (h.byteLength !== HASH_SIZE)
      throw new VerificationError(code, `proof hash has ${h.byteLength} bytes, expected ${HASH_SIZE}`, { check: 'proof-hash-size' });
  }
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2) for leaf `index` in a tree
 * of `size` leaves. Throws INCLUSION_PROOF_INVALID when the proof has the wrong shape.
 */
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Buffer {
  checkIndex(index, 'index');
  checkIndex(size, 'size');
  if (index >= size) {
    throw new VerificationError('INCLUSION_PROOF_INVALID', `leaf index ${index} is not below tree size ${size}`, {
      check: 'inclusion-index',
      expected: `< ${size}`,
      actual: index,
    });
  }
  if (leaf.byteLength !== HASH_SIZE)
    throw new VerificationError('INCLUSION_PROOF_INVALID', 'leaf hash must be 32 bytes', { check: 'leaf-hash-size' });
  checkHashes(proof, 'INCLUSION_PROOF_INVALID');
  // Bits where index and the last index differ are "inner" levels; above them the path
  // runs along the right border and every sibling is on the left.
  const inner = innerProofSize(index, size);
  const border = popCount(Math.floor(index / 2 ** inner));
  if (proof.length !== inner + border) {
    throw new VerificationError('INCLUSION_PROOF_INVALID', `inclusion proof has ${proof.length} hashes, expected ${inner + border}`, {
      check: 'inclusion-proof-length',
      expected: inner + border,
      actual: proof.length,
    });
  }
  let h: Uint8Array = leaf;
  for (let j = 0; j < inner; j++) {
    h = Math.floor(index / 2 ** j) % 2 === 1 ? nodeHash(proof[j]!, h) : nodeHash(h, proof[j]!);
  }
  for (let j = inner; j < proof.length; j++) h = nodeHash(proof[j]!, h);
  return Buffer.from(h);
}

/** Verifies that `leaf` is at `index` in the tree of `size` leaves with root `root`. */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  const computed = rootFromInclusionProof(index, size, leaf, proof);
  if (!bytesEqual(computed, root)) {
    throw new VerificationError('INCLUSION_PROOF_INVALID', 'inclusion proof does not lead to the expected root hash', {
      check: 'inclusion-root',
      expected: hexEncode(root),
      actual: hexEncode(computed),
    });
  }
}

/**
 * Verifies that the tree of `size2` leaves with `root2` extends the tree of `size1`
 * leaves with `root1` (RFC 9162 §2.1.4.2). Throws CONSISTENCY_PROOF_INVALID.
 */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  checkIndex(size1, 'size1');
  checkIndex(size2, 'size2');
  const fail = (message: string, check: string, details: { expected?: unknown; actual?: unknown } = {}): never => {
    throw new VerificationError('CONSISTENCY_PROOF_INVALID', message, { check, ...details });
  };
  if (size2 < size1) fail(`tree size ${size2} is smaller than ${size1}`, 'consistency-sizes', { expected: `>= ${size1}`, actual: size2 });
  checkHashes(proof, 'CONSISTENCY_PROOF_INVALID');
  if (size1 === size2) {
    if (proof.length !== 0)
      fail('a proof between equal sizes must be empty', 'consistency-proof-length', { expected: 0, actual: proof.length });
    if (!bytesEqual(root1, root2))
      fail('equal tree sizes with different root hashes', 'consistency-root', { expected: hexEncode(root1), actual: hexEncode(root2) });
    return;
  }
  if (size1 === 0) {
    if (proof.length !== 0)
      fail('a proof from the empty tree must be empty', 'consistency-proof-length', { expected: 0, actual: proof.length });
    return;
  }
  if (proof.length === 0) fail('consistency proof is empty', 'consistency-proof-length');
  const path: Uint8Array[] = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (let j = 1; j < path.length; j++) {
    const c = path[j]!;
    if (sn === 0) fail('consistency proof is too long', 'consistency-proof-length');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) fail('consistency proof is too short', 'consistency-proof-length');
  if (!bytesEqual(fr, root1))
    fail('consistency proof does not reproduce the first root', 'consistency-root1', { expected: hexEncode(root1), actual: hexEncode(fr) });
  if (!bytesEqual(sr, root2))
    fail('consistency proof does not reproduce the second root', 'consistency-root2', {
      expected: hexEncode(root2),
      actual: hexEncode(sr),
    });
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * Source of perfect-subtree hashes: the hash of the 2^level leaves starting at
 * index·2^level. Only subtrees that lie entirely inside the tree are asked for.
 */
export type PerfectNodeReader = (level: number, index: number) => Uint8Array;

/** The hash of leaves [start, start+count) where start is aligned to the subtree shape RFC 9162 uses. */
export function rangeHash(read: PerfectNodeReader, start: number, count: number): Uint8Array {
  // Split the range into perfect subtrees from the left (largest first), then fold right to left.
  const parts: Uint8Array[] = [];
  let pos = start;
  let left = count;
  while (left > 0) {
    let size = 1;
    let level = 0;
    // Largest power of two that fits the remaining count and is aligned at pos.
    while (size * 2 <= left && pos % (size * 2) === 0) {
      size *= 2;
      level++;
    }
    parts.push(read(level, pos / size));
    pos += size;
    left -= size;
  }
  let acc = parts.pop()!;
  while (parts.length > 0) acc = nodeHash(parts.pop()!, acc);
  return acc;
}

/** The root of the first `size` leaves. */
export function treeRoot(read: PerfectNodeReader, size: number): Uint8Array {
  checkIndex(size, 'size');
  if (size === 0) return emptyRoot();
  return rangeHash(read, 0, size);
}

/** The audit path for leaf `index` in the tree of `size` leaves (RFC 6962 §2.1.1), leaf to root. */
export function inclusionProof(read: PerfectNodeReader, index: number, size: number): Uint8Array[] {
  checkIndex(index, 'index');
  checkIndex(size, 'size');
  if (index >= size)
    throw new VerificationError('PROOF_PARAMETER_INVALID', `leaf index ${index} is not below tree size ${size}`, { check: 'index' });
  const path: Uint8Array[] = [];
  let start = 0;
  let n = size;
  let m = index;
  // Walk root to leaf, collecting siblings, then reverse.
  while (n > 1) {
    const k = splitPoint(n);
    if (m < k) {
      path.push(rangeHash(read, start + k, n - k));
      n = k;
    } else {
      path.push(rangeHash(read, start, k));
      start += k;
      m -= k;
      n -= k;
    }
  }
  return path.reverse();
}

/** The consistency proof between the trees of `size1` and `size2` leaves (RFC 6962 §2.1.2). */
export function consistencyProof(read: PerfectNodeReader, size1: number, size2: number): Uint8Array[] {
  checkIndex(size1, 'size1');
  checkIndex(size2, 'size2');
  if (size1 > size2)
    throw new VerificationError('PROOF_PARAMETER_INVALID', `first size ${size1} exceeds second size ${size2}`, { check: 'sizes' });
  if (size1 === 0 || size1 === size2) return [];
  const out: Uint8Array[] = [];
  // SUBPROOF(m, D[start:start+n], b), iteratively; collected root to leaf, reversed at the end.
  let m = size1;
  let start = 0;
  let n = size2;
  let complete = true;
  for (;;) {
    if (m === n) {
      if (!complete) out.push(rangeHash(read, start, n));
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      out.push(rangeHash(read, start + k, n - k));
      n = k;
    } else {
      out.push(rangeHash(read, start, k));
      start += k;
      m -= k;
      n -= k;
      complete = false;
    }
  }
  return out.reverse();
}

/** A reader over an in-memory list of leaf hashes (tests, small trees). */
export function memoryNodeReader(leafHashes: readonly Uint8Array[]): PerfectNodeReader {
  const levels: Uint8Array[][] = [leafHashes.slice()];
  return (level, index) => {
    while (levels.length <= level) {
      const below = levels[levels.length - 1]!;
      const next: Uint8Array[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) next.push(nodeHash(below[i]!, below[i + 1]!));
      levels.push(next);
    }
    const h = levels[level]![index];
    if (!h)
      throw new VerificationError('PROOF_PARAMETER_INVALID', `no perfect subtree at level ${level} index ${index}`, { check: 'node' });
    return h;
  };
}
