import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tileIndexPath,
  tilePath,
  entriesPath,
  parseTilePath,
  partialTileWidth,
  fullTileCount,
  fullTileRoot,
  leafHash,
  rootFromLeafHashes,
  encodeEntryBundle,
  decodeEntryBundle,
  splitTileHashes,
} from '../../src/merkle/index.js';

test('tile index path elements are 3 digits, x-prefixed except the last', () => {
  assert.equal(tileIndexPath(1234067), 'x001/x234/067');
  assert.equal(tileIndexPath(5), '005');
  assert.equal(tileIndexPath(0), '000');
  assert.equal(tileIndexPath(1000), 'x001/000');
  assert.equal(tilePath(0, 1234067), 'tile/0/x001/x234/067');
  assert.equal(tilePath(2, 5, 17), 'tile/2/005.p/17');
  assert.equal(tilePath(1, 5, 256), 'tile/1/005');
  assert.equal(entriesPath(7, 3), 'tile/entries/007.p/3');
  assert.throws(() => tilePath(0, 1, 0), { code: 'FORMAT_INVALID' });
  assert.throws(() => tilePath(64, 1), { code: 'FORMAT_INVALID' });
});

test('tile paths parse back and non-canonical spellings are refused', () => {
  for (const [l, n, w] of [
    [0, 0, 256],
    [0, 1234067, 256],
    [3, 999, 1],
    [1, 1000, 255],
  ] as const) {
    assert.deepEqual(parseTilePath(tilePath(l, n, w)), { level: l, index: n, width: w });
  }
  assert.deepEqual(parseTilePath('tile/entries/x001/000.p/9'), { level: 'entries', index: 1000, width: 9 });
  for (const bad of [
    'tile/0/5',
    'tile/0/x000/005',
    'tile/00/005',
    'tile/0/005.p/0',
    'tile/0/005.p/256',
    'tile/0/005.p/07',
    'tile/64/000',
    'tile/0/001/002',
    'tile/0/x1/002',
    '../tile/0/000',
    'tile/0/000/',
  ]) {
    assert.throws(() => parseTilePath(bad), { code: 'FORMAT_INVALID' }, bad);
  }
});

test('partial widths and full tile counts', () => {
  assert.equal(partialTileWidth(0, 70000), 70000 % 256);
  assert.equal(partialTileWidth(1, 70000), Math.floor(70000 / 256) % 256);
  assert.equal(partialTileWidth(2, 70000), 1);
  assert.equal(fullTileCount(0, 70000), Math.floor(70000 / 256));
  assert.equal(partialTileWidth(0, 512), 0);
});

test('a full tile hashes to the subtree root one level up', () => {
  const hashes = Array.from({ length: 256 }, (_, i) => leafHash(Buffer.from([i])));
  assert.deepEqual(Buffer.from(fullTileRoot(hashes)), rootFromLeafHashes(hashes));
  assert.throws(() => fullTileRoot(hashes.slice(1)), { code: 'FORMAT_INVALID' });
  assert.equal(splitTileHashes(Buffer.concat(hashes)).length, 256);
  assert.throws(() => splitTileHashes(Buffer.alloc(33)), { code: 'FORMAT_INVALID' });
});

test('entry bundles are uint16-length-prefixed entries', () => {
  const entries = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(300, 7)];
  const bundle = encodeEntryBundle(entries);
  assert.deepEqual(bundle.subarray(0, 3), Buffer.from([0, 1, 0x61]));
  assert.deepEqual(
    decodeEntryBundle(bundle).map((e) => Buffer.from(e)),
    entries,
  );
  assert.throws(() => decodeEntryBundle(bundle.subarray(0, bundle.length - 1)), { code: 'FORMAT_INVALID' });
  assert.throws(() => encodeEntryBundle([Buffer.alloc(70000)]), { code: 'FORMAT_INVALID' });
});
