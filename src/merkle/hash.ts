import { hash } from 'node:crypto';
import { sha256 } from '../core/hash.js';

export const HASH_SIZE = 32;

// One-shot crypto.hash over a reused input buffer: a sequencer batch and every proof
// compute thousands of these, and a Hash object per call (createHash + update + digest)
// costs ~30 % more CPU and garbage.
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;
let leafInput = Buffer.alloc(1024);

/** SHA-256(0x00 ‖ data): the hash of one log entry. */
export function leafHash(data: Uint8Array): Buffer {
  if (leafInput.length < 1 + data.byteLength) leafInput = Buffer.alloc(Math.max(2 * leafInput.length, 1 + data.byteLength));
  leafInput[0] = 0x00;
  leafInput.set(data, 1);
  return hash('sha256', leafInput.subarray(0, 1 + data.byteLength), 'buffer') as unknown as Buffer;
}

/** SHA-256(0x01 ‖ left ‖ right): an interior node (both children must be 32 bytes). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.byteLength !== HASH_SIZE || right.byteLength !== HASH_SIZE) {
    return sha256(nodeInput.subarray(0, 1), left, right);
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return hash('sha256', nodeInput, 'buffer') as unknown as Buffer;
}

/** The root of the empty tree: SHA-256 of the empty string. */
export function emptyRoot(): Buffer {
  return sha256();
}

/** Largest power of two strictly less than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The Merkle tree hash of a list of leaf hashes (RFC 9162 §2.1.1), computed left to
 * right with a stack of perfect subtrees, so memory stays logarithmic.
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  if (leafHashes.length === 0) return emptyRoot();
  const stack: { hash: Uint8Array; size: number }[] = [];
  for (const h of leafHashes) {
    let node = { hash: h, size: 1 };
    while (stack.length > 0 && stack[stack.length - 1]!.size === node.size) {
      const left = stack.pop()!;
      node = { hash: nodeHash(left.hash, node.hash), size: node.size * 2 };
    }
    stack.push(node);
  }
  // Fold the perfect subtrees right to left.
  let acc = stack.pop()!.hash;
  while (stack.length > 0) acc = nodeHash(stack.pop()!.hash, acc);
  return Buffer.from(acc);
}

/** The Merkle tree hash of a list of entries. */
export function rootFromEntries(entries: readonly Uint8Array[]): Buffer {
  return rootFromLeafHashes(entries.map((e) => leafHash(e)));
}
