// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { softwareSigner } from '../../src/core/signer.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startLogServer } from '../support/log-server.js';
import { hashedRekordV1, hashedRekordV2, signArtifact, get } from './helpers.js';
import { LogEngine, noteCheckpointSigner } from '../../src/log/index.js';
import {
  leafHash,
  verifyInclusion,
  verifyConsistency,
  verifySignedCheckpoint,
  rootFromEntries,
  parseSignedNote,
  parseCheckpoint,
} from '../../src/merkle/index.js';

interface Ack {
  api: 'v1' | 'v2';
  leaf: Buffer;
  index: number;
  checkpoint: string;
}

test('SIGKILL under load, three times: every acknowledged entry survives with a valid proof; checkpoints stay consistent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-crash-'));
  const acks: Ack[] = [];
  const seen = { v1: [] as string[], v2: [] as string[] };
  let counter = 0;
  try {
    for (let round = 0; round < 3; round++) {
      const { child, url } = await startLogServer(dir);
      const exited = new Promise((r) => child.on('exit', r));
      let stop = false;
      const client = async (c: number): Promise<void> => {
        while (!stop) {
          const api = c % 2 === 0 ? 'v1' : 'v2';
          const signed = signArtifact(Buffer.from(`crash ${round} ${c} ${counter++} ${Math.random()}`));
          try {
            const res = await fetch(`${url}/api/${api}/log/entries`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(api === 'v1' ? hashedRekordV1(signed) : hashedRekordV2(signed)),
            });
            const json = (await res.json()) as any;
            if (res.status !== 201) continue;
            if (api === 'v1') {
              const e = Object.values(json)[0] as any;
              acks.push({
                api,
                leaf: leafHash(Buffer.from(e.body, 'base64')),
                index: e.logIndex,
                checkpoint: e.verification.inclusionProof.checkpoint,
              });
              seen.v1.push(e.verification.inclusionProof.checkpoint);
            } else {
              acks.push({
                api,
                leaf: leafHash(Buffer.from(json.canonicalizedBody, 'base64')),
                index: Number(json.logIndex),
                checkpoint: json.inclusionProof.checkpoint.envelope,
              });
              seen.v2.push(json.inclusionProof.checkpoint.envelope);
            }
          } catch {
            return; // the server died mid-request: that request was never acknowledged
          }
        }
      };
      const clients = Array.from({ length: 16 }, (_, c) => client(c));
      const reader = (async () => {
        while (!stop) {
          try {
            const r = await get(`${url}/checkpoint`);
            if (r.status === 200) seen.v2.push(r.text);
          } catch {
            return;
          }
          await new Promise((res) => setTimeout(res, 20));
        }
      })();
      // Kill once this round has acknowledged some entries (however loaded the machine is), at a random moment after.
      const roundStart = acks.length;
      const deadline = Date.now() + 60_000;
      while (acks.length - roundStart < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 300)));
      child.kill('SIGKILL');
      await exited;
      stop = true;
      await Promise.all([...clients, reader]);
    }
    assert.ok(acks.length >= 60, `enough acknowledged entries (${acks.length})`);

    // A restarted server serves every acknowledged v1 entry with a proof to its checkpoint.
    const { child, url } = await startLogServer(dir);
    const v1Key = createPublicKey(createPrivateKey(readFileSync(join(dir, 'rekor-v1.key.pem'))));
    const info = (await get(`${url}/api/v1/log`)).json;
    const keyName = 'rekor.keyless.test';
    for (const a of acks.filter((x) => x.api === 'v1').slice(0, 40)) {
      const r = await get(`${url}/api/v1/log/entries/${a.leaf.toString('hex')}`);
      assert.equal(r.status, 200);
      const e = Object.values(r.json)[0] as any;
      assert.equal(e.logIndex, a.index);
      const cp = verifySignedCheckpoint(e.verification.inclusionProof.checkpoint, keyName, v1Key);
      verifyInclusion(
        a.index,
        cp.size,
        a.leaf,
        e.verification.inclusionProof.hashes.map((h: string) => Buffer.from(h, 'hex')),
        cp.rootHash,
      );
    }
    for (const note of new Set(seen.v1)) {
      const old = verifySignedCheckpoint(note, keyName, v1Key);
      const p = await get(`${url}/api/v1/log/proof?firstSize=${old.size}&lastSize=${info.treeSize}`);
      assert.equal(p.status, 200);
      verifyConsistency(
        old.size,
        info.treeSize,
        p.json.hashes.map((h: string) => Buffer.from(h, 'hex')),
        old.rootHash,
        Buffer.from(info.rootHash, 'hex'),
      );
    }
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));

    // Directly in the storage: nothing half-written, every acknowledged entry at its index.
    const db = new Database(join(dir, 'log.db'), { readonly: true });
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
    const engine = LogEngine.openSqlite(dir);
    const keys = {
      v1: { privateKey: createPrivateKey(readFileSync(join(dir, 'rekor-v1.key.pem'))) },
      v2: { privateKey: createPrivateKey(readFileSync(join(dir, 'rekor-v2.key.pem'))) },
    };
    for (const api of ['v1', 'v2'] as const) {
      const pub = createPublicKey(keys[api].privateKey);
      const name = api === 'v1' ? 'rekor-v1' : 'rekor-v2';
      const keyName = api === 'v1' ? 'rekor.keyless.test' : 'log2025.keyless.test';
      const log = await engine.openLog({
        name,
        origin: (id) => `${keyName} - ${id}`,
        signer: ({ origin }) => noteCheckpointSigner({ origin, keyName, signer: softwareSigner(keys[api].privateKey) }),
      });
      const latest = verifySignedCheckpoint(log.latestCheckpoint().signed, keyName, pub);
      assert.equal(latest.size, log.size);
      const all = [];
      for (let i = 0; i < log.size; i++) all.push((await log.getEntry(i))!.body);
      assert.equal(all.length, log.size, 'every index up to the size has an entry');
      assert.deepEqual(Buffer.from(latest.rootHash), rootFromEntries(all), 'tiles and entries agree');
      for (const a of acks.filter((x) => x.api === api)) {
        assert.equal(await log.findByLeafHash(a.leaf), a.index);
        const ackCp = parseCheckpoint(parseSignedNote(a.checkpoint).body);
        verifyInclusion(a.index, latest.size, a.leaf, await log.inclusionProof(a.index), latest.rootHash);
        verifyConsistency(ackCp.size, latest.size, await log.consistencyProof(ackCp.size), ackCp.rootHash, latest.rootHash);
      }
      for (const note of new Set(seen[api])) {
        const old = verifySignedCheckpoint(note, keyName, pub);
        verifyConsistency(old.size, latest.size, await log.consistencyProof(old.size), old.rootHash, latest.rootHash);
      }
    }
    await engine.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
