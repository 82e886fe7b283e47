import { HASH_SIZE, TILE_WIDTH, emptyRoot, nodeHash, type PerfectNodeReader } from '../merkle/index.js';
import type { TileRecord } from './driver.js';

/**
 * A tile with every level inside it computed: levels[k] holds the complete nodes k
 * Merkle levels above the tile's base (levels[0] is the tile data itself).
 */
class ExpandedTile {
  readonly levels: Buffer[];
  /** `prefix`: an expansion of a prefix of `data` (the same edge tile before an append), whose nodes are reused. */
  constructor(data: Buffer, prefix?: ExpandedTile) {
    this.levels = [data];
    let below = data;
    for (let k = 1; k <= 8; k++) {
      const count = Math.floor(below.length / HASH_SIZE / 2);
      if (count === 0) break;
      const next = Buffer.allocUnsafe(count * HASH_SIZE);
      const old = prefix?.levels[k];
      const reused = old ? Math.min(count, old.length / HASH_SIZE) : 0;
      if (old) old.copy(next, 0, 0, reused * HASH_SIZE);
      for (let j = reused; j < count; j++) {
        const o = j * 2 * HASH_SIZE;
        nodeHash(below.subarray(o, o + HASH_SIZE), below.subarray(o + HASH_SIZE, o + 2 * HASH_SIZE)).copy(next, j * HASH_SIZE);
      }
      this.levels.push(next);
      below = next;
    }
  }

  get width(): number {
    return this.levels[0]!.length / HASH_SIZE;
  }

  /** Node `j` at `k` levels above the base, or undefined when not complete in this tile. */
  node(k: number, j: number): Buffer | undefined {
    const lvl = this.levels[k];
    if (!lvl || (j + 1) * HASH_SIZE > lvl.length) return undefined;
    return lvl.subarray(j * HASH_SIZE, (j + 1) * HASH_SIZE);
  }
}

export const tileKey = (level: number, index: number): string => `${level}/${index}`;

/** Raised inside a read pass when a tile is not in memory; the caller fetches and retries. */
export class TileMiss {
  constructor(
    readonly level: number,
    readonly index: number,
  ) {}
}

/**
 * The in-memory side of a tiled tree: the right-edge (partial) tile of every tile level,
 * and an LRU cache of full tiles. Appends are computed on a copy and installed only
 * after the storage commit succeeds.
 */
export class TileTree {
  size: number;
  /** Right-edge tile data per tile level (may be empty). */
  private edges: Buffer[];
  private edgeExpanded: (ExpandedTile | undefined)[] = [];
  private readonly cache: Map<string, ExpandedTile> = new Map();

  /** The compact range: hashes of the perfect subtrees that make up the tree, largest first. */
  private range: Uint8Array[];

  constructor(
    size: number,
    edges: Buffer[],
    private readonly cacheSize = 4096,
    cache?: Map<string, ExpandedTile>,
    edgeExpanded?: (ExpandedTile | undefined)[],
  ) {
    this.size = size;
    this.edges = edges;
    if (cache) this.cache = cache;
    if (edgeExpanded) this.edgeExpanded = edgeExpanded;
    this.range = [];
    // Every right-border perfect subtree lies in the edge tile of its tile level.
    let prefix = 0;
    for (let h = 52; h >= 0; h--) {
      const span = 2 ** h;
      if (Math.floor(size / span) % 2 === 1) {
        this.range.push(this.reader(h, prefix / span));
        prefix += span;
      }
    }
  }

  /** The root hash of the current tree (fold of the compact range). */
  static foldRange(range: readonly Uint8Array[]): Buffer {
    if (range.length === 0) return emptyRoot();
    let acc = range[range.length - 1]!;
    for (let i = range.length - 2; i >= 0; i--) acc = nodeHash(range[i]!, acc);
    return Buffer.from(acc);
  }

  /** The right-edge tile refs a tree of `size` leaves needs loaded (non-empty partial tiles). */
  static edgeRefs(size: number): { level: number; index: number }[] {
    const refs: { level: number; index: number }[] = [];
    for (let level = 0; TILE_WIDTH ** level <= size; level++) {
      refs.push({ level, index: Math.floor(size / TILE_WIDTH ** (level + 1)) });
    }
    return refs;
  }

  /** `previous`: an earlier view of the same log whose cached full tiles (immutable) are kept. */
  static fromStorage(size: number, tiles: TileRecord[], previous?: TileTree): TileTree {
    const edges: Buffer[] = [];
    for (const ref of TileTree.edgeRefs(size)) {
      const width = Math.floor(size / TILE_WIDTH ** ref.level) % TILE_WIDTH;
      const t = tiles.find((x) => x.level === ref.level && x.index === ref.index);
      edges[ref.level] = width === 0 ? Buffer.alloc(0) : Buffer.from(t ? t.data.subarray(0, width * HASH_SIZE) : Buffer.alloc(0));
      if (edges[ref.level]!.length !== width * HASH_SIZE) throw new Error(`tile ${ref.level}/${ref.index} is missing or short`);
    }
    // Full tiles never change: the new view shares the cache, and an edge tile that only
    // grew keeps the expansion of its prefix (catching up after every batch of another
    // frontend would otherwise re-hash each edge tile and copy the cache).
    const reuse = previous?.edgeExpanded.map((t, level) =>
      previous.edgeIndex(level) === Math.floor(size / TILE_WIDTH ** (level + 1)) ? t : undefined,
    );
    return new TileTree(size, edges, previous?.cacheSize, previous?.cache, reuse);
  }

  /**
   * Computes the tiles that change when `leafHashes` are appended, without touching
   * this tree. `install` makes the result current (call it after the commit).
   */
  prepareAppend(leafHashes: readonly Buffer[]): { tiles: TileRecord[]; newSize: number; root: Buffer; install: () => void } {
    // Working copies of the edge tiles with room for a full tile, filled in place: a
    // concat per appended hash would copy the whole edge tile (up to 8 KiB) each time.
    const work: { buf: Buffer; len: number; index: number }[] = [];
    const edgeOf = (level: number, index: number): { buf: Buffer; len: number; index: number } => {
      let w = work[level];
      if (!w) {
        const e = this.edges[level] ?? Buffer.alloc(0);
        w = { buf: Buffer.allocUnsafe(TILE_WIDTH * HASH_SIZE), len: e.length, index };
        e.copy(w.buf, 0);
        work[level] = w;
      }
      return w;
    };
    const range = this.range.slice();
    const completed: TileRecord[] = [];
    let size = this.size;
    const pushAt = (level: number, hash: Uint8Array, countBefore: number): void => {
      // countBefore = number of hashes at this tile level before the push.
      const index = Math.floor(countBefore / TILE_WIDTH);
      const w = edgeOf(level, index);
      w.buf.set(hash, w.len);
      w.len += HASH_SIZE;
      w.index = index;
      if (w.len === TILE_WIDTH * HASH_SIZE) {
        const data = Buffer.from(w.buf);
        w.len = 0;
        w.index = index + 1;
        completed.push({ level, index, data });
        const root = new ExpandedTile(data).node(8, 0)!;
        pushAt(level + 1, Buffer.from(root), index);
      }
    };
    for (const h of leafHashes) {
      pushAt(0, h, size);
      // Binary-counter merge of the compact range.
      let node: Uint8Array = h;
      for (let level = 0; Math.floor(size / 2 ** level) % 2 === 1; level++) node = nodeHash(range.pop()!, node);
      range.push(node);
      size++;
    }
    // Changed tiles: every completed one, and each touched level's new (non-empty) edge.
    const edges = this.edges.slice();
    const tiles: TileRecord[] = [...completed];
    work.forEach((w, level) => {
      const data = Buffer.from(w.buf.subarray(0, w.len));
      edges[level] = data;
      if (w.len > 0) tiles.push({ level, index: w.index, data });
    });
    return {
      tiles,
      newSize: size,
      root: TileTree.foldRange(range),
      install: () => {
        // An edge tile that only grew keeps its expansion, extended on next use; one that
        // was completed (a new edge tile index) starts afresh.
        this.edgeExpanded = this.edgeExpanded.map((t, level) =>
          Math.floor(this.size / TILE_WIDTH ** (level + 1)) === Math.floor(size / TILE_WIDTH ** (level + 1)) ? t : undefined,
        );
        this.edges = edges;
        this.range = range;
        this.size = size;
        for (const t of completed) this.cachePut(t.level, t.index, t.data);
      },
    };
  }

  private cachePut(level: number, index: number, data: Buffer): ExpandedTile {
    const key = tileKey(level, index);
    const t = new ExpandedTile(data);
    this.cache.set(key, t);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return t;
  }

  /** Adds full tiles read from storage to the cache. */
  addTiles(tiles: readonly TileRecord[]): void {
    for (const t of tiles) if (t.data.length === TILE_WIDTH * HASH_SIZE) this.cachePut(t.level, t.index, t.data);
  }

  /**
   * Edge tile (level, index) of this view followed by `tail`: the tile as another writer
   * extended it, read without the first `from` hashes this view holds.
   */
  continueEdge(level: number, index: number, from: number, tail: Buffer): Buffer {
    const edge = this.edges[level];
    if (index !== this.edgeIndex(level) || !edge || edge.length !== from * HASH_SIZE) {
      throw new Error(`edge tile ${level}/${index} of ${from} hashes is not the one in this view (size ${this.size})`);
    }
    return Buffer.concat([edge, tail]);
  }

  private edgeIndex(level: number): number {
    return Math.floor(this.size / TILE_WIDTH ** (level + 1));
  }

  private tile(level: number, index: number): ExpandedTile {
    if (index === this.edgeIndex(level)) {
      const data = this.edges[level] ?? Buffer.alloc(0);
      let t = this.edgeExpanded[level];
      if (!t || t.width !== data.length / HASH_SIZE) {
        t = new ExpandedTile(data, t);
        this.edgeExpanded[level] = t;
      }
      return t;
    }
    const key = tileKey(level, index);
    const t = this.cache.get(key);
    if (!t) throw new TileMiss(level, index);
    // Refresh LRU position.
    this.cache.delete(key);
    this.cache.set(key, t);
    return t;
  }

  /** Perfect-subtree hashes for proofs over any size up to the current one; throws TileMiss. */
  readonly reader: PerfectNodeReader = (level, index) => {
    const tileLevel = Math.floor(level / 8);
    const k = level % 8;
    const perTile = TILE_WIDTH / 2 ** k;
    const t = this.tile(tileLevel, Math.floor(index / perTile));
    const node = t.node(k, index % perTile);
    if (!node) throw new Error(`node ${level}/${index} is not complete in tree of size ${this.size}`);
    return node;
  };
}
