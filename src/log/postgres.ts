import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { KeylessError } from '../core/errors.js';
import { HASH_SIZE, TILE_WIDTH } from '../merkle/index.js';
import type { BatchWrite, EdgeTile, LogRecord, StorageDriver, StoredCheckpoint, StoredEntry, TileRecord, WriteSession } from './driver.js';

/** Bytes in a full tile (256 hashes). */
const TILE_BYTES = TILE_WIDTH * HASH_SIZE;
/** SQLSTATE raised by keyless_check(). */
const CHECK_FAILED = 'KL001';
/** The channel on which every commit announces `<log id>:<new size>` (a wake-up hint for other frontends). */
const CHANNEL = 'keyless_log';

/**
 * Versioned schema. Each step runs once, in order, in one transaction with the version
 * bump; a database whose version is newer than the last step here is refused (an older
 * binary must not write a newer layout).
 */
export const MIGRATIONS: readonly string[] = [
  // 1: logs, entries by (log, index), leaf and search indexes, tiles, one checkpoint row per log.
  `CREATE TABLE logs (id serial PRIMARY KEY, name text NOT NULL UNIQUE, origin text NOT NULL, tree_id text NOT NULL,
     size bigint NOT NULL DEFAULT 0, created_at bigint NOT NULL);
   CREATE TABLE entries (log_id int NOT NULL, idx bigint NOT NULL, body bytea NOT NULL, integrated_time bigint NOT NULL,
     PRIMARY KEY (log_id, idx));
   CREATE TABLE leaves (log_id int NOT NULL, leaf_hash bytea NOT NULL, idx bigint NOT NULL, PRIMARY KEY (log_id, leaf_hash));
   CREATE TABLE tiles (log_id int NOT NULL, level int NOT NULL, idx bigint NOT NULL, data bytea NOT NULL,
     PRIMARY KEY (log_id, level, idx));
   CREATE TABLE checkpoints (log_id int PRIMARY KEY, size bigint NOT NULL, root_hash bytea NOT NULL, signed text NOT NULL,
     timestamp bigint NOT NULL);
   CREATE TABLE search (log_id int NOT NULL, key bytea NOT NULL, idx bigint NOT NULL, PRIMARY KEY (log_id, key, idx));`,
  // 2: the version of the search keys a log's entries carry. Logs that derive their keys from
  // the entry body (the CT log) re-index their stored entries on start when it is behind.
  `ALTER TABLE logs ADD COLUMN index_version int NOT NULL DEFAULT 0;`,
  // 3: write-once tile rows. \`tiles\` keeps only full tiles (inserted once, never updated: a
  // reader may cache them forever); the right edge of each tile level lives in
  // \`partial_tiles\`, one row per level replaced by every batch, so a writer reads the
  // whole edge with one query under the lock. keyless_check() aborts a statement whose
  // integrity condition fails (size compare-and-set, a full tile that differs).
  `CREATE TABLE partial_tiles (log_id int NOT NULL, level int NOT NULL, idx bigint NOT NULL, data bytea NOT NULL,
     PRIMARY KEY (log_id, level));
   INSERT INTO partial_tiles (log_id, level, idx, data)
     SELECT DISTINCT ON (log_id, level) log_id, level, idx, data FROM tiles WHERE length(data) < ${TILE_BYTES}
     ORDER BY log_id, level, idx DESC;
   DELETE FROM tiles WHERE length(data) < ${TILE_BYTES};
   CREATE FUNCTION keyless_check(ok boolean, message text) RETURNS boolean LANGUAGE plpgsql AS $$
   BEGIN
     IF ok IS NOT TRUE THEN RAISE EXCEPTION '%', message USING ERRCODE = '${CHECK_FAILED}'; END IF;
     RETURN true;
   END $$;`,
  // 4: data kept with an entry outside its leaf (a CT entry's chain: RFC 6962 extra_data).
  `CREATE TABLE entry_extra (log_id int NOT NULL, idx bigint NOT NULL, data bytea NOT NULL, PRIMARY KEY (log_id, idx));`,
];

/** Any constant: the advisory lock that serialises schema migration across starting frontends. */
const MIGRATION_LOCK = 0x6b65796c;

export interface PostgresDriverOptions {
  /** `postgres://USER@HOST:PORT/DB` (pg's connection string, incl. `sslmode`). */
  connectionString: string;
  password?: string;
  /** TLS options handed to pg (CA, client certificate); `false` disables TLS. */
  ssl?: pg.PoolConfig['ssl'];
  /** Connections in this process's pool (default 10). */
  poolSize?: number;
  /** Schema steps (tests pass a prefix to build an older database). */
  migrations?: readonly string[];
  /**
   * LISTEN for commits of other processes (default true). Off behind a transaction-pooling
   * proxy, where LISTEN cannot work; the poll alone then finds them.
   */
  listen?: boolean;
}

/** SQLSTATE classes and socket errors that mean "the database is not there right now". */
function isUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string') return /Connection terminated|not queryable|timeout/i.test(String((e as Error)?.message));
  return (
    code.startsWith('08') || code.startsWith('57P') || code === '53300' || code.startsWith('E') || code === '40001' || code === '40P01'
  );
}

/** Database failures as typed errors: unreachable → LOG_STORAGE_UNAVAILABLE (a 503), anything else → LOG_WRITE_FAILED. */
function storageError(e: unknown): unknown {
  if (e instanceof KeylessError) return e;
  const code = (e as { code?: unknown })?.code;
  if (code === CHECK_FAILED) return new KeylessError('LOG_STATE_CONFLICT', (e as Error).message);
  if (code === '23505')
    return new KeylessError('LOG_STATE_CONFLICT', `another writer stored one of these entries meanwhile: ${(e as Error).message}`);
  if (isUnavailable(e))
    return new KeylessError('LOG_STORAGE_UNAVAILABLE', `the log database is unavailable: ${(e as Error)?.message ?? String(e)}`);
  return new KeylessError('LOG_WRITE_FAILED', `log database error: ${(e as Error)?.message ?? String(e)}`);
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw storageError(e);
  }
}

interface LogRow {
  id: number;
  name: string;
  origin: string;
  tree_id: string;
  size: string;
  created_at: string;
  /** Absent before schema step 2 (a database built with fewer migrations, in tests). */
  index_version?: number;
}

interface CheckpointRow {
  size: string;
  root_hash: Buffer;
  signed: string;
  timestamp: string;
}

interface TileRow {
  level: number;
  idx: string;
  data: Buffer;
}

const toCheckpoint = (r: CheckpointRow): StoredCheckpoint => ({
  size: Number(r.size),
  rootHash: r.root_hash,
  signed: r.signed,
  timestamp: Number(r.timestamp),
});

const toTile = (r: TileRow): TileRecord => ({ level: r.level, index: Number(r.idx), data: r.data });

function toRecord(r: LogRow): LogRecord {
  return {
    id: r.id,
    name: r.name,
    origin: r.origin,
    treeId: r.tree_id,
    size: Number(r.size),
    createdAt: Number(r.created_at),
    indexVersion: r.index_version ?? 0,
  };
}

/** A random positive 63-bit tree ID, as Trillian assigns. */
function newTreeId(): string {
  const v = randomBytes(8).readBigUInt64BE() & 0x7fffffffffffffffn;
  return (v === 0n ? 1n : v).toString();
}

/** `E'\\x…'`: a bytea literal in hex (valid whatever standard_conforming_strings says). */
const bytea = (b: Buffer): string => `E'\\\\x${b.toString('hex')}'`;
const byteaArray = (list: readonly Buffer[]): string => `ARRAY[${list.map(bytea).join(',')}]::bytea[]`;
const intArray = (list: readonly number[], type: 'int' | 'bigint'): string => {
  for (const n of list) if (!Number.isSafeInteger(n)) throw new KeylessError('LOG_WRITE_FAILED', `not an integer: ${n}`);
  return `ARRAY[${list.join(',')}]::${type}[]`;
};

/**
 * Everything one batch writes, in one statement (data-modifying CTEs), followed by the
 * NOTIFY hint and COMMIT in the same simple-protocol message: with the lock taken by the
 * previous round trip, the lock is held for two round trips per batch. The values are
 * inlined as literals (hex for bytes, pg's escaping for text) because the extended protocol
 * cannot carry COMMIT in the same round trip. keyless_check() turns a failed compare-and-set
 * or a full tile that differs from the stored one into an error, which aborts the
 * transaction (COMMIT is then never reached).
 */
function writeBatchSql(logId: number, size: number, batch: BatchWrite): string {
  const keys: Buffer[] = [];
  const keyIdx: number[] = [];
  batch.entries.forEach((e, i) => {
    for (const k of e.indexKeys) {
      keys.push(k);
      keyIdx.push(batch.startIndex + i);
    }
  });
  const extras = batch.entries.flatMap((e, i) => (e.extra ? [{ index: batch.startIndex + i, data: e.extra }] : []));
  const full = batch.tiles.filter((t) => t.data.length === TILE_BYTES);
  const partial = batch.tiles.filter((t) => t.data.length < TILE_BYTES);
  const cp = batch.checkpoint;
  intArray([logId, size, batch.startIndex, cp.size, cp.timestamp], 'bigint'); // only integers are inlined
  const id = String(logId);
  const statement = `
WITH e AS (
  INSERT INTO entries (log_id, idx, body, integrated_time)
  SELECT ${id}, ${batch.startIndex} + u.ord - 1, u.body, u.t
  FROM unnest(${byteaArray(batch.entries.map((e) => e.body))}, ${intArray(
    batch.entries.map((e) => e.integratedTime),
    'bigint',
  )}) WITH ORDINALITY AS u(body, t, ord)),
l AS (
  INSERT INTO leaves (log_id, leaf_hash, idx)
  SELECT ${id}, u.h, ${batch.startIndex} + u.ord - 1 FROM unnest(${byteaArray(batch.entries.map((e) => e.leafHash))}) WITH ORDINALITY AS u(h, ord)),
s AS (
  INSERT INTO search (log_id, key, idx) SELECT ${id}, u.k, u.i FROM unnest(${byteaArray(keys)}, ${intArray(keyIdx, 'bigint')}) AS u(k, i)
  ON CONFLICT DO NOTHING),${
    extras.length
      ? `
x AS (
  INSERT INTO entry_extra (log_id, idx, data) SELECT ${id}, u.i, u.d FROM unnest(${intArray(
    extras.map((x) => x.index),
    'bigint',
  )}, ${byteaArray(extras.map((x) => x.data))}) AS u(i, d)),`
      : ''
  }
f AS (SELECT * FROM unnest(${intArray(
    full.map((t) => t.level),
    'int',
  )}, ${intArray(
    full.map((t) => t.index),
    'bigint',
  )}, ${byteaArray(full.map((t) => t.data))}) AS u(lv, ix, d)),
t AS (
  INSERT INTO tiles (log_id, level, idx, data) SELECT ${id}, lv, ix, d FROM f ON CONFLICT (log_id, level, idx) DO NOTHING),
p AS (
  INSERT INTO partial_tiles (log_id, level, idx, data)
  SELECT ${id}, u.lv, u.ix, u.d FROM unnest(${intArray(
    partial.map((t) => t.level),
    'int',
  )}, ${intArray(
    partial.map((t) => t.index),
    'bigint',
  )}, ${byteaArray(partial.map((t) => t.data))}) AS u(lv, ix, d)
  ON CONFLICT (log_id, level) DO UPDATE SET idx = excluded.idx, data = excluded.data),
c AS (
  INSERT INTO checkpoints (log_id, size, root_hash, signed, timestamp)
  VALUES (${id}, ${cp.size}, ${bytea(cp.rootHash)}, ${pg.escapeLiteral(cp.signed)}, ${cp.timestamp})
  ON CONFLICT (log_id) DO UPDATE SET size = excluded.size, root_hash = excluded.root_hash, signed = excluded.signed, timestamp = excluded.timestamp),
z AS (UPDATE logs SET size = ${cp.size} WHERE id = ${id} AND size = ${size} RETURNING id)
SELECT keyless_check((SELECT count(*) FROM z) = 1, 'log ${id} changed size under the write lock'),
  keyless_check(NOT EXISTS (SELECT 1 FROM tiles x JOIN f ON x.log_id = ${id} AND x.level = f.lv AND x.idx = f.ix WHERE x.data <> f.d),
    'a full tile of log ${id} is already stored with different hashes')`;
  return `${statement};\nSELECT pg_notify('${CHANNEL}', '${id}:${cp.size}');\nCOMMIT`;
}

/**
 * The log engine on PostgreSQL, shared by any number of `keyless serve` processes. Each
 * batch is integrated under the log row's lock (`SELECT … FOR UPDATE`): the writer sees
 * the stored size, catches up if another process wrote since, and writes entries, tiles,
 * the checkpoint and the new size in the same transaction (a compare-and-set on size),
 * so indices stay dense and a committed batch is durable with its checkpoint.
 */
export class PostgresDriver implements StorageDriver {
  readonly shared = true;
  private listener: pg.Client | undefined;
  private watchers: ((logId: number, size: number) => void)[] = [];
  private closed = false;
  private constructor(
    private readonly pool: pg.Pool,
    private readonly clientConfig: pg.ClientConfig,
    private readonly listens: boolean,
  ) {}

  static async open(options: PostgresDriverOptions): Promise<PostgresDriver> {
    const clientConfig: pg.ClientConfig = {
      connectionString: options.connectionString,
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.ssl !== undefined ? { ssl: options.ssl } : {}),
      connectionTimeoutMillis: 5000,
    };
    const pool = new pg.Pool({ ...clientConfig, max: options.poolSize ?? 10 });
    // An idle connection dropped by a restarting server must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    // The same for a connection that is checked out but between queries (e.g. holding the write lock):
    // the query in flight or the next one fails with the error instead.
    pool.on('connect', (client) => client.on('error', () => {}));
    const driver = new PostgresDriver(pool, clientConfig, options.listen ?? true);
    try {
      await driver.migrate(options.migrations ?? MIGRATIONS);
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
    return driver;
  }

  /** The schema version this database is at (0 for an empty one). */
  async schemaVersion(): Promise<number> {
    return guarded(async () => {
      const r = await this.pool
        .query<{ version: number }>(`SELECT version FROM keyless_schema WHERE id = 0`)
        .catch((e: { code?: string }) => {
          if (e.code === '42P01') return { rows: [] };
          throw e;
        });
      return r.rows[0]?.version ?? 0;
    });
  }

  private async migrate(steps: readonly string[]): Promise<void> {
    await guarded(async () => {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await client.query('CREATE TABLE IF NOT EXISTS keyless_schema (id int PRIMARY KEY CHECK (id = 0), version int NOT NULL)');
        const r = await client.query<{ version: number }>('SELECT version FROM keyless_schema WHERE id = 0');
        const version = r.rows[0]?.version ?? 0;
        if (version > steps.length) {
          throw new KeylessError(
            'LOG_SCHEMA_TOO_NEW',
            `the log database has schema version ${version}, newer than this Keyless knows (${steps.length}); upgrade Keyless`,
          );
        }
        for (let v = version; v < steps.length; v++) await client.query(steps[v]!);
        await client.query(
          'INSERT INTO keyless_schema (id, version) VALUES (0, $1) ON CONFLICT (id) DO UPDATE SET version = excluded.version',
          [steps.length],
        );
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    });
  }

  /** Runs `fn` in one transaction on one connection (bulk copies such as the migration from SQLite). */
  async transaction<T>(
    fn: (query: <R extends pg.QueryResultRow>(text: string, params?: unknown[]) => Promise<R[]>) => Promise<T>,
  ): Promise<T> {
    return guarded(async () => {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(
          async <R extends pg.QueryResultRow>(text: string, params?: unknown[]) => (await client.query<R>(text, params)).rows,
        );
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    });
  }

  async ensureLog(name: string, origin: (treeId: string) => string): Promise<LogRecord> {
    return guarded(async () => {
      const found = await this.pool.query<LogRow>('SELECT * FROM logs WHERE name = $1', [name]);
      if (found.rows[0]) return toRecord(found.rows[0]);
      const treeId = newTreeId();
      // Frontends starting together: the first insert wins, the others read its row.
      await this.pool.query(
        'INSERT INTO logs (name, origin, tree_id, size, created_at) VALUES ($1, $2, $3, 0, $4) ON CONFLICT (name) DO NOTHING',
        [name, origin(treeId), treeId, Date.now()],
      );
      const r = await this.pool.query<LogRow>('SELECT * FROM logs WHERE name = $1', [name]);
      return toRecord(r.rows[0]!);
    });
  }

  async listLogs(): Promise<LogRecord[]> {
    return guarded(async () => (await this.pool.query<LogRow>('SELECT * FROM logs ORDER BY id')).rows.map(toRecord));
  }

  async beginWrite(logId: number, knownSize?: number, leafHashes?: readonly Buffer[]): Promise<WriteSession> {
    intArray([logId, knownSize ?? -1], 'bigint');
    // The writer's edge tile per level at `knownSize` and the hashes it holds of it: only the rest is read.
    const known: { level: number; index: number; from: number }[] = [];
    for (let level = 0, span = 1; knownSize !== undefined && span <= knownSize; level++, span *= TILE_WIDTH) {
      known.push({ level, index: Math.floor(knownSize / (span * TILE_WIDTH)), from: Math.floor(knownSize / span) % TILE_WIDTH });
    }
    const client = await guarded(() => this.pool.connect());
    let open = true;
    const end = async (sql: 'COMMIT' | 'ROLLBACK' | undefined): Promise<void> => {
      if (!open) return;
      open = false;
      try {
        if (sql) await client.query(sql);
        client.release();
      } catch (e) {
        // A connection that failed mid-transaction is not reused.
        client.release(e as Error);
        throw e;
      }
    };
    let size: number;
    let head: WriteSession['head'];
    let existing: Map<string, number> | undefined;
    try {
      // One round trip: the lock, the stored head when it is not the writer's view (edge
      // tiles without the prefix the writer holds), and the batch's leaves already stored.
      const behind = `l.id = ${logId} AND l.size <> ${knownSize ?? -1}`;
      const lookup = leafHashes
        ? `;\n SELECT leaf_hash, idx FROM leaves WHERE log_id = ${logId} AND leaf_hash = ANY(${byteaArray(leafHashes)})`
        : '';
      const results = (await client.query(
        `BEGIN;
         SELECT size FROM logs WHERE id = ${logId} FOR UPDATE;
         SELECT c.size, c.root_hash, c.signed, c.timestamp FROM checkpoints c JOIN logs l ON l.id = c.log_id WHERE c.log_id = ${logId} AND ${behind};
         SELECT p.level, p.idx, coalesce(u.f, 0) AS from_hashes, substring(p.data FROM coalesce(u.f, 0) * ${HASH_SIZE} + 1) AS data
           FROM partial_tiles p JOIN logs l ON l.id = p.log_id
           LEFT JOIN unnest(${intArray(
             known.map((k) => k.level),
             'int',
           )}, ${intArray(
             known.map((k) => k.index),
             'bigint',
           )}, ${intArray(
             known.map((k) => k.from),
             'int',
           )}) AS u(lv, ix, f) ON u.lv = p.level AND u.ix = p.idx
           WHERE p.log_id = ${logId} AND ${behind}${lookup}`,
      )) as unknown as pg.QueryResult[];
      const row = results[1]!.rows[0] as { size: string } | undefined;
      if (!row) throw new KeylessError('LOG_STATE_CONFLICT', `log ${logId} does not exist`);
      size = Number(row.size);
      const cp = results[2]!.rows[0] as CheckpointRow | undefined;
      if (cp && size !== knownSize) {
        head = {
          checkpoint: toCheckpoint(cp),
          edgeTiles: (results[3]!.rows as (TileRow & { from_hashes: number })[]).map((r): EdgeTile => ({
            ...toTile(r),
            from: r.from_hashes,
          })),
        };
      }
      if (leafHashes) {
        existing = new Map();
        for (const r of results[4]!.rows as { leaf_hash: Buffer; idx: string }[]) existing.set(r.leaf_hash.toString('hex'), Number(r.idx));
      }
    } catch (e) {
      await end('ROLLBACK').catch(() => {});
      throw storageError(e);
    }
    return {
      size,
      ...(head ? { head } : {}),
      ...(existing ? { existing } : {}),
      commit: (batch) =>
        guarded(async () => {
          if (batch.startIndex !== size) {
            await end('ROLLBACK').catch(() => {});
            throw new KeylessError('LOG_STATE_CONFLICT', `batch starts at ${batch.startIndex} but the log has ${size} entries`);
          }
          try {
            await client.query(writeBatchSql(logId, size, batch));
            open = false;
            client.release();
          } catch (e) {
            await end('ROLLBACK').catch(() => {});
            throw e;
          }
        }),
      release: () => end('ROLLBACK').catch(() => {}),
    };
  }

  /** Single-writer path (tools, migration): one session per batch. */
  async commitBatch(logId: number, batch: BatchWrite): Promise<void> {
    const session = await this.beginWrite(logId);
    await session.commit(batch);
  }

  async readEntries(logId: number, start: number, count: number): Promise<StoredEntry[]> {
    return guarded(async () => {
      const r = await this.pool.query<{ idx: string; body: Buffer; integrated_time: string; extra: Buffer | null }>(
        `SELECT e.idx, e.body, e.integrated_time, x.data AS extra FROM entries e
           LEFT JOIN entry_extra x ON x.log_id = e.log_id AND x.idx = e.idx
         WHERE e.log_id = $1 AND e.idx >= $2 AND e.idx < $3 ORDER BY e.idx`,
        [logId, start, start + count],
      );
      return r.rows.map((row) => ({
        index: Number(row.idx),
        body: row.body,
        integratedTime: Number(row.integrated_time),
        ...(row.extra ? { extra: row.extra } : {}),
      }));
    });
  }

  async findLeaves(logId: number, leafHashes: readonly Buffer[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (leafHashes.length === 0) return out;
    return guarded(async () => {
      const r = await this.pool.query<{ leaf_hash: Buffer; idx: string }>(
        'SELECT leaf_hash, idx FROM leaves WHERE log_id = $1 AND leaf_hash = ANY($2::bytea[])',
        [logId, leafHashes],
      );
      for (const row of r.rows) out.set(row.leaf_hash.toString('hex'), Number(row.idx));
      return out;
    });
  }

  async readTiles(logId: number, refs: readonly { level: number; index: number }[]): Promise<TileRecord[]> {
    if (refs.length === 0) return [];
    return guarded(async () => {
      // A tile is full in \`tiles\` or the right edge in \`partial_tiles\`; a partial row left
      // behind when its tile completed is shorter, so the longest row wins.
      const r = await this.pool.query<TileRow>(
        `SELECT t.level, t.idx, t.data FROM tiles t JOIN unnest($2::int[], $3::bigint[]) AS u(lv, ix) ON t.level = u.lv AND t.idx = u.ix WHERE t.log_id = $1
         UNION ALL
         SELECT t.level, t.idx, t.data FROM partial_tiles t JOIN unnest($2::int[], $3::bigint[]) AS u(lv, ix) ON t.level = u.lv AND t.idx = u.ix WHERE t.log_id = $1`,
        [logId, refs.map((x) => x.level), refs.map((x) => x.index)],
      );
      const best = new Map<string, TileRecord>();
      for (const t of r.rows.map(toTile)) {
        const key = `${t.level}/${t.index}`;
        if ((best.get(key)?.data.length ?? -1) < t.data.length) best.set(key, t);
      }
      return [...best.values()];
    });
  }

  async readCheckpoint(logId: number, size?: number): Promise<StoredCheckpoint | undefined> {
    return guarded(async () => {
      const r = await this.pool.query<CheckpointRow>('SELECT size, root_hash, signed, timestamp FROM checkpoints WHERE log_id = $1', [
        logId,
      ]);
      const row = r.rows[0];
      if (!row || (size !== undefined && Number(row.size) !== size)) return undefined;
      return toCheckpoint(row);
    });
  }

  async search(logId: number, keys: readonly Buffer[], operator: 'and' | 'or', limit: number): Promise<number[]> {
    if (keys.length === 0) return [];
    const unique = [...new Map(keys.map((k) => [k.toString('hex'), k])).values()];
    return guarded(async () => {
      const sql =
        operator === 'or'
          ? 'SELECT DISTINCT idx FROM search WHERE log_id = $1 AND key = ANY($2::bytea[]) ORDER BY idx LIMIT $3'
          : 'SELECT idx FROM search WHERE log_id = $1 AND key = ANY($2::bytea[]) GROUP BY idx HAVING count(DISTINCT key) = $4 ORDER BY idx LIMIT $3';
      const params = operator === 'or' ? [logId, unique, limit] : [logId, unique, limit, unique.length];
      return (await this.pool.query<{ idx: string }>(sql, params)).rows.map((r) => Number(r.idx));
    });
  }

  async addSearchKeys(logId: number, rows: readonly { index: number; keys: readonly Buffer[] }[]): Promise<void> {
    const keys = rows.flatMap((r) => r.keys);
    if (keys.length === 0) return;
    const idx = rows.flatMap((r) => r.keys.map(() => r.index));
    await guarded(() =>
      this.pool.query('INSERT INTO search (log_id, key, idx) SELECT $1, * FROM unnest($2::bytea[], $3::bigint[]) ON CONFLICT DO NOTHING', [
        logId,
        keys,
        idx,
      ]),
    );
  }

  async setIndexVersion(logId: number, version: number): Promise<void> {
    // Never lowers it: a frontend of an older index version starting later must not undo this.
    await guarded(() => this.pool.query('UPDATE logs SET index_version = $2 WHERE id = $1 AND index_version < $2', [logId, version]));
  }

  async storageBytes(): Promise<number> {
    return guarded(async () =>
      Number((await this.pool.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]!.n),
    );
  }

  /**
   * LISTEN on one dedicated connection (a pooled one may be handed to a query; this does
   * not work through a transaction-pooling proxy, where polling alone remains). A lost
   * connection is re-opened after a second; notifications sent meanwhile are lost, which
   * the poll covers.
   */
  watch(listener: (logId: number, size: number) => void): void {
    if (!this.listens) return;
    this.watchers.push(listener);
    if (this.watchers.length === 1) void this.listen();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.clientConfig);
    this.listener = client;
    let retried = false;
    const retry = (): void => {
      if (retried || this.closed) return;
      retried = true;
      client.end().catch(() => {});
      setTimeout(() => void this.listen(), 1000).unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (m) => {
      const [id, size] = (m.payload ?? '').split(':').map(Number);
      if (m.channel !== CHANNEL || !Number.isSafeInteger(id) || !Number.isSafeInteger(size)) return;
      for (const w of this.watchers) w(id!, size!);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch {
      retry();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => {});
    await this.pool.end();
  }
}
