// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { softwareSigner } from '../../src/core/signer.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { LogEngine, noteCheckpointSigner } from '../../src/log/index.js';
import { createTestDatabase } from '../support/postgres.js';
import {
  leafHash,
  rootFromLeafHashes,
  verifyInclusion,
  verifyConsistency,
  verifySignedCheckpoint,
  decodeEntryBundle,
  splitTileHashes,
  fullTileRoot,
} from '../../src/merkle/index.js';

const keys = generateKeyPairSync('ed25519');
const ecKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function openV2(engine: LogEngine, name = 'v2') {
  return engine.openLog({
    name,
    origin: `${name}.log.test`,
    signer: ({ origin }) => noteCheckpointSigner({ origin, keyName: origin, signer: softwareSigner(keys.privateKey) }),
  });
}

/** A place to keep logs: a SQLite data directory or a fresh PostgreSQL database; `open` may be called again to reopen. */
interface Store {
  open(): Promise<LogEngine>;
  cleanup(): Promise<void>;
}
const backends: { name: string; create(): Promise<Store> }[] = [
  {
    name: 'sqlite',
    create: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'keyless-log-'));
      return { open: async () => LogEngine.openSqlite(dir), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    create: async () => {
      const db = await createTestDatabase('engine');
      return { open: () => LogEngine.openPostgres({ connectionString: db.url }), cleanup: () => db.drop() };
    },
  },
];

const body = (i: number): Buffer => Buffer.from(JSON.stringify({ entry: i, pad: 'x'.repeat(i % 50) }));

for (const backend of backends)
  test(`${backend.name}: concurrent appends are batched, durable, provable; a reopened engine continues the same tree`, async () => {
    const store = await backend.create();
    try {
      let engine = await store.open();
      let log = await openV2(engine);
      assert.equal(log.size, 0);
      const n1 = 700;
      const results = await Promise.all(Array.from({ length: n1 }, (_, i) => log.append(body(i), { indexKeys: [`k${i % 7}`] })));
      const indexes = results.map((r) => r.index).sort((a, b) => a - b);
      assert.deepEqual(
        indexes,
        Array.from({ length: n1 }, (_, i) => i),
      );
      const checkpoints = new Set(results.map((r) => (r.duplicate ? '' : r.checkpoint.signed)));
      assert.ok(checkpoints.size < n1, 'entries share checkpoints (batched)');
      // Every result's checkpoint verifies and covers the entry with a valid proof.
      const leaves: Buffer[] = [];
      for (const r of results) leaves[r.index] = r.leafHash;
      for (const r of results) {
        assert.equal(r.duplicate, false);
        if (r.duplicate) continue;
        const cp = verifySignedCheckpoint(r.checkpoint.signed, 'v2.log.test', keys.publicKey);
        assert.ok(cp.size > r.index);
        assert.deepEqual(Buffer.from(cp.rootHash), rootFromLeafHashes(leaves.slice(0, cp.size)));
        verifyInclusion(r.index, cp.size, r.leafHash, await log.inclusionProof(r.index, cp.size), cp.rootHash);
      }
      const cp1 = log.latestCheckpoint();
      // Duplicates resolve with the existing index, both across batches and inside one batch.
      const [d1, d2] = await Promise.all([log.append(body(5)), log.append(body(5))]);
      assert.deepEqual([d1.duplicate, d1.index, d2.duplicate, d2.index], [true, 5, true, 5]);
      const [x1, x2] = await Promise.all([log.append(body(100000)), log.append(body(100000))]);
      assert.equal(x1.duplicate, false);
      assert.deepEqual([x2.duplicate, x2.index], [true, x1.index]);
      leaves[x1.index] = x1.leafHash;
      assert.equal(log.size, n1 + 1);
      // Search index.
      const found = await log.search(['k3']);
      assert.deepEqual(
        found,
        results
          .filter((_, i) => i % 7 === 3)
          .map((r) => r.index)
          .sort((a, b) => a - b),
      );
      assert.deepEqual(await log.search(['k3', 'k4'], 'and'), []);
      await engine.close();

      engine = await store.open();
      log = await openV2(engine);
      assert.equal(log.size, n1 + 1);
      assert.equal(log.latestCheckpoint().signed.split('\n')[1], String(n1 + 1));
      const more = await Promise.all(Array.from({ length: 300 }, (_, i) => log.append(body(n1 + 10 + i))));
      for (const r of more) leaves[r.index] = r.leafHash;
      const size = log.size;
      assert.equal(size, n1 + 301);
      assert.deepEqual(await log.rootHash(), rootFromLeafHashes(leaves));
      // Consistency between an old checkpoint and the new one, and between many sizes.
      const cpNow = verifySignedCheckpoint(log.latestCheckpoint().signed, 'v2.log.test', keys.publicKey);
      verifyConsistency(cp1.size, cpNow.size, await log.consistencyProof(cp1.size), cp1.rootHash, cpNow.rootHash);
      for (const m of [1, 2, 255, 256, 257, 511, 512, 700]) {
        verifyConsistency(m, size, await log.consistencyProof(m), rootFromLeafHashes(leaves.slice(0, m)), cpNow.rootHash);
      }
      for (const i of [0, 1, 255, 256, 511, 700, size - 1]) {
        verifyInclusion(i, size, leaves[i]!, await log.inclusionProof(i), cpNow.rootHash);
      }
      // Tiles and entry bundles match the tree.
      const tile0 = await log.readTile(0, 0);
      assert.ok(tile0);
      assert.deepEqual(
        splitTileHashes(tile0).map((h) => Buffer.from(h)),
        leaves.slice(0, 256),
      );
      const tile1 = await log.readTile(1, 0, 3);
      assert.ok(tile1);
      assert.deepEqual(Buffer.from(splitTileHashes(tile1)[2]!), Buffer.from(fullTileRoot(leaves.slice(512, 768))));
      assert.equal(await log.readTile(1, 0, 5), undefined);
      const partial = await log.readTile(0, 3, size % 256);
      assert.ok(partial);
      assert.equal(await log.readTile(0, 3), undefined, 'full tile not yet available');
      const bundle = await log.readEntryBundle(1);
      assert.ok(bundle);
      assert.deepEqual(
        decodeEntryBundle(bundle).map((e) => leafHash(e)),
        leaves.slice(256, 512),
      );
      assert.equal((await log.getEntry(7))?.body.toString(), body(7).toString());
      assert.equal(await log.getEntry(size), undefined);
      await assert.rejects(log.inclusionProof(size), { code: 'LOG_INDEX_OUT_OF_RANGE' });
      await assert.rejects(log.consistencyProof(5, size + 1), { code: 'LOG_SIZE_OUT_OF_RANGE' });
      await engine.close();
    } finally {
      await store.cleanup();
    }
  });

for (const backend of backends)
  test(`${backend.name}: extra data kept with some entries is read back with them, after a reopen too, and never enters the tree`, async () => {
    const store = await backend.create();
    try {
      let engine = await store.open();
      let log = await openV2(engine, 'extra');
      // Every third entry carries extra data of its own size; the others none.
      const extraOf = (i: number) => (i % 3 === 0 ? Buffer.alloc(100 + i, i % 251) : undefined);
      const results = await Promise.all(
        Array.from({ length: 90 }, (_, i) => {
          const extra = extraOf(i);
          return log.append(body(i), extra ? { extra } : {});
        }),
      );
      // The leaves are the bodies alone.
      const leaves: Buffer[] = [];
      for (const r of results) leaves[r.index] = r.leafHash;
      assert.deepEqual(await log.rootHash(), rootFromLeafHashes(leaves));
      const check = async () => {
        const entries = await log.getEntries(0, 90);
        assert.equal(entries.length, 90);
        for (const e of entries) {
          const i = JSON.parse(e.body.toString()).entry as number;
          const want = extraOf(i);
          if (want) assert.ok(e.extra?.equals(want), `entry ${e.index} (body ${i})`);
          else assert.equal(e.extra, undefined, `entry ${e.index} (body ${i})`);
        }
      };
      await check();
      await engine.close();
      engine = await store.open();
      log = await openV2(engine, 'extra');
      await check();
      await engine.close();
    } finally {
      await store.cleanup();
    }
  });

test('the in-thread commit path (no writer thread) gives the same tree', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-log-'));
  try {
    const { SqliteDriver } = await import('../../src/log/index.js');
    const engine = LogEngine.withDriver(new SqliteDriver({ dataDir: dir, writerThread: false }));
    const log = await openV2(engine);
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => log.append(body(i))));
    const leaves = results.map((r) => r.leafHash);
    assert.deepEqual(await log.rootHash(), rootFromLeafHashes(leaves));
    await engine.close();
    const again = LogEngine.openSqlite(dir);
    const reopened = await openV2(again);
    assert.equal(reopened.size, 300);
    assert.deepEqual(
      Buffer.from(verifySignedCheckpoint(reopened.latestCheckpoint().signed, 'v2.log.test', keys.publicKey).rootHash),
      rootFromLeafHashes(leaves),
    );
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const backend of backends)
  test(`${backend.name}: one engine hosts several logs with their own trees, origins and keys`, async () => {
    const store = await backend.create();
    try {
      const engine = await store.open();
      const a = await openV2(engine, 'a');
      const b = await engine.openLog({
        name: 'b',
        origin: (treeId) => `b.log.test - ${treeId}`,
        signer: ({ treeId }) =>
          noteCheckpointSigner({ origin: `b.log.test - ${treeId}`, keyName: 'b.log.test', signer: softwareSigner(ecKeys.privateKey) }),
      });
      assert.match(b.origin, /^b\.log\.test - [0-9]+$/);
      await Promise.all([a.append(body(1)), a.append(body(2)), b.append(body(1))]);
      assert.equal(a.size, 2);
      assert.equal(b.size, 1);
      const cp = verifySignedCheckpoint(b.latestCheckpoint().signed, 'b.log.test', ecKeys.publicKey);
      assert.equal(cp.origin, b.origin);
      assert.deepEqual(Buffer.from(cp.rootHash), leafHash(body(1)));
      await engine.close();
    } finally {
      await store.cleanup();
    }
  });

for (const backend of backends)
  test(`${backend.name}: a full queue refuses appends with LOG_OVERLOADED instead of growing without bound`, async () => {
    const store = await backend.create();
    try {
      const engine = await store.open();
      const log = await engine.openLog({
        name: 'q',
        origin: 'q.log.test',
        maxQueue: 5,
        signer: ({ origin }) => noteCheckpointSigner({ origin, keyName: origin, signer: softwareSigner(keys.privateKey) }),
      });
      const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => log.append(body(i))));
      const refused = outcomes.filter((o) => o.status === 'rejected');
      assert.equal(refused.length, 7);
      for (const r of refused) assert.equal((r as PromiseRejectedResult).reason.code, 'LOG_OVERLOADED');
      assert.equal(log.size, 5);
      await engine.close();
    } finally {
      await store.cleanup();
    }
  });

for (const backend of backends)
  test(`${backend.name}: a log opened with a newer index version re-indexes its stored entries once, then appends carry their keys`, async () => {
    const store = await backend.create();
    try {
      let engine = await store.open();
      let log = await openV2(engine, 'derived');
      // Stored without keys, as before the index existed; one entry has its key already (kept once).
      await Promise.all(Array.from({ length: 1200 }, (_, i) => log.append(body(i), { indexKeys: i === 4 ? ['even'] : [] })));
      assert.deepEqual(await log.search(['even']), [4]);
      await engine.close();

      const keysOf = (b: Buffer): string[] => [(JSON.parse(b.toString()) as { entry: number }).entry % 2 === 0 ? 'even' : 'odd'];
      let calls = 0;
      const index = { version: 1, keysOf: (b: Buffer) => (calls++, keysOf(b)) };
      const announced: number[] = [];
      engine = await store.open();
      log = await engine.openLog({
        name: 'derived',
        origin: 'derived.log.test',
        signer: ({ origin }) => noteCheckpointSigner({ origin, keyName: origin, signer: softwareSigner(keys.privateKey) }),
        index: { ...index, reindexing: (n) => announced.push(n) },
      });
      assert.equal(calls, 1200);
      assert.deepEqual(announced, [1200]);
      const even = await log.search(['even'], 'or', 5000);
      assert.equal(even.length, 600);
      assert.ok(even.every((i) => i % 2 === 0));
      await log.append(body(1201), { indexKeys: keysOf(body(1201)) });
      assert.deepEqual((await log.search(['odd'], 'or', 5000)).slice(-1), [1200]);
      await engine.close();

      // At the current version: nothing is re-indexed.
      engine = await store.open();
      calls = 0;
      log = await engine.openLog({
        name: 'derived',
        origin: 'derived.log.test',
        signer: ({ origin }) => noteCheckpointSigner({ origin, keyName: origin, signer: softwareSigner(keys.privateKey) }),
        index,
      });
      assert.equal(calls, 0);
      assert.equal(log.record.indexVersion, 1);
      await engine.close();
    } finally {
      await store.cleanup();
    }
  });
