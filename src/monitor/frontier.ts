// The right edge of a Merkle tree (RFC 6962): the roots of the perfect subtrees that
// make up [0, size), largest first. Appending the scanned leaves to the frontier of the
// stored tree and comparing the result with the new checkpoint's root proves at once
// that the leaves are exactly those the checkpoint commits to and that the new tree
// extends the stored one (its first `size` leaves have the stored root).
import { emptyRoot, innerProofSize, leafHash, nodeHash, popCount } from '../merkle/index.js';
import { inconsistent } from './errors.js';

export class Frontier {
  private constructor(
    private size_: number,
    /** Perfect subtree roots, largest first; `levels[i]` is the height of `hashes[i]`. */
    private readonly hashes: Buffer[],
    private readonly levels: number[],
  ) {}

  static empty(): Frontier {
    return new Frontier(0, [], []);
  }

  /** The frontier of a tree of `size` leaves from its subtree roots, largest first. */
  static of(size: number, hashes: readonly Uint8Array[]): Frontier {
    const levels: number[] = [];
    for (let l = 52; l >= 0; l--) if (Math.floor(size / 2 ** l) % 2 === 1) levels.push(l);
    if (levels.length !== hashes.length)
      throw inconsistent('frontier', `a tree of ${size} leaves has ${levels.length} edge subtrees, got ${hashes.length}`);
    return new Frontier(
      size,
      hashes.map((h) => Buffer.from(h)),
      levels,
    );
  }

  /**
   * The frontier at `index` from an RFC 6962 audit path of leaf `index` in a tree of
   * `treeSize`: its left siblings are exactly the perfect subtrees covering [0, index).
   */
  static fromInclusionProof(index: number, treeSize: number, proof: readonly Uint8Array[]): Frontier {
    if (index >= treeSize) throw inconsistent('frontier', `leaf ${index} is outside a tree of ${treeSize}`);
    const inner = innerProofSize(index, treeSize);
    const left: Uint8Array[] = [];
    for (let j = 0; j < inner && j < proof.length; j++) if (Math.floor(index / 2 ** j) % 2 === 1) left.push(proof[j]!);
    const border = proof.slice(inner);
    const rest = Math.floor(index / 2 ** inner);
    if (border.length !== popCount(rest))
      throw inconsistent('frontier', `audit path of leaf ${index} in a tree of ${treeSize} has the wrong length ${proof.length}`);
    left.push(...border);
    return Frontier.of(index, left.reverse());
  }

  get size(): number {
    return this.size_;
  }

  append(leaf: Uint8Array): void {
    this.appendHash(leafHash(leaf));
  }

  appendHash(hash: Buffer): void {
    let node = hash;
    let level = 0;
    while (this.levels.length > 0 && this.levels[this.levels.length - 1] === level) {
      this.levels.pop();
      node = nodeHash(this.hashes.pop()!, node);
      level++;
    }
    this.hashes.push(node);
    this.levels.push(level);
    this.size_++;
  }

  root(): Buffer {
    if (this.hashes.length === 0) return emptyRoot();
    let root = this.hashes[this.hashes.length - 1]!;
    for (let i = this.hashes.length - 2; i >= 0; i--) root = nodeHash(this.hashes[i]!, root);
    return root;
  }

  clone(): Frontier {
    return new Frontier(this.size_, [...this.hashes], [...this.levels]);
  }

  toJSON(): string[] {
    return this.hashes.map((h) => h.toString('base64'));
  }
}
