// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test } from 'node:test';
import { softwareSigner } from '../../src/core/signer.js';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { LogEngine, MIGRATIONS, PostgresDriver, noteCheckpointSigner, type AppendResult } from '../../src/log/index.js';
import { rootFromLeafHashes, verifyConsistency, verifyInclusion, verifySignedCheckpoint } from '../../src/merkle/index.js';
import { copyLogsAsSchema1, createTestDatabase, sql } from '../support/postgres.js';

const keys = generateKeyPairSync('ed25519');
const ORIGIN = 'pg.log.test';
const open = (engine: LogEngine) =>
  engine.openLog({
    name: 'v2',
    origin: ORIGIN,
    maxBatch: 50,
    signer: ({ origin }) => noteCheckpointSigner({ origin, keyName: origin, signer: softwareSigner(keys.privateKey) }),
  });
const body = (i: number): Buffer => Buffer.from(`entry ${i}`);

test('three engines on one database append concurrently: dense indices, each entry once, proofs to the latest checkpoint, duplicates across writers', async () => {
  const db = await createTestDatabase('writers');
  const engines = await Promise.all([1, 2, 3].map(() => LogEngine.openPostgres({ connectionString: db.url, refreshMs: 50 })));
  try {
    const logs = await Promise.all(engines.map(open));
    assert.equal(new Set(logs.map((l) => l.treeId)).size, 1, 'one tree whichever process created it');
    const served: string[] = [];
    const results: { i: number; r: AppendResult }[] = [];
    // Each writer appends its own entries in waves; every fifth entry is also sent to another writer.
    for (let wave = 0; wave < 6; wave++) {
      const work: Promise<void>[] = [];
      for (let w = 0; w < 3; w++) {
        for (let k = 0; k < 60; k++) {
          const i = wave * 1000 + w * 100 + k;
          work.push(logs[w]!.append(body(i)).then((r) => void results.push({ i, r })));
          if (k % 5 === 0) work.push(logs[(w + 1) % 3]!.append(body(i)).then((r) => void results.push({ i, r })));
        }
      }
      await Promise.all(work);
      for (const l of logs) served.push(l.latestCheckpoint().signed);
    }
    const fresh = results.filter((x) => !x.r.duplicate);
    const total = 6 * 3 * 60;
    assert.equal(fresh.length, total, 'every distinct entry integrated exactly once');
    const byIndex = new Map<number, number>();
    for (const { i, r } of fresh) {
      assert.ok(!byIndex.has(r.index), `index ${r.index} given twice`);
      byIndex.set(r.index, i);
    }
    assert.deepEqual(
      [...byIndex.keys()].sort((a, b) => a - b),
      Array.from({ length: total }, (_, k) => k),
      'dense indices',
    );
    for (const { i, r } of results.filter((x) => x.r.duplicate))
      assert.equal(byIndex.get(r.index), i, 'a duplicate gets the existing index');

    // Every writer's view catches up to the same tree; every entry is provable from any of them.
    await Promise.all(logs.map((l) => l.refresh()));
    const latest = logs[0]!.latestCheckpoint();
    for (const l of logs) assert.equal(l.latestCheckpoint().signed, latest.signed);
    assert.equal(latest.size, total);
    const leaves = Array.from({ length: total }, (_, k) => fresh.find((x) => x.r.index === k)!.r.leafHash);
    const cp = verifySignedCheckpoint(latest.signed, ORIGIN, keys.publicKey);
    assert.deepEqual(Buffer.from(cp.rootHash), rootFromLeafHashes(leaves));
    for (let k = 0; k < total; k += 37) {
      const reader = logs[k % 3]!;
      assert.equal((await reader.getEntry(k))?.body.toString(), body(byIndex.get(k)!).toString());
      verifyInclusion(k, cp.size, leaves[k]!, await reader.inclusionProof(k, cp.size), cp.rootHash);
    }
    // Every checkpoint handed out (with appends, or served) is consistent with the latest.
    const seen = new Set([...served, ...fresh.map((x) => (x.r.duplicate ? '' : x.r.checkpoint.signed))]);
    for (const signed of seen) {
      const old = verifySignedCheckpoint(signed, ORIGIN, keys.publicKey);
      verifyConsistency(old.size, cp.size, await logs[1]!.consistencyProof(old.size, cp.size), old.rootHash, cp.rootHash);
    }
    const [row] = await sql<{ n: string; max: string; leaves: string }>(
      db.url,
      'SELECT count(*) AS n, max(idx) AS max, (SELECT count(*) FROM leaves) AS leaves FROM entries',
    );
    assert.deepEqual([Number(row!.n), Number(row!.max), Number(row!.leaves)], [total, total - 1, total]);
  } finally {
    await Promise.all(engines.map((e) => e.close()));
    await db.drop();
  }
});

test('a reader process sees entries another process wrote as soon as it asks for them', async () => {
  const db = await createTestDatabase('reader');
  // Neither poll nor LISTEN: the reader learns of the write only by asking.
  const [a, b] = await Promise.all([1, 2].map(() => LogEngine.openPostgres({ connectionString: db.url, refreshMs: 0, listen: false })));
  try {
    const [writer, reader] = [await open(a!), await open(b!)];
    const r = await writer.append(body(1));
    assert.equal(reader.size, 0, 'no background refresh in this test');
    assert.equal((await reader.getEntry(r.index))?.body.toString(), 'entry 1');
    assert.equal(reader.size, 1);
    assert.equal(await reader.findByLeafHash(r.leafHash), 0);
    // A writer that is behind catches up under the lock and continues the same tree.
    const more = await Promise.all([writer.append(body(2)), reader.append(body(3)), reader.append(body(1))]);
    assert.deepEqual(
      more.map((m) => [m.duplicate, m.index]).sort(),
      [
        [false, 1],
        [false, 2],
        [true, 0],
      ].sort(),
    );
    await reader.refresh();
    assert.equal(reader.size, 3);
    assert.deepEqual(await reader.rootHash(), await writer.rootHash(3));
  } finally {
    await a!.close();
    await b!.close();
    await db.drop();
  }
});

test('appends arriving while the write lock is held join the waiting batch; a stored duplicate among them is found under the lock', async () => {
  const db = await createTestDatabase('late');
  const [a, b] = await Promise.all([1, 2].map(() => LogEngine.openPostgres({ connectionString: db.url, refreshMs: 0, listen: false })));
  const holder = await PostgresDriver.open({ connectionString: db.url });
  try {
    const [writer, other] = [await open(a!), await open(b!)];
    assert.equal((await other.append(body(1))).index, 0);
    // Another writer holds the lock: the writer's batch [entry 2] waits for it.
    const session = await holder.beginWrite(writer.record.id);
    const first = writer.append(body(2));
    for (;;) {
      const [w] = await sql<{ n: string }>(db.url, 'SELECT count(*) AS n FROM pg_locks WHERE NOT granted');
      if (Number(w!.n) > 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    // Arriving meanwhile: a duplicate of a stored entry, a new one, and that new one again.
    const late = [writer.append(body(1)), writer.append(body(3)), writer.append(body(3))];
    await session.release();
    const [r2, r1, r3, r3again] = (await Promise.all([first, ...late])) as [AppendResult, AppendResult, AppendResult, AppendResult];
    if (r2.duplicate || r3.duplicate) assert.fail('entries 2 and 3 are new');
    assert.deepEqual([r2.index, r3.index].sort(), [1, 2]);
    assert.equal(r2.batchSize, 2, 'the late entry joined the waiting batch');
    assert.equal(r3.checkpoint.signed, r2.checkpoint.signed);
    assert.deepEqual([r1.duplicate, r1.index], [true, 0]);
    assert.deepEqual([r3again.duplicate, r3again.index], [true, r3.index]);
    const [row] = await sql<{ n: string; size: string }>(db.url, 'SELECT count(*) AS n, (SELECT size FROM logs) AS size FROM entries');
    assert.deepEqual([Number(row!.n), Number(row!.size)], [3, 3], 'each entry once, dense');
  } finally {
    await holder.close();
    await a!.close();
    await b!.close();
    await db.drop();
  }
});

test('schema: an empty database is created, an older schema is migrated, a newer one is refused', async () => {
  const db = await createTestDatabase('schema');
  try {
    // An "older binary" knew only the first step; a newer one adds a step and migrates.
    const older = await PostgresDriver.open({ connectionString: db.url, migrations: MIGRATIONS });
    assert.equal(await older.schemaVersion(), MIGRATIONS.length);
    await older.close();
    const newer = [...MIGRATIONS, 'CREATE TABLE keyless_test_extra (id int)'];
    const upgraded = await PostgresDriver.open({ connectionString: db.url, migrations: newer });
    assert.equal(await upgraded.schemaVersion(), newer.length);
    await upgraded.close();
    assert.equal((await sql(db.url, "SELECT 1 FROM pg_tables WHERE tablename = 'keyless_test_extra'")).length, 1);
    // The current binary now faces a schema newer than it knows.
    await assert.rejects(LogEngine.openPostgres({ connectionString: db.url }), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'LOG_SCHEMA_TOO_NEW');
      assert.match(String(e.message), new RegExp(`version ${newer.length}, newer than this Keyless knows \\(${MIGRATIONS.length}\\)`));
      return true;
    });
  } finally {
    await db.drop();
  }
});

test('an unreachable database is LOG_STORAGE_UNAVAILABLE', async () => {
  // A port nothing listens on: bind one, then close it.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  await assert.rejects(LogEngine.openPostgres({ connectionString: `postgres://nobody@127.0.0.1:${port}/none` }), {
    code: 'LOG_STORAGE_UNAVAILABLE',
  });
});

test('a commit wakes the other processes (LISTEN/NOTIFY): their checkpoint moves without polling', async () => {
  const db = await createTestDatabase('notify');
  // Polling every hour: only the notification can explain a reader that moves on.
  const [a, b] = await Promise.all([1, 2].map(() => LogEngine.openPostgres({ connectionString: db.url, refreshMs: 3_600_000 })));
  try {
    const [writer, reader] = [await open(a!), await open(b!)];
    for (let round = 1; round <= 3; round++) {
      const r = await writer.append(body(round));
      assert.ok(!r.duplicate);
      // Nothing here asks the reader for the new entry (which would make it look): it is only watched.
      for (let i = 0; reader.size < r.checkpoint.size; i++) {
        if (i > 3000) assert.fail(`no notification reached the reader (size ${reader.size}, expected ${r.checkpoint.size})`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(reader.latestCheckpoint().signed, r.checkpoint.signed, 'the reader serves the writer’s checkpoint');
    }
  } finally {
    await a!.close();
    await b!.close();
    await db.drop();
  }
});

test('schema 1 → 3: grown edge tiles move to partial_tiles, full tiles stay, and the log continues', async () => {
  const source = await createTestDatabase('schema_src');
  const old = await createTestDatabase('schema_v1');
  try {
    // The same log as a binary before schema step 3 stored it: edge tiles grown in place in `tiles`.
    const engine = await LogEngine.openPostgres({ connectionString: source.url, refreshMs: 0 });
    const log = await open(engine);
    await Promise.all(Array.from({ length: 300 }, (_, i) => log.append(body(i))));
    const before = log.latestCheckpoint();
    await engine.close();
    const step1 = await PostgresDriver.open({ connectionString: old.url, migrations: MIGRATIONS.slice(0, 1) });
    await step1.close();
    await copyLogsAsSchema1(source.url, old.url);
    assert.equal((await sql(old.url, 'SELECT 1 FROM tiles WHERE length(data) < 8192')).length, 2, 'edge tiles of levels 0 and 1');

    const [x, y] = await Promise.all([1, 2].map(() => LogEngine.openPostgres({ connectionString: old.url, refreshMs: 0 })));
    try {
      const [first, second] = [await open(x!), await open(y!)];
      assert.equal(first.latestCheckpoint().signed, before.signed);
      const moved = await sql<{ level: number; idx: string; n: number }>(
        old.url,
        'SELECT level, idx, length(data) / 32 AS n FROM partial_tiles ORDER BY level',
      );
      assert.deepEqual(
        moved.map((r) => [r.level, Number(r.idx), r.n]),
        [
          [0, 1, 44],
          [1, 0, 1],
        ],
      );
      // Past the next tile boundary, from two processes: the one behind catches up under the lock.
      await Promise.all(Array.from({ length: 250 }, (_, i) => first.append(body(1000 + i))));
      const last = await second.append(body(5000));
      assert.ok(!last.duplicate && last.index === 550);
      const cp0 = verifySignedCheckpoint(before.signed, ORIGIN, keys.publicKey);
      const cp1 = verifySignedCheckpoint(last.checkpoint.signed, ORIGIN, keys.publicKey);
      verifyConsistency(300, 551, await first.consistencyProof(300, 551), cp0.rootHash, cp1.rootHash);
      assert.deepEqual(await first.rootHash(551), Buffer.from(cp1.rootHash));
      assert.equal((await sql(old.url, 'SELECT 1 FROM tiles WHERE length(data) < 8192')).length, 0);
    } finally {
      await x!.close();
      await y!.close();
    }
  } finally {
    await source.drop();
    await old.drop();
  }
});

test('a full tile is written once: a batch carrying different hashes for a stored tile is refused whole', async () => {
  const db = await createTestDatabase('tiles');
  const driver = await PostgresDriver.open({ connectionString: db.url });
  try {
    const log = await driver.ensureLog('t', () => 'tiles.test');
    const entry = (i: number) => ({ body: body(i), leafHash: Buffer.alloc(32, i), integratedTime: 1, indexKeys: [] });
    const checkpoint = (size: number) => ({ size, rootHash: Buffer.alloc(32), signed: `tiles.test\n${size}\n`, timestamp: 1 });
    const tile = (fill: number) => ({ level: 1, index: 0, data: Buffer.alloc(8192, fill) });
    let session = await driver.beginWrite(log.id, 0);
    await session.commit({ startIndex: 0, entries: [entry(0)], tiles: [tile(1)], checkpoint: checkpoint(1) });
    // The same tile again with the same bytes is accepted (a redone write); different bytes are an integrity failure.
    session = await driver.beginWrite(log.id, 1);
    await session.commit({ startIndex: 1, entries: [entry(1)], tiles: [tile(1)], checkpoint: checkpoint(2) });
    session = await driver.beginWrite(log.id, 2);
    await assert.rejects(session.commit({ startIndex: 2, entries: [entry(2)], tiles: [tile(2)], checkpoint: checkpoint(3) }), {
      code: 'LOG_STATE_CONFLICT',
      message: /already stored with different hashes/,
    });
    const [row] = await sql<{ size: string; entries: string; cp: string }>(
      db.url,
      'SELECT size, (SELECT count(*) FROM entries) AS entries, (SELECT size FROM checkpoints) AS cp FROM logs',
    );
    assert.deepEqual([Number(row!.size), Number(row!.entries), Number(row!.cp)], [2, 2, 2], 'nothing of the refused batch is stored');
    const [stored] = await driver.readTiles(log.id, [{ level: 1, index: 0 }]);
    assert.deepEqual(stored!.data, tile(1).data);
    // A writer whose view is behind is told under the lock where the log is.
    session = await driver.beginWrite(log.id, 0);
    assert.equal(session.size, 2);
    assert.equal(session.head?.checkpoint.size, 2);
    await session.release();
  } finally {
    await driver.close();
    await db.drop();
  }
});
