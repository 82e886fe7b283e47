// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { softwareSigner } from '../../src/core/signer.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { verify as nodeVerify } from 'node:crypto';
import { X509Certificate as SigstoreX509 } from '@sigstore/core';
import { verifySCTs as sigstoreVerifyScts } from '@sigstore/verify/dist/key/sct.js';
import type { FastifyInstance } from 'fastify';
import { leafHash, rootFromEntries, verifyConsistency, verifyInclusion } from '../../src/merkle/index.js';
import { createHttpApp } from '../../src/services/http/index.js';
import { CtLog, ctlogService, MemoryCtLogStore, merkleTreeLeaf } from '../../src/services/ctlog/index.js';
import {
  createCaChain,
  embedScts,
  generateKey,
  issueLeafCertificate,
  issuePrecertificate,
  type CaChain,
} from '../../src/x509/build/index.js';
import { loadTrustMaterial, sctFromJson, verifyEmbeddedScts, verifySctSignature, type Certificate } from '../../src/x509/index.js';

let app: FastifyInstance;
let base: string;
let ca: CaChain;
let log: CtLog;
let store: MemoryCtLogStore;
const PREFIX = '/ctlog';

before(async () => {
  ca = createCaChain({ now: new Date(Date.now() - 3600_000) });
  store = new MemoryCtLogStore();
  log = new CtLog({ signer: softwareSigner(generateKey('ecdsa-p256').privateKey), roots: [ca.root.certificate], store });
  app = createHttpApp();
  await app.register(ctlogService({ log }), { prefix: PREFIX });
  base = `${await app.listen({ host: '127.0.0.1', port: 0 })}${PREFIX}`;
});
after(() => app.close());

const b64 = (c: Certificate) => c.der.toString('base64');
const profile = () => ({
  publicKey: generateKey().publicKey,
  san: { type: 'email' as const, value: 'ct@example.com' },
  sigstoreExtensions: { '1.3.6.1.4.1.57264.1.8': 'https://issuer' },
});

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}/ct/v1/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

function trustedRoot() {
  const spki = log.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  return {
    ctlogs: [
      {
        baseUrl: base,
        hashAlgorithm: 'SHA2_256',
        logId: { keyId: log.logId.toString('base64') },
        publicKey: { rawBytes: spki, keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } },
      },
    ],
  };
}

test('add-pre-chain: the SCT embedded in the final certificate verifies with the trusted-root key (Keyless and sigstore-js)', async () => {
  const precert = issuePrecertificate(profile(), ca.intermediate);
  const { status, json } = await post('add-pre-chain', {
    chain: [b64(precert), b64(ca.intermediate.certificate), b64(ca.root.certificate)],
  });
  assert.equal(status, 200, JSON.stringify(json));
  assert.deepEqual(Object.keys(json).sort(), ['extensions', 'id', 'sct_version', 'signature', 'timestamp']);
  assert.equal(json.id, log.logId.toString('base64'));
  const sct = sctFromJson(json);
  const leaf = embedScts(precert, [sct], ca.intermediate.key);
  const tm = loadTrustMaterial(trustedRoot());
  assert.equal(verifyEmbeddedScts(leaf, ca.intermediate.certificate, tm.ctLogs).length, 1);
  const peerLog = { baseURL: base, logID: log.logId, publicKey: log.publicKey, validFor: { start: new Date(0), end: new Date(8.64e15) } };
  assert.equal(
    sigstoreVerifyScts(SigstoreX509.parse(Buffer.from(leaf.der)), SigstoreX509.parse(Buffer.from(ca.intermediate.certificate.der)), [
      peerLog,
    ]).length,
    1,
  );
  // In-process path for the CA: same SCT semantics without the chain re-check.
  const pre2 = issuePrecertificate(profile(), ca.intermediate);
  const sct2 = await log.addTrustedPrecertificate(pre2, ca.intermediate.certificate);
  assert.equal(verifyEmbeddedScts(embedScts(pre2, [sct2], ca.intermediate.key), ca.intermediate.certificate, tm.ctLogs).length, 1);
  await assert.rejects(
    log.addTrustedPrecertificate(issueLeafCertificate(profile(), ca.intermediate), ca.intermediate.certificate),
    (e: any) => e.code === 'CT_NOT_PRECERTIFICATE',
  );
  // The root may be left out of the submitted chain.
  const again = await post('add-pre-chain', {
    chain: [b64(issuePrecertificate(profile(), ca.intermediate)), b64(ca.intermediate.certificate)],
  });
  assert.equal(again.status, 200);
});

test('add-chain signs an X.509 entry; get-sth signs the RFC 6962 root of the stored leaves', async () => {
  const cert = issueLeafCertificate(profile(), ca.intermediate);
  const { status, json } = await post('add-chain', { chain: [b64(cert), b64(ca.intermediate.certificate)] });
  assert.equal(status, 200);
  assert.ok(verifySctSignature(sctFromJson(json), { type: 'x509', certificate: cert.der }, log.publicKey));

  const res = await fetch(`${base}/ct/v1/get-sth`);
  const sth = (await res.json()) as { tree_size: number; timestamp: number; sha256_root_hash: string; tree_head_signature: string };
  assert.equal(sth.tree_size, store.leaves.length);
  assert.ok(sth.tree_size >= 3);
  const root = Buffer.from(sth.sha256_root_hash, 'base64');
  assert.deepEqual(root, rootFromEntries(store.leaves));
  const sig = Buffer.from(sth.tree_head_signature, 'base64');
  assert.deepEqual([...sig.subarray(0, 2)], [4, 3]);
  const signed = Buffer.alloc(2 + 8 + 8);
  signed[1] = 1;
  signed.writeBigUInt64BE(BigInt(sth.timestamp), 2);
  signed.writeBigUInt64BE(BigInt(sth.tree_size), 10);
  assert.ok(nodeVerify('sha256', Buffer.concat([signed, root]), log.publicKey, sig.subarray(4)));
  // The leaf for the add-chain entry is the RFC 6962 MerkleTreeLeaf.
  assert.deepEqual(store.leaves.at(-1), merkleTreeLeaf(sctFromJson(json).timestamp, { type: 'x509', certificate: cert.der }));

  const roots = (await (await fetch(`${base}/ct/v1/get-roots`)).json()) as { certificates: string[] };
  assert.deepEqual(roots.certificates, [b64(ca.root.certificate)]);
});

test('bad submissions get 4xx JSON errors and leave the log unchanged', async () => {
  const other = createCaChain();
  const before = store.leaves.length;
  const precert = issuePrecertificate(profile(), ca.intermediate);
  const foreign = issuePrecertificate(profile(), other.intermediate);
  const final = issueLeafCertificate(profile(), ca.intermediate);
  const cases: Array<[string, unknown, number, string]> = [
    ['add-pre-chain', { chain: [b64(final), b64(ca.intermediate.certificate)] }, 400, 'CT_NOT_PRECERTIFICATE'],
    ['add-chain', { chain: [b64(precert), b64(ca.intermediate.certificate)] }, 400, 'CT_IS_PRECERTIFICATE'],
    [
      'add-pre-chain',
      { chain: [b64(foreign), b64(other.intermediate.certificate), b64(other.root.certificate)] },
      400,
      'CT_CHAIN_UNTRUSTED',
    ],
    ['add-pre-chain', { chain: [b64(foreign), b64(ca.intermediate.certificate)] }, 400, 'CT_CHAIN_INVALID'],
    ['add-pre-chain', { chain: [] }, 400, 'CT_CHAIN_EMPTY'],
    ['add-pre-chain', { chain: Array(11).fill(b64(precert)) }, 400, 'CT_CHAIN_TOO_LONG'],
    ['add-pre-chain', { chain: ['!!notbase64'] }, 400, 'CT_CERTIFICATE_INVALID'],
    ['add-pre-chain', { chain: [Buffer.from('garbage').toString('base64')] }, 400, 'CT_CERTIFICATE_INVALID'],
    ['add-pre-chain', { chain: [42] }, 400, 'CT_CERTIFICATE_INVALID'],
    ['add-pre-chain', { nochain: true }, 400, 'REQUEST_INVALID'],
    ['add-pre-chain', '[1,2', 400, 'FORMAT_INVALID'],
    ['add-chain', { chain: [b64(ca.root.certificate)] }, 400, 'CT_CHAIN_INVALID'],
  ];
  for (const [path, body, status, code] of cases) {
    const r = await post(path, body);
    assert.equal(r.status, status, `${code}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.code, code, JSON.stringify(r.json));
  }
  assert.equal(store.leaves.length, before);
});

test('memory store root matches the RFC 6962 root at every size', async () => {
  const s = new MemoryCtLogStore();
  const leaves: Buffer[] = [];
  for (let i = 0; i < 70; i++) {
    const leaf = Buffer.from(`leaf ${i}`);
    leaves.push(leaf);
    await s.append(leaf);
    assert.deepEqual((await s.head()).rootHash, rootFromEntries(leaves), `size ${i + 1}`);
  }
});

test('entries kept in the log engine (SQLite): the RFC 6962 root survives a reopen', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { LogEngine } = await import('../../src/log/index.js');
  const { EngineCtLogStore } = await import('../../src/services/ctlog/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'keyless-ct-'));
  try {
    const key = generateKey('ecdsa-p256').privateKey;
    let engine = LogEngine.openSqlite(dir);
    let s = await EngineCtLogStore.open(engine, { origin: '127.0.0.1/ctlog', signer: softwareSigner(key) });
    const engineLog = new CtLog({ signer: softwareSigner(key), roots: [ca.root.certificate], store: s });
    const leaves: Buffer[] = [];
    const chains = Array.from({ length: 5 }, () => [issuePrecertificate(profile(), ca.intermediate), ca.intermediate.certificate]);
    const scts = await Promise.all(chains.map((c) => engineLog.addPreChain(c)));
    assert.equal(scts.length, 5);
    for (let i = 0; i < 5; i++) {
      const e = await s.log.getEntry(i);
      leaves.push(e!.body);
    }
    const sth = await engineLog.getSth();
    assert.equal(sth.tree_size, 5);
    assert.deepEqual(Buffer.from(sth.sha256_root_hash, 'base64'), rootFromEntries(leaves));
    await engine.close();
    engine = LogEngine.openSqlite(dir);
    s = await EngineCtLogStore.open(engine, { origin: '127.0.0.1/ctlog', signer: softwareSigner(key) });
    assert.deepEqual((await s.head()).rootHash, rootFromEntries(leaves));
    const reopened = new CtLog({ signer: softwareSigner(key), roots: [ca.root.certificate], store: s });
    const proof = await reopened.proofByHash(leafHash(leaves[2]!), 5);
    verifyInclusion(
      2,
      5,
      leafHash(leaves[2]!),
      proof.audit_path.map((p) => Buffer.from(p, 'base64')),
      rootFromEntries(leaves),
    );
    const cons = await reopened.consistency(3, 5);
    verifyConsistency(
      3,
      5,
      cons.consistency.map((p) => Buffer.from(p, 'base64')),
      rootFromEntries(leaves.slice(0, 3)),
      rootFromEntries(leaves),
    );
    await engine.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('get-proof-by-hash and get-sth-consistency proofs verify against signed tree heads', async () => {
  const sth1 = (await (await fetch(`${base}/ct/v1/get-sth`)).json()) as { tree_size: number; sha256_root_hash: string };
  await post('add-pre-chain', { chain: [b64(issuePrecertificate(profile(), ca.intermediate)), b64(ca.intermediate.certificate)] });
  await post('add-pre-chain', { chain: [b64(issuePrecertificate(profile(), ca.intermediate)), b64(ca.intermediate.certificate)] });
  const sth2 = (await (await fetch(`${base}/ct/v1/get-sth`)).json()) as { tree_size: number; sha256_root_hash: string };
  assert.equal(sth2.tree_size, sth1.tree_size + 2);
  const root1 = Buffer.from(sth1.sha256_root_hash, 'base64');
  const root2 = Buffer.from(sth2.sha256_root_hash, 'base64');
  for (const index of [0, sth1.tree_size - 1, sth2.tree_size - 1]) {
    const h = leafHash(store.leaves[index]!);
    const res = await fetch(`${base}/ct/v1/get-proof-by-hash?hash=${encodeURIComponent(h.toString('base64'))}&tree_size=${sth2.tree_size}`);
    const body = (await res.json()) as { leaf_index: number; audit_path: string[] };
    assert.equal(res.status, 200);
    assert.equal(body.leaf_index, index);
    verifyInclusion(
      index,
      sth2.tree_size,
      h,
      body.audit_path.map((p) => Buffer.from(p, 'base64')),
      root2,
    );
  }
  const c = (await (await fetch(`${base}/ct/v1/get-sth-consistency?first=${sth1.tree_size}&second=${sth2.tree_size}`)).json()) as {
    consistency: string[];
  };
  verifyConsistency(
    sth1.tree_size,
    sth2.tree_size,
    c.consistency.map((p) => Buffer.from(p, 'base64')),
    root1,
    root2,
  );
  const bad: Array<[string, number, string]> = [
    [`get-proof-by-hash?hash=${Buffer.alloc(32).toString('base64')}&tree_size=1`, 404, 'CT_LEAF_NOT_FOUND'],
    [`get-proof-by-hash?hash=AAAA&tree_size=1`, 400, 'CT_HASH_INVALID'],
    [`get-proof-by-hash?hash=${Buffer.alloc(32).toString('base64')}&tree_size=99999`, 400, 'CT_TREE_SIZE_INVALID'],
    [`get-proof-by-hash?tree_size=1`, 400, 'FORMAT_INVALID'],
    [`get-sth-consistency?first=5&second=2`, 400, 'CT_TREE_SIZE_INVALID'],
    [`get-sth-consistency?first=x&second=2`, 400, 'REQUEST_INVALID'],
  ];
  for (const [path, status, code] of bad) {
    const res = await fetch(`${base}/ct/v1/${path}`);
    const json = (await res.json()) as { code: string };
    assert.equal(res.status, status, path);
    assert.equal(json.code, code, path);
  }
});

test('get-entries (RFC 6962 §4.6): the stored MerkleTreeLeafs in order, a page at most, 400 for a bad range', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await post('add-pre-chain', {
      chain: [b64(issuePrecertificate(profile(), ca.intermediate)), b64(ca.intermediate.certificate)],
    });
    assert.equal(r.status, 200);
  }
  const sth = (await (await fetch(`${base}/ct/v1/get-sth`)).json()) as { tree_size: number; sha256_root_hash: string };
  const get = async (q: string) => {
    const res = await fetch(`${base}/ct/v1/get-entries?${q}`);
    return { status: res.status, json: (await res.json()) as any };
  };
  const all = await get(`start=0&end=${sth.tree_size + 10}`);
  assert.equal(all.status, 200);
  assert.equal(all.json.entries.length, Math.min(sth.tree_size, 256));
  assert.deepEqual(
    all.json.entries.map((e: any) => e.leaf_input),
    store.leaves.slice(0, all.json.entries.length).map((l) => l.toString('base64')),
  );
  // The leaves hash to the signed root.
  assert.equal(
    rootFromEntries(all.json.entries.map((e: any) => Buffer.from(e.leaf_input, 'base64'))).toString('base64'),
    sth.sha256_root_hash,
  );
  const one = await get(`start=${sth.tree_size - 1}&end=${sth.tree_size - 1}`);
  assert.equal(one.json.entries.length, 1);
  for (const q of [`start=${sth.tree_size}&end=${sth.tree_size}`, 'start=2&end=1', 'start=-1&end=2', 'start=a&end=b', 'end=3']) {
    const r = await get(q);
    assert.equal(r.status, 400, q);
    assert.equal(typeof r.json.code, 'string');
  }
});
