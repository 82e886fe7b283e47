// Rekor v2's read API is C2SP tlog-tiles: the page fetches the entry bundle and the
// tiles it needs and builds the inclusion proof from them, as any tiles client does.
import { nodeHash } from './verify.js';

const WIDTH = 256;

/** `<N>` as 3-digit path elements, all but the last prefixed with `x`. */
function indexPath(n: number): string {
  const groups: string[] = [];
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** Path of tile `index` at `level` ('entries' for entry bundles) in a tree of `size` leaves. */
export function tilePath(level: number | 'entries', index: number, size: number): string {
  const nodesAtLevel = level === 'entries' ? size : Math.floor(size / WIDTH ** level);
  const width = Math.min(WIDTH, nodesAtLevel - index * WIDTH);
  if (width <= 0) throw new Error(`tile ${level}/${index} is beyond the tree`);
  return `tile/${level}/${indexPath(index)}${width < WIDTH ? `.p/${width}` : ''}`;
}

export function decodeEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < bundle.length;) {
    if (off + 2 > bundle.length) throw new Error('entry bundle: truncated length');
    const len = (bundle[off]! << 8) | bundle[off + 1]!;
    if (off + 2 + len > bundle.length) throw new Error('entry bundle: truncated entry');
    out.push(bundle.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return out;
}

export type Fetcher = (path: string) => Promise<Uint8Array>;

/**
 * Merkle nodes of a tree of `size` leaves read from its tiles: perfect subtrees come
 * from a tile (every 8th level) or are hashed up from one; tiles are fetched once.
 */
export class TileReader {
  private tiles = new Map<string, Promise<Uint8Array>>();
  constructor(
    private readonly fetchPath: Fetcher,
    readonly size: number,
  ) {}

  private tile(level: number, index: number): Promise<Uint8Array> {
    const path = tilePath(level, index, this.size);
    let t = this.tiles.get(path);
    if (!t) {
      t = this.fetchPath(path);
      this.tiles.set(path, t);
    }
    return t;
  }

  /** The hash of the perfect subtree of 2^level leaves starting at leaf index·2^level. */
  async perfect(level: number, index: number): Promise<Uint8Array> {
    if (level % 8 === 0) {
      const tile = await this.tile(level / 8, Math.floor(index / WIDTH));
      const off = (index % WIDTH) * 32;
      if (off + 32 > tile.length) throw new Error(`tile ${level / 8}/${Math.floor(index / WIDTH)} is too short`);
      return tile.subarray(off, off + 32);
    }
    const [l, r] = await Promise.all([this.perfect(level - 1, 2 * index), this.perfect(level - 1, 2 * index + 1)]);
    return nodeHash(l, r);
  }

  /** MTH of leaves [start, end) (RFC 9162 §2.1.1). */
  async range(start: number, end: number): Promise<Uint8Array> {
    const n = end - start;
    const level = Math.log2(n);
    if (Number.isInteger(level) && start % n === 0) return this.perfect(level, start / n);
    let k = 1;
    while (k * 2 < n) k *= 2;
    const [l, r] = await Promise.all([this.range(start, start + k), this.range(start + k, end)]);
    return nodeHash(l, r);
  }

  /** PATH(index, D[0:size]) (RFC 9162 §2.1.3.1). */
  async inclusionProof(index: number): Promise<Uint8Array[]> {
    const proof: Uint8Array[] = [];
    const walk = async (m: number, start: number, end: number): Promise<void> => {
      const n = end - start;
      if (n <= 1) return;
      let k = 1;
      while (k * 2 < n) k *= 2;
      if (m < k) {
        await walk(m, start, start + k);
        proof.push(await this.range(start + k, end));
      } else {
        await walk(m - k, start + k, end);
        proof.push(await this.range(start, start + k));
      }
    };
    await walk(index, 0, this.size);
    return proof;
  }
}
