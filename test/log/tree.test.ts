import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { TileTree } from '../../src/log/tree.js';
import type { TileRecord } from '../../src/log/driver.js';
import { fullTileRoot, inclusionProof, leafHash, nodeHash, rootFromLeafHashes, verifyInclusion } from '../../src/merkle/index.js';

test('nodeHash and leafHash are RFC 6962 SHA-256 with 0x01 / 0x00 prefixes (fast path and odd sizes)', () => {
  const ref = (...parts: Uint8Array[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
  const a = Buffer.alloc(32, 0xaa);
  const b = Buffer.alloc(32, 0xbb);
  assert.deepEqual(nodeHash(a, b), ref(Buffer.from([1]), a, b));
  assert.deepEqual(nodeHash(b, a), ref(Buffer.from([1]), b, a));
  // Results are independent buffers, not views of a shared scratch buffer.
  const first = nodeHash(a, b);
  nodeHash(b, b);
  assert.deepEqual(first, ref(Buffer.from([1]), a, b));
  assert.deepEqual(nodeHash(a.subarray(0, 5), b), ref(Buffer.from([1]), a.subarray(0, 5), b));
  for (const n of [0, 1, 1023, 1024, 5000]) {
    const data = Buffer.alloc(n, n & 0xff);
    assert.deepEqual(leafHash(data), ref(Buffer.from([0]), data));
  }
});

test('prepareAppend over uneven batches writes the same tiles and roots as a tree built at once', () => {
  const total = 66_000; // completes a level-1 tile (65,536 leaves) and goes past it
  const leaves = Array.from({ length: total }, (_, i) => leafHash(Buffer.from(`entry ${i}`)));
  const stored = new Map<string, Buffer>();
  let tree = new TileTree(0, []);
  // A tree that is never reopened: its edge-tile expansions are extended across installs.
  const live = new TileTree(0, []);
  let done = 0;
  const sizes = [1, 255, 1, 256, 300, 7, 513, 40_000, 3, 24_664];
  for (const n of sizes) {
    const prepared = tree.prepareAppend(leaves.slice(done, done + n));
    done += n;
    assert.equal(prepared.newSize, done);
    assert.deepEqual(prepared.root, rootFromLeafHashes(leaves.slice(0, done)));
    for (const t of prepared.tiles) stored.set(`${t.level}/${t.index}`, t.data);
    prepared.install();
    const livePrepared = live.prepareAppend(leaves.slice(done - n, done));
    livePrepared.install();
    for (const i of [0, done - n, Math.floor((done - 1) / 256) * 256, done - 2, done - 1]) {
      if (i < 0) continue;
      verifyInclusion(i, done, leaves[i]!, inclusionProof(live.reader, i, done), prepared.root);
    }
    // Reopening from the stored tiles gives a tree that proves the same things.
    const tiles: TileRecord[] = [...stored].map(([k, data]) => ({ level: Number(k.split('/')[0]), index: Number(k.split('/')[1]), data }));
    tree = TileTree.fromStorage(done, tiles);
    tree.addTiles(tiles);
    const i = done - 1;
    verifyInclusion(i, done, leaves[i]!, inclusionProof(tree.reader, i, done), prepared.root);
  }
  assert.equal(done, total);
  // Level 0: 257 full tiles + a partial; level 1: one full tile of their roots + a partial; level 2: partial.
  for (let t = 0; t < Math.ceil(total / 256); t++) {
    assert.deepEqual(stored.get(`0/${t}`), Buffer.concat(leaves.slice(t * 256, Math.min(total, (t + 1) * 256))));
  }
  const level1 = Array.from({ length: Math.floor(total / 256) }, (_, t) => Buffer.from(fullTileRoot(leaves.slice(t * 256, (t + 1) * 256))));
  assert.deepEqual(stored.get('1/0'), Buffer.concat(level1.slice(0, 256)));
  assert.deepEqual(stored.get('1/1'), Buffer.concat(level1.slice(256)));
  assert.deepEqual(stored.get('2/0'), Buffer.from(fullTileRoot(level1.slice(0, 256))));
  assert.equal(stored.size, Math.ceil(total / 256) + 3);
});
