// The explorer page's own verification code (WebCrypto, no Node APIs) against the
// project's Node implementations: tile-built inclusion proofs, signed-note checkpoints
// (Ed25519 and ECDSA P-256), DER signatures and certificate chains (P-256 and P-384), CT
// leaves and RFC 6962 signed tree heads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import {
  encodeEntryBundle,
  formatCheckpoint,
  inclusionProof,
  leafHash as nodeLeafHash,
  memoryNodeReader,
  noteSigner,
  tilePath as nodeTilePath,
  entriesPath,
  treeRoot,
} from '../../src/merkle/index.js';
import { createCaChain, generateKey, issueLeafCertificate, issuePrecertificate } from '../../src/x509/build/index.js';
import { CtLog, MemoryCtLogStore } from '../../src/services/ctlog/index.js';
import { softwareSigner } from '../../src/core/signer.js';
import { parseCtLeaf, verifySth } from '../../src/explorer/app/ct.js';
import { publicKeyDer } from '../../src/core/keys.js';
import { TileReader, decodeEntryBundle, tilePath } from '../../src/explorer/app/tiles.js';
import {
  parseCheckpoint,
  rootFromInclusionProof,
  leafHash,
  verifyChain,
  verifyCheckpoint,
  verifySet,
  equal,
  type LogKey,
} from '../../src/explorer/app/verify.js';
import { identityOf, oidcIssuerOf, parseCertificate, parseTbsCertificate } from '../../src/explorer/app/der.js';

/** Tiles of a tree as a tlog-tiles server would serve them, from the leaf hashes. */
function tileServer(leaves: Uint8Array[]): (path: string) => Promise<Uint8Array> {
  const read = memoryNodeReader(leaves);
  return async (path) => {
    const m = /^tile\/(\d+)\/((?:x\d{3}\/)*\d{3})(?:\.p\/(\d+))?$/.exec(path);
    assert.ok(m, path);
    const level = Number(m[1]);
    const index = Number(m[2]!.replace(/x|\//g, ''));
    const width = m[3] ? Number(m[3]) : 256;
    const out: Uint8Array[] = [];
    for (let i = 0; i < width; i++) out.push(read(level * 8, index * 256 + i));
    return Buffer.concat(out);
  };
}

test('tile-built inclusion proofs equal the log engine’s and verify against its root', async () => {
  const leaves = Array.from({ length: 70_001 }, (_, i) => nodeLeafHash(Buffer.from(`entry ${i}`)));
  for (const size of [1, 2, 3, 255, 256, 257, 65_536, 65_537, 70_001]) {
    const read = memoryNodeReader(leaves.slice(0, size));
    const root = treeRoot(read, size);
    const reader = new TileReader(tileServer(leaves.slice(0, size)), size);
    for (const index of new Set([0, size - 1, Math.floor(size / 2), Math.min(size - 1, 256)])) {
      const proof = await reader.inclusionProof(index);
      assert.deepEqual(
        proof.map((p) => Buffer.from(p).toString('hex')),
        inclusionProof(read, index, size).map((p) => Buffer.from(p).toString('hex')),
        `size ${size} index ${index}`,
      );
      assert.ok(equal(await rootFromInclusionProof(index, size, leaves[index]!, proof), root));
    }
  }
  const proof = await new TileReader(tileServer(leaves.slice(0, 300)), 300).inclusionProof(5);
  proof[0] = new Uint8Array(32);
  assert.ok(!equal(await rootFromInclusionProof(5, 300, leaves[5]!, proof), treeRoot(memoryNodeReader(leaves.slice(0, 300)), 300)));
  await assert.rejects(rootFromInclusionProof(5, 300, leaves[5]!, proof.slice(1)), /fewer hashes/);
});

test('tile paths and entry bundles match the server’s', () => {
  for (const [level, index, size] of [
    [0, 0, 5],
    [0, 1, 600],
    [1, 0, 70_000],
    [0, 1234, 1234 * 256 + 7],
    ['entries', 2, 600],
  ] as const) {
    const width = (level === 'entries' ? size : Math.floor(size / 256 ** level)) - index * 256;
    const w = width >= 256 ? undefined : width;
    assert.equal(tilePath(level, index, size), level === 'entries' ? entriesPath(index, w) : nodeTilePath(level, index, w));
  }
  const bodies = [Buffer.from('a'), Buffer.alloc(300, 7), Buffer.from('{}')];
  assert.deepEqual(
    decodeEntryBundle(encodeEntryBundle(bodies)).map((b) => Buffer.from(b)),
    bodies,
  );
});

test('checkpoints: Ed25519 and ECDSA notes verify with the trusted key, not with another or when altered', async () => {
  const root = Buffer.alloc(32, 9);
  const body = formatCheckpoint({ origin: 'log.example', size: 42, rootHash: root });
  for (const type of ['ed25519', 'ec'] as const) {
    const { privateKey, publicKey } =
      type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const other = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key: LogKey = { spki: publicKeyDer(publicKey), logId: new Uint8Array(32), baseUrl: 'https://log.example' };
    const signed = noteSigner('log.example', privateKey)(body);
    const cp = parseCheckpoint(signed);
    assert.equal(cp.size, 42);
    assert.ok(equal(cp.rootHash, root));
    assert.equal((await verifyCheckpoint(cp, [key])).ok, true, type);
    assert.equal((await verifyCheckpoint(cp, [{ ...key, spki: publicKeyDer(other.publicKey) }])).ok, false);
    const altered = parseCheckpoint(signed.replace('\n42\n', '\n43\n'));
    assert.equal((await verifyCheckpoint(altered, [key])).ok, false);
  }
});

test('signed entry timestamps: ECDSA over the canonical JSON', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = { body: 'eyJ9', integratedTime: 1700000000, logID: 'ab'.repeat(32), logIndex: 7 };
  const set = nodeSign(
    'sha256',
    Buffer.from(`{"body":"eyJ9","integratedTime":1700000000,"logID":"${'ab'.repeat(32)}","logIndex":7}`),
    privateKey,
  );
  const key: LogKey = { spki: publicKeyDer(publicKey), logId: new Uint8Array(32), baseUrl: '' };
  assert.equal(await verifySet(payload, set, key), true);
  assert.equal(await verifySet({ ...payload, logIndex: 8 }, set, key), false);
});

test('certificate chains: a Fulcio-style leaf under P-256 and P-384 CAs; a foreign CA or a bad time fails', async () => {
  for (const keyType of ['ecdsa-p256', 'ecdsa-p384'] as const) {
    const ca = createCaChain({ keyType });
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const leaf = issueLeafCertificate(
      { publicKey, san: { type: 'email', value: 'a@example.com' }, sigstoreExtensions: { '1.3.6.1.4.1.57264.1.8': 'https://idp.example' } },
      ca.intermediate,
    );
    const parsed = parseCertificate(leaf.der);
    assert.equal(identityOf(parsed), 'a@example.com');
    assert.equal(oidcIssuerOf(parsed), 'https://idp.example');
    const authorities = [ca.intermediate.certificate.der, ca.root.certificate.der].map((d) => parseCertificate(d));
    const r = await verifyChain(parsed, authorities, parsed.notBefore);
    assert.equal(r.ok, true, `${keyType}: ${r.reason}`);
    const foreign = createCaChain();
    assert.equal(
      (
        await verifyChain(
          parsed,
          [foreign.intermediate.certificate.der, foreign.root.certificate.der].map((d) => parseCertificate(d)),
          undefined,
        )
      ).ok,
      false,
    );
    assert.equal((await verifyChain(parsed, authorities, new Date(parsed.notAfter.getTime() + 1000))).ok, false);
  }
});

test('leaf hashes match the log’s', async () => {
  const body = Buffer.from('{"kind":"hashedrekord"}');
  assert.ok(equal(await leafHash(body), nodeLeafHash(body)));
});

test('CT: the page reads MerkleTreeLeafs and precertificate TBSs, and verifies RFC 6962 STHs with the trusted root’s CT keys', async () => {
  const ca = createCaChain({ now: new Date(Date.now() - 3600_000) });
  const key = generateKey('ecdsa-p256');
  const store = new MemoryCtLogStore();
  const log = new CtLog({ signer: softwareSigner(key.privateKey), roots: [ca.root.certificate], store });
  const wf = 'https://github.com/o/r/.github/workflows/ci.yml@refs/heads/main';
  const pre = issuePrecertificate(
    { publicKey: generateKey().publicKey, san: { type: 'uri', value: wf }, sigstoreExtensions: { '1.3.6.1.4.1.57264.1.8': 'https://iss' } },
    ca.intermediate,
  );
  const sct = await log.addTrustedPrecertificate(pre, ca.intermediate.certificate);
  const leaf = parseCtLeaf(new Uint8Array(store.leaves[0]!));
  assert.equal(leaf.type, 'precert');
  assert.equal(BigInt(leaf.timestamp), sct.timestamp);
  assert.ok(equal(leaf.issuerKeyHash!, new Uint8Array(await crypto.subtle.digest('SHA-256', ca.intermediate.certificate.spkiDer))));
  const tbs = parseTbsCertificate(leaf.logged);
  assert.equal(identityOf(tbs), wf);
  assert.equal(oidcIssuerOf(tbs), 'https://iss');
  assert.equal(tbs.issuer, parseCertificate(ca.intermediate.certificate.der).subject);
  assert.throws(() => parseCtLeaf(new Uint8Array([...store.leaves[0]!, 0])), /lengths/);

  const ctKey: LogKey = { spki: publicKeyDer(key.publicKey), logId: new Uint8Array(log.logId), baseUrl: 'http://ct' };
  const other: LogKey = { ...ctKey, spki: publicKeyDer(generateKey('ecdsa-p256').publicKey) };
  const sth = await log.getSth();
  assert.equal((await verifySth(sth, [other, ctKey])).ok, true);
  assert.equal((await verifySth(sth, [other])).ok, false);
  assert.equal((await verifySth({ ...sth, tree_size: sth.tree_size + 1 }, [ctKey])).ok, false);
  assert.equal((await verifySth({ ...sth, timestamp: sth.timestamp + 1 }, [ctKey])).ok, false);
  assert.match((await verifySth({ ...sth, tree_head_signature: 'AAAA' }, [ctKey])).reason, /malformed/);
});
