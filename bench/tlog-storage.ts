// Storage per entry against the raw canonical body size:
// node --import tsx bench/tlog-storage.ts DATA_DIR
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';

export function measureStorage(dir: string): { entries: number; bodyBytes: number; fileBytes: number; ratio: number } {
  const path = join(dir, 'log.db');
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const row = db.prepare('SELECT count(*) AS n, sum(length(body)) AS bytes FROM entries').get() as { n: number; bytes: number };
  db.close();
  const fileBytes = statSync(path).size;
  return { entries: row.n, bodyBytes: row.bytes, fileBytes, ratio: fileBytes / row.bytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: tlog-storage.ts DATA_DIR');
  const m = measureStorage(dir);
  console.log(
    `${m.entries} entries, canonical bodies ${(m.bodyBytes / 1e6).toFixed(1)} MB (${(m.bodyBytes / m.entries).toFixed(0)} B/entry), database ${(m.fileBytes / 1e6).toFixed(1)} MB (${(m.fileBytes / m.entries).toFixed(0)} B/entry): ${m.ratio.toFixed(2)}x`,
  );
}
