import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { KeylessError } from '../core/errors.js';
import { HASH_SIZE, TILE_WIDTH } from '../merkle/index.js';
import { PostgresDriver, type PostgresDriverOptions } from './postgres.js';
import type { LogRow } from './sqlite.js';

/** Entry rows in SQLite are keyed by (log id << 40) + index (see sqlite.ts). */
const INDEX_BITS = 2 ** 40;
/** Rows per INSERT … unnest: large enough to amortise the round trip, small enough for memory. */
const CHUNK = 5000;

export interface MigratedLog {
  name: string;
  size: number;
  /** The latest checkpoint's text, identical before and after. */
  checkpoint: string | undefined;
}

/**
 * Copies logs kept in SQLite files (an instance's `log.db` and `ct.db`) into a PostgreSQL
 * database, in one transaction: every log keeps its name, origin, tree ID, entries at
 * their indices, leaf and search indexes, tiles and latest checkpoint, so proofs and
 * checkpoints are what they were and the logs continue from there. A log that already
 * exists in the target is refused (nothing is written).
 */
export async function copySqliteLogsToPostgres(
  files: readonly string[],
  target: PostgresDriverOptions,
  progress?: (message: string) => void,
): Promise<MigratedLog[]> {
  for (const f of files) if (!existsSync(f)) throw new KeylessError('LOG_MIGRATION_FAILED', `no SQLite log database at ${f}`);
  // Creates (or checks) the schema first.
  const driver = await PostgresDriver.open(target);
  const out: MigratedLog[] = [];
  try {
    await driver.transaction(async (q) => {
      for (const file of files) {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        try {
          // SELECT *: files from before logs.index_version lack it (their CT log re-indexes on start).
          const logs = db.prepare('SELECT * FROM logs ORDER BY id').all() as LogRow[];
          for (const log of logs) {
            const exists = await q('SELECT 1 FROM logs WHERE name = $1', [log.name]);
            if (exists.length > 0)
              throw new KeylessError(
                'LOG_MIGRATION_FAILED',
                `the target database already has a log named ${log.name}; migrate into an empty database`,
              );
            const [row] = await q<{ id: number }>(
              'INSERT INTO logs (name, origin, tree_id, size, created_at, index_version) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
              [log.name, log.origin, log.tree_id, log.size, log.created_at, log.index_version ?? 0],
            );
            const to = row!.id;
            const base = log.id * INDEX_BITS;
            const copy = async <T>(label: string, rows: Iterable<T>, sql: string, columns: (batch: T[]) => unknown[]): Promise<number> => {
              let batch: T[] = [];
              let n = 0;
              const flush = async () => {
                if (batch.length === 0) return;
                await q(sql, [to, ...columns(batch)]);
                n += batch.length;
                batch = [];
              };
              for (const r of rows) {
                batch.push(r);
                if (batch.length >= CHUNK) await flush();
              }
              await flush();
              progress?.(`${log.name}: ${n} ${label}`);
              return n;
            };
            type Entry = { id: number; body: Buffer; integrated_time: number };
            const entries = await copy(
              'entries',
              db
                .prepare('SELECT id, body, integrated_time FROM entries WHERE id >= ? AND id < ? ORDER BY id')
                .iterate(base, base + INDEX_BITS) as Iterable<Entry>,
              'INSERT INTO entries (log_id, idx, body, integrated_time) SELECT $1, * FROM unnest($2::bigint[], $3::bytea[], $4::bigint[])',
              (b) => [b.map((e) => e.id - base), b.map((e) => e.body), b.map((e) => e.integrated_time)],
            );
            if (entries !== log.size)
              throw new KeylessError('LOG_MIGRATION_FAILED', `log ${log.name} has size ${log.size} but ${entries} entries in ${file}`);
            // Files from before entry_extra have none to copy.
            if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'entry_extra'").get()) {
              type Extra = { id: number; data: Buffer };
              await copy(
                'entry extra data',
                db
                  .prepare('SELECT id, data FROM entry_extra WHERE id >= ? AND id < ? ORDER BY id')
                  .iterate(base, base + INDEX_BITS) as Iterable<Extra>,
                'INSERT INTO entry_extra (log_id, idx, data) SELECT $1, * FROM unnest($2::bigint[], $3::bytea[])',
                (b) => [b.map((e) => e.id - base), b.map((e) => e.data)],
              );
            }
            type Leaf = { leaf_hash: Buffer; idx: number };
            await copy(
              'leaf hashes',
              db.prepare('SELECT leaf_hash, idx FROM leaves WHERE log_id = ?').iterate(log.id) as Iterable<Leaf>,
              'INSERT INTO leaves (log_id, leaf_hash, idx) SELECT $1, * FROM unnest($2::bytea[], $3::bigint[])',
              (b) => [b.map((e) => e.leaf_hash), b.map((e) => e.idx)],
            );
            type Key = { key: Buffer; idx: number };
            await copy(
              'search keys',
              db.prepare('SELECT key, idx FROM search WHERE log_id = ?').iterate(log.id) as Iterable<Key>,
              'INSERT INTO search (log_id, key, idx) SELECT $1, * FROM unnest($2::bytea[], $3::bigint[])',
              (b) => [b.map((e) => e.key), b.map((e) => e.idx)],
            );
            type Tile = { level: number; idx: number; data: Buffer };
            await copy(
              'tiles',
              db.prepare('SELECT level, idx, data FROM tiles WHERE log_id = ?').iterate(log.id) as Iterable<Tile>,
              'INSERT INTO tiles (log_id, level, idx, data) SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::bytea[])',
              (b) => [b.map((e) => e.level), b.map((e) => e.idx), b.map((e) => e.data)],
            );
            // SQLite grows the edge tiles in place; PostgreSQL keeps them apart from the write-once full tiles.
            await q(
              `WITH moved AS (DELETE FROM tiles WHERE log_id = $1 AND length(data) < $2 RETURNING level, idx, data)
               INSERT INTO partial_tiles (log_id, level, idx, data) SELECT DISTINCT ON (level) $1, level, idx, data FROM moved ORDER BY level, idx DESC`,
              [to, TILE_WIDTH * HASH_SIZE],
            );
            const cp = db
              .prepare('SELECT size, root_hash, signed, timestamp FROM checkpoints WHERE log_id = ? ORDER BY size DESC LIMIT 1')
              .get(log.id) as { size: number; root_hash: Buffer; signed: string; timestamp: number } | undefined;
            if (cp) {
              if (cp.size !== log.size)
                throw new KeylessError('LOG_MIGRATION_FAILED', `log ${log.name}: its checkpoint covers ${cp.size} of ${log.size} entries`);
              await q('INSERT INTO checkpoints (log_id, size, root_hash, signed, timestamp) VALUES ($1, $2, $3, $4, $5)', [
                to,
                cp.size,
                cp.root_hash,
                cp.signed,
                cp.timestamp,
              ]);
            }
            out.push({ name: log.name, size: log.size, checkpoint: cp?.signed });
          }
        } finally {
          db.close();
        }
      }
    });
  } finally {
    await driver.close();
  }
  return out;
}
