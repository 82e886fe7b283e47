import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  rootFromEntries,
  verifyInclusion,
  verifyConsistency,
  inclusionProof,
  consistencyProof,
  memoryNodeReader,
  treeRoot,
  rootFromInclusionProof,
  emptyRoot,
} from '../../src/merkle/index.js';

// An independent, literal transcription of RFC 6962 §2.1 used as the reference.
const h = (...parts: Uint8Array[]): Buffer => {
  const c = createHash('sha256');
  for (const p of parts) c.update(p);
  return c.digest();
};
function k(n: number): number {
  let x = 1;
  while (x * 2 < n) x *= 2;
  return x;
}
function mth(d: Buffer[]): Buffer {
  if (d.length === 0) return h();
  if (d.length === 1) return h(Buffer.from([0]), d[0]!);
  const s = k(d.length);
  return h(Buffer.from([1]), mth(d.slice(0, s)), mth(d.slice(s)));
}
function path(m: number, d: Buffer[]): Buffer[] {
  if (d.length <= 1) return [];
  const s = k(d.length);
  return m < s ? [...path(m, d.slice(0, s)), mth(d.slice(s))] : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}
function subproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const s = k(d.length);
  return m <= s ? [...subproof(m, d.slice(0, s), b), mth(d.slice(s))] : [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}
const entries = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(`entry ${i}`));

test('RFC 6962 test-vector roots (certificate-transparency leaves)', () => {
  const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((x) =>
    Buffer.from(x, 'hex'),
  );
  assert.equal(emptyRoot().toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(rootFromEntries(leaves.slice(0, 1)).toString('hex'), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  assert.equal(rootFromEntries(leaves.slice(0, 2)).toString('hex'), 'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125');
  assert.equal(rootFromEntries(leaves).toString('hex'), '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
});

test('leaf and node hashing use the RFC 6962 prefixes', () => {
  assert.deepEqual(leafHash(Buffer.from('a')), h(Buffer.from([0]), Buffer.from('a')));
  const a = leafHash(Buffer.from('a'));
  const b = leafHash(Buffer.from('b'));
  assert.deepEqual(nodeHash(a, b), h(Buffer.from([1]), a, b));
});

test('roots, inclusion proofs for every index and size up to 70 match the RFC reference', () => {
  const all = entries(70);
  const hashes = all.map((e) => leafHash(e));
  const reader = memoryNodeReader(hashes);
  for (let n = 1; n <= 70; n++) {
    const d = all.slice(0, n);
    const root = mth(d);
    assert.deepEqual(rootFromLeafHashes(hashes.slice(0, n)), root, `root ${n}`);
    assert.deepEqual(Buffer.from(treeRoot(reader, n)), root, `tiled root ${n}`);
    for (let i = 0; i < n; i++) {
      const proof = inclusionProof(reader, i, n);
      assert.deepEqual(
        proof.map((p) => Buffer.from(p)),
        path(i, d),
        `path ${i}/${n}`,
      );
      verifyInclusion(i, n, hashes[i]!, proof, root);
    }
  }
});

test('tampered inclusion proofs fail with INCLUSION_PROOF_INVALID', () => {
  const hashes = entries(37).map((e) => leafHash(e));
  const reader = memoryNodeReader(hashes);
  const root = rootFromLeafHashes(hashes);
  const code = { code: 'INCLUSION_PROOF_INVALID' };
  for (const i of [0, 1, 15, 31, 32, 36]) {
    const proof = inclusionProof(reader, i, 37);
    for (let j = 0; j < proof.length; j++) {
      const bad = proof.map((p) => Buffer.from(p));
      bad[j]![0]! ^= 1;
      assert.throws(() => verifyInclusion(i, 37, hashes[i]!, bad, root), code);
    }
    assert.throws(() => verifyInclusion(i, 37, hashes[(i + 1) % 37]!, proof, root), code, 'wrong leaf');
    assert.throws(() => verifyInclusion((i + 1) % 37, 37, hashes[i]!, proof, root), code, 'wrong index');
    assert.throws(() => verifyInclusion(i, 74, hashes[i]!, proof, root), code, 'wrong size');
    assert.throws(() => verifyInclusion(i, 37, hashes[i]!, proof.slice(1), root), code, 'short');
    assert.throws(() => verifyInclusion(i, 37, hashes[i]!, [...proof, root], root), code, 'long');
    assert.throws(() => verifyInclusion(i, 37, hashes[i]!, proof, leafHash(Buffer.from('x'))), code, 'wrong root');
  }
  assert.throws(() => rootFromInclusionProof(37, 37, hashes[0]!, []), code);
  assert.throws(() => verifyInclusion(0, 1, hashes[0]!, [Buffer.alloc(31)], root), code);
  assert.throws(() => verifyInclusion(-1, 5, hashes[0]!, [], root), { code: 'PROOF_PARAMETER_INVALID' });
  // A single-leaf tree: the root is the leaf hash, the proof is empty.
  verifyInclusion(0, 1, hashes[0]!, [], hashes[0]!);
});

test('inclusion proofs in large trees (indexes beyond 32 bits) are checked without bit-operator truncation', () => {
  // size 2^33 + 5, index 2^33 + 1: the proof has inner + border hashes; a wrong length is refused.
  const size = 2 ** 33 + 5;
  const index = 2 ** 33 + 1;
  const leaf = leafHash(Buffer.from('x'));
  // inner = bitlen(index ^ (size-1)) = bitlen(1 ^ 4) = 3; border = popcount(index >> 3) = 1
  const proof = Array.from({ length: 4 }, (_, i) => leafHash(Buffer.from([i])));
  const root = rootFromInclusionProof(index, size, leaf, proof);
  verifyInclusion(index, size, leaf, proof, root);
  assert.throws(() => rootFromInclusionProof(index, size, leaf, proof.slice(1)), { code: 'INCLUSION_PROOF_INVALID' });
});

test('consistency proofs for every pair of sizes up to 48 match the RFC and verify', () => {
  const all = entries(48);
  const hashes = all.map((e) => leafHash(e));
  const reader = memoryNodeReader(hashes);
  for (let n = 1; n <= 48; n++) {
    const rn = mth(all.slice(0, n));
    for (let m = 1; m <= n; m++) {
      const rm = mth(all.slice(0, m));
      const proof = consistencyProof(reader, m, n);
      assert.deepEqual(
        proof.map((p) => Buffer.from(p)),
        m === n ? [] : subproof(m, all.slice(0, n), true),
        `proof ${m}->${n}`,
      );
      verifyConsistency(m, n, proof, rm, rn);
      if (m < n) {
        for (let j = 0; j < proof.length; j++) {
          const bad = proof.map((p) => Buffer.from(p));
          bad[j]![31]! ^= 0x80;
          assert.throws(() => verifyConsistency(m, n, bad, rm, rn), { code: 'CONSISTENCY_PROOF_INVALID' }, `tampered ${m}->${n}`);
        }
        assert.throws(() => verifyConsistency(m, n, proof, rn, rn), { code: 'CONSISTENCY_PROOF_INVALID' });
        assert.throws(() => verifyConsistency(m, n, proof, rm, rm), { code: 'CONSISTENCY_PROOF_INVALID' });
        assert.throws(() => verifyConsistency(m, n, proof.slice(0, -1), rm, rn), { code: 'CONSISTENCY_PROOF_INVALID' });
        assert.throws(() => verifyConsistency(m, n, [...proof, rn], rm, rn), { code: 'CONSISTENCY_PROOF_INVALID' });
      }
    }
  }
  verifyConsistency(0, 5, [], emptyRoot(), mth(all.slice(0, 5)));
  assert.throws(() => verifyConsistency(0, 5, [emptyRoot()], emptyRoot(), mth(all.slice(0, 5))), { code: 'CONSISTENCY_PROOF_INVALID' });
  assert.throws(() => verifyConsistency(5, 4, [], emptyRoot(), emptyRoot()), { code: 'CONSISTENCY_PROOF_INVALID' });
  assert.throws(() => verifyConsistency(4, 4, [], mth(all.slice(0, 4)), mth(all.slice(0, 5))), { code: 'CONSISTENCY_PROOF_INVALID' });
});
