// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import {
  startLogServer,
  tamperTlogEntry,
  LOG_DRIVERS,
  post,
  get,
  hashedRekordV1,
  hashedRekordV2,
  signArtifact,
  keyBundle,
  trustedRootJson,
  signerDer,
  type LogServer,
} from './helpers.js';
import { transparencyLogEntryFromV1 } from '../../src/services/tlog/index.js';
import { verifySignedCheckpoint, verifyConsistency, verifyInclusion, leafHash } from '../../src/merkle/index.js';

let s: LogServer;

function sigstoreVerify(bundleJson: Record<string, unknown>, artifact: Buffer, timestampThreshold: number): void {
  const trust = toTrustMaterial(TrustedRoot.fromJSON(trustedRootJson(s)), {
    signer: { rawBytes: signerDer, keyDetails: 5 /* PKIX_ECDSA_P256_SHA_256 */, validFor: { start: new Date(0) } },
  } as never);
  const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold });
  verifier.verify(toSignedEntity(bundleFromJSON(bundleJson), artifact));
}

for (const driver of LOG_DRIVERS) {
  describe(driver, () => {
    before(async () => {
      s = await startLogServer({ driver });
    });
    after(async () => {
      await s.close();
    });
    tests();
  });
}

function tests(): void {
  test('Rekor v1: 201 entry -> bundle that sigstore-js verifies; tampered body, proof, checkpoint, SET fail', async () => {
    const artifact = Buffer.from('hello keyless v1');
    const signed = signArtifact(artifact);
    const res = await post(`${s.url}/api/v1/log/entries`, hashedRekordV1(signed));
    assert.equal(res.status, 201, JSON.stringify(res.json));
    const [entryId] = Object.keys(res.json);
    assert.match(entryId!, /^[0-9a-f]{80}$/);
    assert.equal(res.headers.get('location'), `/api/v1/log/entries/${entryId}`);
    const entry = res.json[entryId!];
    assert.equal(entry.logID, s.v1.info.logId.toString('hex'));
    assert.equal(entryId!.slice(16), leafHash(Buffer.from(entry.body, 'base64')).toString('hex'));
    const tle = transparencyLogEntryFromV1(res.json);
    const bundle = keyBundle(tle, signed);
    sigstoreVerify(bundle, artifact, 1);
    assert.throws(() => sigstoreVerify(bundle, Buffer.from('other artifact'), 1));
    const bad = [
      tamperTlogEntry(bundle, (t) => {
        const b = JSON.parse(Buffer.from(t.canonicalizedBody, 'base64').toString());
        b.spec.data.hash.value = '00'.repeat(32);
        t.canonicalizedBody = Buffer.from(JSON.stringify(b)).toString('base64');
      }),
      tamperTlogEntry(bundle, (t) => {
        t.inclusionProof.hashes = [...t.inclusionProof.hashes, Buffer.alloc(32, 1).toString('base64')];
      }),
      tamperTlogEntry(bundle, (t) => {
        t.inclusionProof.logIndex = String(Number(t.inclusionProof.logIndex) + 1);
        t.logIndex = t.inclusionProof.logIndex;
      }),
      tamperTlogEntry(bundle, (t) => {
        t.inclusionProof.checkpoint.envelope = t.inclusionProof.checkpoint.envelope.replace(/\n[0-9]+\n/, '\n999\n');
      }),
      tamperTlogEntry(bundle, (t) => {
        t.inclusionPromise.signedEntryTimestamp = Buffer.alloc(70, 1).toString('base64');
      }),
      tamperTlogEntry(bundle, (t) => {
        t.integratedTime = String(Number(t.integratedTime) + 1);
      }),
    ];
    bad.forEach((b, i) => assert.throws(() => sigstoreVerify(b, artifact, 1), Error, `tampered case ${i}`));
    // Proofs with more entries in the tree, and the same entry fetched by UUID and by index.
    const signed2 = signArtifact(Buffer.from('second'));
    assert.equal((await post(`${s.url}/api/v1/log/entries`, hashedRekordV1(signed2))).status, 201);
    const byId = await get(`${s.url}/api/v1/log/entries/${entryId}`);
    assert.equal(byId.status, 200);
    const byShortId = await get(`${s.url}/api/v1/log/entries/${entryId!.slice(16)}`);
    assert.deepEqual(Object.keys(byShortId.json), [entryId]);
    sigstoreVerify(keyBundle(transparencyLogEntryFromV1(byId.json), signed), artifact, 1);
    const byIndex = await get(`${s.url}/api/v1/log/entries?logIndex=${entry.logIndex}`);
    assert.equal(byIndex.json[entryId!].body, entry.body);
    // Duplicate: 409 with the location of the existing entry, the body in Rekor's Error model.
    const dup = await post(`${s.url}/api/v1/log/entries`, hashedRekordV1(signed));
    assert.equal(dup.status, 409);
    assert.deepEqual(Object.keys(dup.json).sort(), ['code', 'message', 'reason']);
    assert.equal(dup.json.code, 409);
    assert.equal(dup.json.reason, 'ENTRY_EXISTS');
    assert.equal(dup.headers.get('location'), `/api/v1/log/entries/${entryId}`);
  });

  test('Rekor v1 read API: log info, consistency proofs between checkpoints, public key, retrieve, index search', async () => {
    const first = await get(`${s.url}/api/v1/log`);
    assert.equal(first.status, 200);
    const cp1 = verifySignedCheckpoint(first.json.signedTreeHead, s.v1.info.keyName, s.v1Keys.publicKey);
    assert.equal(cp1.origin, `${s.v1.info.keyName} - ${first.json.treeID}`);
    const added: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await post(`${s.url}/api/v1/log/entries`, hashedRekordV1(signArtifact(Buffer.from(`read api ${i}`))));
      added.push(Object.keys(r.json)[0]!);
    }
    const second = await get(`${s.url}/api/v1/log`);
    const cp2 = verifySignedCheckpoint(second.json.signedTreeHead, s.v1.info.keyName, s.v1Keys.publicKey);
    assert.equal(second.json.rootHash, Buffer.from(cp2.rootHash).toString('hex'));
    const proof = await get(`${s.url}/api/v1/log/proof?firstSize=${cp1.size}&lastSize=${cp2.size}`);
    assert.equal(proof.status, 200);
    verifyConsistency(
      cp1.size,
      cp2.size,
      proof.json.hashes.map((h: string) => Buffer.from(h, 'hex')),
      cp1.rootHash,
      cp2.rootHash,
    );
    assert.equal((await get(`${s.url}/api/v1/log/proof?firstSize=3&lastSize=2`)).status, 400);
    assert.equal((await get(`${s.url}/api/v1/log/proof?lastSize=${cp2.size + 1}`)).status, 400);
    assert.equal((await get(`${s.url}/api/v1/log/proof?lastSize=abc`)).status, 400);
    const pk = await get(`${s.url}/api/v1/log/publicKey`);
    assert.equal(pk.headers.get('content-type'), 'application/x-pem-file');
    assert.equal(pk.text, s.v1.publicKeyPem());
    const retrieved = await post(`${s.url}/api/v1/log/entries/retrieve`, { entryUUIDs: [added[0]], logIndexes: [cp1.size + 1] });
    assert.equal(retrieved.status, 200);
    assert.deepEqual(
      retrieved.json.map((m: object) => Object.keys(m)[0]),
      [added[0], added[1]],
    );
    const artifact = Buffer.from('read api 3');
    const digest = signArtifact(artifact).digest.toString('hex');
    const search = await post(`${s.url}/api/v1/index/retrieve`, { hash: `sha256:${digest}` });
    assert.deepEqual(search.json, [added[3]]);
    const byKey = await post(`${s.url}/api/v1/index/retrieve`, {
      publicKey: {
        format: 'x509',
        content: Buffer.from(signerDer.length ? (await get(`${s.url}/api/v1/log/publicKey`)).text : '').toString('base64'),
      },
    });
    assert.deepEqual(byKey.json, [], 'the log key signed nothing');
    assert.equal((await get(`${s.url}/api/v1/log/entries?logIndex=999999`)).status, 404);
    assert.equal((await get(`${s.url}/api/v1/log/entries/${'ab'.repeat(32)}`)).status, 404);
  });

  test('Rekor v2: 201 TransparencyLogEntry verifies with sigstore-js; tampered ones fail; 409 with x-log-index; tiles serve the tree', async () => {
    const artifact = Buffer.from('hello keyless v2');
    const signed = signArtifact(artifact);
    const res = await post(`${s.url}/api/v2/log/entries`, hashedRekordV2(signed));
    assert.equal(res.status, 201, JSON.stringify(res.json));
    const tle = res.json;
    assert.deepEqual(Object.keys(tle), [
      'logIndex',
      'logId',
      'kindVersion',
      'integratedTime',
      'inclusionPromise',
      'inclusionProof',
      'canonicalizedBody',
    ]);
    assert.equal(tle.integratedTime, '0');
    assert.equal(tle.logId.keyId, s.v2.info.logId.toString('base64'));
    const body = JSON.parse(Buffer.from(tle.canonicalizedBody, 'base64').toString());
    assert.equal(body.spec.hashedRekordV002.data.algorithm, 'SHA2_256');
    const bundle = keyBundle(tle, signed);
    sigstoreVerify(bundle, artifact, 0);
    assert.throws(() => sigstoreVerify(bundle, Buffer.from('changed'), 0));
    for (const b of [
      tamperTlogEntry(bundle, (t) => {
        t.inclusionProof.hashes = [Buffer.alloc(32).toString('base64'), ...t.inclusionProof.hashes];
      }),
      tamperTlogEntry(bundle, (t) => {
        t.inclusionProof.checkpoint.envelope = t.inclusionProof.checkpoint.envelope.replace(/\n[0-9]+\n/, '\n77\n');
      }),
      tamperTlogEntry(bundle, (t) => {
        t.canonicalizedBody = Buffer.from(Buffer.from(t.canonicalizedBody, 'base64').toString().replace('SHA2_256', 'SHA2_384')).toString(
          'base64',
        );
      }),
    ])
      assert.throws(() => sigstoreVerify(b, artifact, 0));
    const dup = await post(`${s.url}/api/v2/log/entries`, hashedRekordV2(signed));
    assert.equal(dup.status, 409);
    assert.equal(dup.headers.get('x-log-index'), tle.logIndex);
    // tlog-tiles: checkpoint, partial level-0 tile and entry bundle reproduce the proof.
    for (let i = 0; i < 3; i++) await post(`${s.url}/api/v2/log/entries`, hashedRekordV2(signArtifact(Buffer.from(`tiles ${i}`))));
    const cpRes = await get(`${s.url}/checkpoint`);
    assert.equal(cpRes.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.match(cpRes.headers.get('cache-control')!, /max-age=1/);
    const cp = verifySignedCheckpoint(cpRes.text, s.v2.info.origin, s.v2Keys.publicKey);
    assert.equal(cp.origin, 'log2025.keyless.test');
    assert.equal(cp.size, 4);
    const tile = await get(`${s.url}/tile/0/000.p/${cp.size}`);
    assert.equal(tile.status, 200);
    assert.match(tile.headers.get('cache-control')!, /immutable/);
    assert.equal(tile.bytes.length, 32 * cp.size);
    const leaves = Array.from({ length: cp.size }, (_, i) => tile.bytes.subarray(i * 32, i * 32 + 32));
    assert.deepEqual(leaves[Number(tle.logIndex)], leafHash(Buffer.from(tle.canonicalizedBody, 'base64')));
    const entries = await get(`${s.url}/tile/entries/000.p/${cp.size}`);
    assert.equal(entries.bytes.readUInt16BE(0), Buffer.from(tle.canonicalizedBody, 'base64').length);
    const proofNow = (await import('../../src/merkle/index.js')).inclusionProof(
      (await import('../../src/merkle/index.js')).memoryNodeReader(leaves),
      0,
      cp.size,
    );
    verifyInclusion(0, cp.size, leaves[0]!, proofNow, cp.rootHash);
    assert.equal((await get(`${s.url}/api/v2/checkpoint`)).text, cpRes.text);
    assert.equal((await get(`${s.url}/tile/0/000`)).status, 404, 'full tile does not exist yet');
    assert.equal((await get(`${s.url}/tile/0/000.p/9`)).status, 404);
    assert.equal((await get(`${s.url}/tile/0/x000/000.p/1`)).status, 404);
  });

  test('Rekor v2: a dsseRequestV002 is logged as hashedrekord over the PAE', async () => {
    const { sign, createHash } = await import('node:crypto');
    const { signerKeys } = await import('./helpers.js');
    const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
    const payloadType = 'application/vnd.in-toto+json';
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `), payload]);
    const sig = sign('sha256', pae, signerKeys.privateKey);
    const res = await post(`${s.url}/api/v2/log/entries`, {
      dsseRequestV002: {
        envelope: { payload: payload.toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
        verifiers: [{ publicKey: { rawBytes: signerDer.toString('base64') }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }],
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    assert.deepEqual(res.json.kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
    const body = JSON.parse(Buffer.from(res.json.canonicalizedBody, 'base64').toString());
    assert.equal(body.spec.hashedRekordV002.data.digest, createHash('sha256').update(pae).digest('base64'));
    assert.equal(body.spec.hashedRekordV002.signature.content, sig.toString('base64'));
    // The log's own proof for it verifies. (sigstore-js 3.1.1 compares a DSSE bundle's
    // hashedrekord digest with SHA-256 of the payload, not of the PAE, so it cannot verify
    // such bundles; sigstore-go and current rekor-tiles use the PAE.)
    const cp = verifySignedCheckpoint(res.json.inclusionProof.checkpoint.envelope, s.v2.info.origin, s.v2Keys.publicKey);
    verifyInclusion(
      Number(res.json.logIndex),
      cp.size,
      leafHash(Buffer.from(res.json.canonicalizedBody, 'base64')),
      res.json.inclusionProof.hashes.map((h: string) => Buffer.from(h, 'base64')),
      cp.rootHash,
    );
  });
}
