// The SQLite writer thread: one connection that commits groups of batches, so the WAL
// fsync never blocks the event loop. Same commit code as the in-thread path.
import Database from 'better-sqlite3';
import { workerData } from 'node:worker_threads';
import { serveRequests } from '../core/worker-rpc.js';
import { PRAGMAS, prepareCommit, unpackBatch, type CommitItem, type PackedBatch } from './sqlite-commit.js';

export type SqliteWriterRequest = { kind: 'commit'; items: CommitItem<PackedBatch>[] } | { kind: 'close' };
export interface SqliteWriterData {
  path: string;
}

const db = new Database((workerData as SqliteWriterData).path);
for (const p of PRAGMAS) db.pragma(p);
const commit = prepareCommit(db);

serveRequests<SqliteWriterRequest, null>(
  (req) => {
    if (req.kind === 'close') db.close();
    else commit(req.items.map((it) => ({ logId: it.logId, batch: unpackBatch(it.batch) })));
    return null;
  },
  { failureCode: 'LOG_WRITE_FAILED' },
);
