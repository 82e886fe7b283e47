// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test } from 'node:test';
import { softwareSigner } from '../../src/core/signer.js';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogEngine, copySqliteLogsToPostgres, noteCheckpointSigner, type TransparencyLog } from '../../src/log/index.js';
import { leafHash, verifyConsistency, verifyInclusion, verifySignedCheckpoint } from '../../src/merkle/index.js';
import { createTestDatabase, sql } from '../support/postgres.js';

const keys = generateKeyPairSync('ed25519');
const openLog = (engine: LogEngine, name: string) =>
  engine.openLog({
    name,
    origin: `${name}.log.test`,
    maxBatch: 50_000,
    signer: ({ origin }) => noteCheckpointSigner({ origin, keyName: origin, signer: softwareSigner(keys.privateKey) }),
  });
const body = (i: number): Buffer => Buffer.from(`{"entry":${i},"pad":"${'x'.repeat(i % 100)}"}`);
const N = 100_000;

test('storage migration: a SQLite instance with 100,000 entries copied into PostgreSQL keeps every entry, index, proof and checkpoint, and continues', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-migrate-'));
  const db = await createTestDatabase('migrate');
  try {
    // The source: two files like an instance's data directory (transparency logs, CT log).
    const sqlite = LogEngine.openSqlite(dir);
    const ctSqlite = LogEngine.openSqlite(dir, 'ct.db');
    const big = await openLog(sqlite, 'rekor-v2');
    for (let start = 0; start < N; start += 50_000) {
      await Promise.all(Array.from({ length: 50_000 }, (_, k) => big.append(body(start + k), { indexKeys: [`key${(start + k) % 1000}`] })));
    }
    const ct = await openLog(ctSqlite, 'ct');
    // The CT log keeps each entry's chain outside the leaf (get-entries extra_data); one entry has none.
    const chainOf = (i: number) => Buffer.from(`chain of ${i}`);
    await Promise.all([1, 2, 3].map((i) => ct.append(body(i), i === 2 ? {} : { extra: chainOf(i) })));
    const before = { big: big.latestCheckpoint(), ct: ct.latestCheckpoint() };
    const samples = [0, 1, 255, 256, 65_535, 65_536, 77_777, N - 1];
    const sampleProofs = await Promise.all(samples.map((i) => big.inclusionProof(i)));
    const searched = await big.search(['key7', 'key999'], 'or', 5000);
    await sqlite.close();
    await ctSqlite.close();

    const migrated = await copySqliteLogsToPostgres([join(dir, 'log.db'), join(dir, 'ct.db')], { connectionString: db.url });
    assert.deepEqual(
      migrated.map((m) => [m.name, m.size, m.checkpoint]),
      [
        ['rekor-v2', N, before.big.signed],
        ['ct', 3, before.ct.signed],
      ],
    );

    const pg = await LogEngine.openPostgres({ connectionString: db.url });
    try {
      const log: TransparencyLog = await openLog(pg, 'rekor-v2');
      assert.equal(log.size, N);
      assert.equal(log.latestCheckpoint().signed, before.big.signed, 'the same checkpoint');
      const cp = verifySignedCheckpoint(before.big.signed, 'rekor-v2.log.test', keys.publicKey);
      for (const [k, i] of samples.entries()) {
        assert.equal((await log.getEntry(i))?.body.toString(), body(i).toString());
        assert.deepEqual(await log.inclusionProof(i), sampleProofs[k]);
        verifyInclusion(i, N, leafHash(body(i)), sampleProofs[k]!, cp.rootHash);
      }
      assert.deepEqual(await log.search(['key7', 'key999'], 'or', 5000), searched);
      const ctMigrated = await openLog(pg, 'ct');
      assert.equal(ctMigrated.latestCheckpoint().signed, before.ct.signed);
      assert.deepEqual(
        (await ctMigrated.getEntries(0, 3)).map((e) => [e.body.toString(), e.extra?.toString()]),
        [1, 2, 3].map((i) => [body(i).toString(), i === 2 ? undefined : chainOf(i).toString()]),
      );
      // The log continues from there: the next entry is N, consistent with the migrated checkpoint.
      const next = await log.append(body(N + 5));
      assert.deepEqual([next.duplicate, next.index], [false, N]);
      const dup = await log.append(body(12_345));
      assert.deepEqual([dup.duplicate, dup.index], [true, 12_345], 'migrated leaf index answers duplicates');
      const now = verifySignedCheckpoint(log.latestCheckpoint().signed, 'rekor-v2.log.test', keys.publicKey);
      verifyConsistency(N, N + 1, await log.consistencyProof(N), cp.rootHash, now.rootHash);
      // Past the next tile boundary (the migrated edge tile is completed once, write-once), then a
      // second process that is behind catches up from the edge tiles read under the write lock.
      const other = await LogEngine.openPostgres({ connectionString: db.url, refreshMs: 0 });
      try {
        const behind = await openLog(other, 'rekor-v2');
        await Promise.all(Array.from({ length: 300 }, (_, k) => log.append(body(N + 10 + k))));
        const last = await behind.append(body(N + 400));
        assert.deepEqual([last.duplicate, last.index], [false, N + 301]);
        if (last.duplicate) throw new Error('unreachable');
        const end = verifySignedCheckpoint(last.checkpoint.signed, 'rekor-v2.log.test', keys.publicKey);
        verifyConsistency(N, N + 302, await log.consistencyProof(N, N + 302), cp.rootHash, end.rootHash);
        verifyInclusion(N + 301, N + 302, leafHash(body(N + 400)), await log.inclusionProof(N + 301, N + 302), end.rootHash);
        const [tiles] = await sql<{ short: string }>(db.url, 'SELECT count(*) AS short FROM tiles WHERE length(data) < 8192');
        assert.equal(Number(tiles!.short), 0, 'only full tiles in the write-once table');
      } finally {
        await other.close();
      }
    } finally {
      await pg.close();
    }

    // Into a database that already has these logs: refused, nothing written.
    await assert.rejects(copySqliteLogsToPostgres([join(dir, 'log.db')], { connectionString: db.url }), { code: 'LOG_MIGRATION_FAILED' });
    const [row] = await sql<{ n: string }>(db.url, 'SELECT count(*) AS n FROM entries');
    assert.equal(Number(row!.n), N + 302 + 3);
  } finally {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
