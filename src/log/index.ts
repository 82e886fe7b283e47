export type {
  StorageDriver,
  LogRecord,
  StoredEntry,
  StoredCheckpoint,
  TileRecord,
  BatchEntry,
  BatchWrite,
  WriteSession,
} from './driver.js';
export { PostgresDriver, MIGRATIONS, type PostgresDriverOptions } from './postgres.js';
export { SqliteDriver, type SqliteDriverOptions } from './sqlite.js';
export { LogEngine, type OpenLogOptions } from './engine.js';
export {
  TransparencyLog,
  noteCheckpointSigner,
  searchKey,
  type CheckpointSigner,
  type AppendOptions,
  type AppendResult,
  type SignedTreeHead,
  type LogOptions,
} from './log.js';
export { copySqliteLogsToPostgres, type MigratedLog } from './migrate.js';
