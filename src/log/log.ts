import { hash } from 'node:crypto';
import type { Signer } from '../core/signer.js';
import { KeylessError } from '../core/errors.js';
import {
  HASH_SIZE,
  TILE_WIDTH,
  consistencyProof,
  emptyRoot,
  encodeEntryBundle,
  formatCheckpoint,
  inclusionProof,
  leafHash,
  noteSigner,
  treeRoot,
  type PerfectNodeReader,
} from '../merkle/index.js';
import type { EdgeTile, LogRecord, StorageDriver, StoredCheckpoint, StoredEntry, WriteSession } from './driver.js';
import { TileMiss, TileTree } from './tree.js';

/** Signs the checkpoint for a new tree head; returns the text stored and served. */
export type CheckpointSigner = (head: { size: number; rootHash: Buffer; timestamp: number }) => string;

/** A C2SP signed-note checkpoint signer (Rekor v1 and v2 flavours differ only in origin and key name). */
export function noteCheckpointSigner(options: { origin: string; keyName: string; signer: Signer }): CheckpointSigner {
  const sign = noteSigner(options.keyName, options.signer);
  return (head) => sign(formatCheckpoint({ origin: options.origin, size: head.size, rootHash: head.rootHash }));
}

export interface AppendOptions {
  /** Search keys (any strings; stored as 16-byte hashes). */
  indexKeys?: readonly string[];
  /** Stored with the entry and read back with it, outside the Merkle leaf (a CT entry's chain). */
  extra?: Uint8Array;
}

export type SignedTreeHead = StoredCheckpoint;

export type AppendResult =
  | {
      duplicate: false;
      index: number;
      leafHash: Buffer;
      integratedTime: number;
      checkpoint: SignedTreeHead;
      /** Entries integrated with this one. */ batchSize: number;
    }
  | { duplicate: true; index: number; leafHash: Buffer };

export interface LogOptions {
  /** Most entries integrated in one transaction. */
  maxBatch?: number;
  /** Most appends waiting for a batch; beyond it `append` fails with LOG_OVERLOADED. */
  maxQueue?: number;
}

interface Pending {
  body: Buffer;
  leafHash: Buffer;
  indexKeys: Buffer[];
  extra?: Buffer;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/** Search keys are stored as the first 16 bytes of their SHA-256: fixed width, small index. */
export function searchKey(key: string): Buffer {
  // One-shot hash of the string (no Hash object, no intermediate Buffer): one per key per append.
  return (hash('sha256', key, 'buffer') as unknown as Buffer).subarray(0, 16);
}

/**
 * One Merkle log inside an engine. Appends are queued and integrated by a sequencer:
 * everything that arrived while the previous batch was being written goes into the
 * next one transaction and one signed checkpoint. `append` resolves only after the
 * commit (durable) with that checkpoint.
 */
export class TransparencyLog {
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing = false;
  private latest: SignedTreeHead;
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private closed = false;

  private constructor(
    readonly record: LogRecord,
    private readonly driver: StorageDriver,
    private tree: TileTree,
    private readonly signer: CheckpointSigner,
    latest: SignedTreeHead,
    options: LogOptions,
  ) {
    this.latest = latest;
    this.maxBatch = options.maxBatch ?? 2000;
    this.maxQueue = options.maxQueue ?? 100_000;
  }

  /** @internal used by LogEngine */
  static async open(
    driver: StorageDriver,
    record: LogRecord,
    signer: CheckpointSigner,
    options: LogOptions = {},
  ): Promise<TransparencyLog> {
    const tiles = await driver.readTiles(record.id, TileTree.edgeRefs(record.size));
    const tree = TileTree.fromStorage(record.size, tiles);
    let latest = await driver.readCheckpoint(record.id);
    if (!latest || latest.size !== record.size) {
      // A fresh log (or one whose checkpoint is missing): sign the current head now.
      const timestamp = Date.now();
      const rootHash = Buffer.from(record.size === 0 ? emptyRoot() : treeRoot(tree.reader, record.size));
      latest = { size: record.size, rootHash, timestamp, signed: signer({ size: record.size, rootHash, timestamp }) };
    }
    return new TransparencyLog(record, driver, tree, signer, latest, options);
  }

  get name(): string {
    return this.record.name;
  }

  get origin(): string {
    return this.record.origin;
  }

  get treeId(): string {
    return this.record.treeId;
  }

  /** Entries integrated so far (covered by the latest checkpoint). */
  get size(): number {
    return this.latest.size;
  }

  /** The latest signed checkpoint. */
  latestCheckpoint(): SignedTreeHead {
    return this.latest;
  }

  append(body: Uint8Array, options: AppendOptions = {}): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new KeylessError('LOG_CLOSED', `log ${this.name} is closed`));
    if (this.queue.length >= this.maxQueue)
      return Promise.reject(new KeylessError('LOG_OVERLOADED', `log ${this.name} has ${this.queue.length} appends waiting; try again`));
    const bytes = Buffer.from(body);
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({
        body: bytes,
        leafHash: leafHash(bytes),
        indexKeys: (options.indexKeys ?? []).map(searchKey),
        ...(options.extra ? { extra: Buffer.from(options.extra) } : {}),
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      await this.exclusive(async () => {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          await this.integrate(batch);
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      });
    } finally {
      this.flushing = false;
      this.schedule();
    }
  }

  /** Batches and refreshes take turns (FIFO): the tree changes in one of them at a time. */
  private turn: Promise<void> = Promise.resolve();
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.turn.then(fn);
    this.turn = run.catch(() => {});
    return run;
  }

  private async integrate(batch: Pending[]): Promise<void> {
    const lookup = () =>
      this.driver.findLeaves(
        this.record.id,
        batch.map((p) => p.leafHash),
      );
    for (let attempt = 1; ; attempt++) {
      // Several writers: hold the log's lock for the whole batch, starting from the stored
      // state. A driver that looks the batch's leaves up under the lock (in the round trip
      // that takes it) answers for duplicates authoritatively. Otherwise, first attempt:
      // duplicates are looked up before the lock, which is then held for as few round trips
      // as possible; an entry another writer stores meanwhile makes the commit fail on the
      // leaf index's uniqueness (LOG_STATE_CONFLICT). The retry looks them up under the lock.
      const early = attempt === 1 && !this.driver.beginWrite ? await lookup() : undefined;
      const session = this.driver.beginWrite
        ? await this.driver.beginWrite(
            this.record.id,
            this.tree.size,
            batch.map((p) => p.leafHash),
          )
        : undefined;
      try {
        // Appends that arrived while the lock was awaited join the batch, so batches stay as
        // large as with one writer although the writers take turns. They were not looked up:
        // one that is already stored fails the commit on the leaf index's uniqueness, and the
        // retry looks the whole batch up under the lock.
        if (session?.existing && attempt === 1) batch.push(...this.queue.splice(0, this.maxBatch - batch.length));
        if (session && session.size !== this.tree.size) {
          if (session.head) this.catchUpTo(session.head.checkpoint, session.head.edgeTiles, session.size);
          else await this.catchUpLocked(session.size);
        }
        await this.integrateLocked(batch, session, early ?? session?.existing ?? (await lookup()));
        return;
      } catch (e) {
        if (!(session && e instanceof KeylessError && e.code === 'LOG_STATE_CONFLICT' && attempt < 2)) throw e;
      } finally {
        await session?.release();
      }
    }
  }

  private async integrateLocked(batch: Pending[], session: WriteSession | undefined, existing: Map<string, number>): Promise<void> {
    const fresh: Pending[] = [];
    const inBatch = new Map<string, number>();
    const dupOfBatch: { p: Pending; first: number }[] = [];
    for (const p of batch) {
      const hex = p.leafHash.toString('hex');
      const old = existing.get(hex);
      if (old !== undefined) {
        p.resolve({ duplicate: true, index: old, leafHash: p.leafHash });
        continue;
      }
      const pos = inBatch.get(hex);
      if (pos !== undefined) {
        dupOfBatch.push({ p, first: pos });
        continue;
      }
      inBatch.set(hex, this.tree.size + fresh.length);
      fresh.push(p);
    }
    if (fresh.length === 0) return;
    const startIndex = this.tree.size;
    const integratedTime = Math.floor(Date.now() / 1000);
    const prepared = this.tree.prepareAppend(fresh.map((p) => p.leafHash));
    const rootHash = prepared.root;
    const timestamp = Date.now();
    const checkpoint: SignedTreeHead = {
      size: prepared.newSize,
      rootHash,
      timestamp,
      signed: this.signer({ size: prepared.newSize, rootHash, timestamp }),
    };
    const write = {
      startIndex,
      entries: fresh.map((p) => ({
        body: p.body,
        leafHash: p.leafHash,
        integratedTime,
        indexKeys: p.indexKeys,
        ...(p.extra ? { extra: p.extra } : {}),
      })),
      tiles: prepared.tiles,
      checkpoint,
    };
    await (session ? session.commit(write) : this.driver.commitBatch(this.record.id, write));
    prepared.install();
    this.latest = checkpoint;
    fresh.forEach((p, i) =>
      p.resolve({ duplicate: false, index: startIndex + i, leafHash: p.leafHash, integratedTime, checkpoint, batchSize: fresh.length }),
    );
    for (const d of dupOfBatch) d.p.resolve({ duplicate: true, index: d.first, leafHash: d.p.leafHash });
  }

  /**
   * Moves this process's view to a checkpoint another process integrated (inside a turn).
   * Tiles only grow by appending, so tiles read later than the checkpoint still hold its prefix.
   */
  private async catchUp(checkpoint: StoredCheckpoint): Promise<void> {
    const tiles = await this.driver.readTiles(this.record.id, TileTree.edgeRefs(checkpoint.size));
    this.catchUpTo(checkpoint, tiles, checkpoint.size);
  }

  /**
   * The same from a head the driver read under the write lock (`size`: the stored size);
   * an edge tile with `from` hashes left out continues this view's edge tile.
   */
  private catchUpTo(checkpoint: StoredCheckpoint, edgeTiles: EdgeTile[], size: number): void {
    if (checkpoint.size !== size) {
      throw new KeylessError('LOG_STATE_CONFLICT', `log ${this.name} has ${size} entries but its checkpoint covers ${checkpoint.size}`);
    }
    const tiles = edgeTiles.map((t) => (t.from ? { ...t, data: this.tree.continueEdge(t.level, t.index, t.from, t.data) } : t));
    this.tree = TileTree.fromStorage(checkpoint.size, tiles, this.tree);
    this.latest = checkpoint;
  }

  /** Under the write lock: the stored checkpoint must be the one for the stored size. */
  private async catchUpLocked(size: number): Promise<void> {
    const checkpoint = await this.driver.readCheckpoint(this.record.id);
    if (!checkpoint || checkpoint.size !== size) {
      throw new KeylessError(
        'LOG_STATE_CONFLICT',
        `log ${this.name} has ${size} entries but its checkpoint covers ${String(checkpoint?.size)}`,
      );
    }
    await this.catchUp(checkpoint);
  }

  private refreshing: Promise<void> | undefined;
  private nextRefresh: Promise<void> | undefined;
  private lastRefresh = 0;

  /**
   * On a shared driver, picks up what other processes integrated: reads the checkpoint
   * row and, when it is ahead, the edge tiles. Runs between batches, never during one.
   * `maxAgeMs`: skip when refreshed that recently (0: always look).
   */
  async refresh(maxAgeMs = 0): Promise<void> {
    if (!this.driver.shared || this.closed) return;
    if (Date.now() - this.lastRefresh < maxAgeMs) return;
    // A refresh already in flight may have read the checkpoint before the caller's writes
    // landed: callers arriving meanwhile share one more refresh after it, never the stale one.
    if (this.refreshing) {
      this.nextRefresh ??= this.refreshing
        .catch(() => {})
        .then(() => {
          this.nextRefresh = undefined;
          return this.refresh();
        });
      return this.nextRefresh;
    }
    this.refreshing = this.exclusive(async () => {
      const cp = await this.driver.readCheckpoint(this.record.id);
      if (cp && cp.size > this.tree.size) await this.catchUp(cp);
      this.lastRefresh = Date.now();
    }).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /**
   * Another process announced a commit up to `size`. An idle log looks at once; one that is
   * writing catches up under the lock with its next batch anyway.
   */
  noticeCommit(size: number): void {
    if (size > this.latest.size && !this.flushing && !this.scheduled && this.queue.length === 0) this.refresh().catch(() => {});
  }

  /** Reads that name an index or size beyond what this process has seen look again first. */
  private async refreshFor(size: number): Promise<void> {
    if (this.driver.shared && size > this.latest.size) await this.refresh();
  }

  /** Runs a proof computation, fetching any tile not in memory and retrying. */
  private async withReader<T>(fn: (read: PerfectNodeReader) => T): Promise<T> {
    // Fast path: proofs for fresh entries (every append's answer) touch only tiles in
    // memory, so try once without the recording wrapper and its per-call allocations.
    try {
      return fn(this.tree.reader);
    } catch (e) {
      if (!(e instanceof TileMiss)) throw e;
    }
    for (let attempt = 0; attempt < 8; attempt++) {
      const misses = new Map<string, { level: number; index: number }>();
      const recording: PerfectNodeReader = (level, index) => {
        try {
          return this.tree.reader(level, index);
        } catch (e) {
          if (e instanceof TileMiss) {
            misses.set(`${e.level}/${e.index}`, { level: e.level, index: e.index });
            return ZERO_HASH;
          }
          throw e;
        }
      };
      const result = fn(recording);
      if (misses.size === 0) return result;
      this.tree.addTiles(await this.driver.readTiles(this.record.id, [...misses.values()]));
    }
    throw new KeylessError('LOG_TILE_MISSING', `tiles needed for a proof are missing from log ${this.name}`);
  }

  private checkSize(size: number, field: string): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.latest.size) {
      throw new KeylessError('LOG_SIZE_OUT_OF_RANGE', `${field} ${size} is outside the tree (size ${this.latest.size})`, { check: field });
    }
  }

  /** Audit path for `index` in the tree of `size` leaves (default: the latest checkpoint). */
  async inclusionProof(index: number, size = this.latest.size): Promise<Buffer[]> {
    await this.refreshFor(Math.max(size, index + 1));
    this.checkSize(size, 'treeSize');
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new KeylessError('LOG_INDEX_OUT_OF_RANGE', `index ${index} is not in the tree of size ${size}`, { check: 'logIndex' });
    }
    return this.withReader((read) => inclusionProof(read, index, size).map((h) => Buffer.from(h)));
  }

  async consistencyProof(size1: number, size2 = this.latest.size): Promise<Buffer[]> {
    await this.refreshFor(size2);
    this.checkSize(size2, 'lastSize');
    if (!Number.isSafeInteger(size1) || size1 < 0 || size1 > size2) {
      throw new KeylessError('LOG_SIZE_OUT_OF_RANGE', `firstSize ${size1} is not between 0 and ${size2}`, { check: 'firstSize' });
    }
    return this.withReader((read) => consistencyProof(read, size1, size2).map((h) => Buffer.from(h)));
  }

  async rootHash(size = this.latest.size): Promise<Buffer> {
    await this.refreshFor(size);
    this.checkSize(size, 'treeSize');
    if (size === 0) return emptyRoot();
    return this.withReader((read) => Buffer.from(treeRoot(read, size)));
  }

  async getEntry(index: number): Promise<StoredEntry | undefined> {
    if (Number.isSafeInteger(index)) await this.refreshFor(index + 1);
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.latest.size) return undefined;
    return (await this.driver.readEntries(this.record.id, index, 1))[0];
  }

  /** Entries [start, start + count) of the published tree (fewer at its end). */
  async getEntries(start: number, count: number): Promise<StoredEntry[]> {
    if (!Number.isSafeInteger(start) || start < 0 || start >= this.latest.size || count < 1) return [];
    return this.driver.readEntries(this.record.id, start, Math.min(count, this.latest.size - start));
  }

  async findByLeafHash(hash: Buffer): Promise<number | undefined> {
    const idx = (await this.driver.findLeaves(this.record.id, [hash])).get(hash.toString('hex'));
    if (idx !== undefined) await this.refreshFor(idx + 1);
    return idx !== undefined && idx < this.latest.size ? idx : undefined;
  }

  async search(keys: readonly string[], operator: 'and' | 'or' = 'or', limit = 1000): Promise<number[]> {
    const found = await this.driver.search(this.record.id, keys.map(searchKey), operator, limit);
    if (found.length > 0) await this.refreshFor(Math.max(...found) + 1);
    return found.filter((i) => i < this.latest.size);
  }

  /**
   * Adds the keys `keysOf` derives to every entry stored so far, in pages, then records
   * `version`. Idempotent (keys already there are kept), so an interrupted run is simply
   * repeated at the next start; entries appended meanwhile carry their keys already.
   */
  async reindex(version: number, keysOf: (body: Buffer) => string[], page = 5000): Promise<number> {
    const size = this.latest.size;
    for (let start = 0; start < size; start += page) {
      const entries = await this.driver.readEntries(this.record.id, start, Math.min(page, size - start));
      await this.driver.addSearchKeys(
        this.record.id,
        entries.map((e) => ({ index: e.index, keys: keysOf(e.body).map(searchKey) })),
      );
    }
    await this.driver.setIndexVersion(this.record.id, version);
    return size;
  }

  /** A hash tile for the tlog-tiles API: full (width 256) or the first `width` hashes. */
  async readTile(level: number, index: number, width = TILE_WIDTH): Promise<Buffer | undefined> {
    if (this.driver.shared && width > this.tileWidthAvailable(level, index)) await this.refresh();
    const available = this.tileWidthAvailable(level, index);
    if (width > available) return undefined;
    const [t] = await this.driver.readTiles(this.record.id, [{ level, index }]);
    if (!t || t.data.length < width * HASH_SIZE) return undefined;
    return t.data.subarray(0, width * HASH_SIZE);
  }

  /** An entry bundle for the tlog-tiles API. */
  async readEntryBundle(index: number, width = TILE_WIDTH): Promise<Buffer | undefined> {
    if (this.driver.shared && width > this.tileWidthAvailable(0, index)) await this.refresh();
    if (width > this.tileWidthAvailable(0, index)) return undefined;
    const entries = await this.driver.readEntries(this.record.id, index * TILE_WIDTH, width);
    if (entries.length !== width) return undefined;
    return encodeEntryBundle(entries.map((e) => e.body));
  }

  /** How many hashes tile (level, index) holds in the published tree. */
  private tileWidthAvailable(level: number, index: number): number {
    if (!Number.isSafeInteger(index) || index < 0 || level < 0 || level > 63) return 0;
    const hashesAtLevel = Math.floor(this.latest.size / TILE_WIDTH ** level);
    return Math.max(0, Math.min(TILE_WIDTH, hashesAtLevel - index * TILE_WIDTH));
  }

  /** Stops accepting appends and waits for the queue to drain. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing || this.scheduled || this.queue.length > 0) await new Promise((r) => setTimeout(r, 2));
  }
}

const ZERO_HASH = new Uint8Array(HASH_SIZE);
