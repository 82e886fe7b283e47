// @integration: three `keyless serve` processes on one PostgreSQL database, one killed mid-load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeEntryBundle,
  entriesPath,
  leafHash,
  rootFromLeafHashes,
  verifyInclusion,
  verifySignedCheckpoint,
} from '../../src/merkle/index.js';
import { createTestDatabase, sql } from '../support/postgres.js';
import { runKeyless, signOnce, startServe, tempDir, type ServeProcess } from './helpers.js';
import { get, hashedRekordV1, hashedRekordV2, post, signArtifact } from '../tlog/helpers.js';

const CLIENTS_PER_FRONTEND = 12;
const REQUESTS_PER_CLIENT = 12;

interface Acked {
  kind: 'v1' | 'v2';
  index: number;
  body: Buffer;
  uuid?: string;
}

test('three frontends on one database: concurrent writers, a SIGKILLed frontend, duplicates across frontends; the logs verify end to end', async () => {
  const db = await createTestDatabase('frontends');
  const dataDir = join(tempDir(), 'data');
  const args = ['--database', db.url, '--public-url', 'http://localhost:9'];
  const frontends: ServeProcess[] = [];
  try {
    // Started together on one data directory: keys are created once, by whichever starts first.
    frontends.push(...(await Promise.all([1, 2, 3].map(() => startServe({ dataDir, args })))));
    const keyFiles = readdirSync(join(dataDir, 'keys')).sort();
    assert.equal(new Set(keyFiles).size, keyFiles.length);
    const pems = await Promise.all(frontends.map(async (f) => (await get(`${f.url}/api/v1/log/publicKey`)).text));
    assert.equal(new Set(pems).size, 1, 'every frontend signs with the same Rekor v1 key');
    const root = JSON.parse(readFileSync(join(dataDir, 'trusted_root.json'), 'utf8')) as {
      tlogs: { baseUrl: string; publicKey: { rawBytes: string } }[];
    };
    const v2Key = createPublicKey({ key: Buffer.from(root.tlogs[1]!.publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' });

    const acked: Acked[] = [];
    const served: string[] = [];
    const victim = frontends[2]!;
    let killed = false;
    const client = async (f: ServeProcess, c: number, alive: () => ServeProcess[]) => {
      for (let r = 0; r < REQUESTS_PER_CLIENT; r++) {
        const signed = signArtifact(randomBytes(32));
        const v2 = r % 2 === 1;
        let res;
        try {
          res = await post(`${f.url}/api/${v2 ? 'v2' : 'v1'}/log/entries`, v2 ? hashedRekordV2(signed) : hashedRekordV1(signed));
        } catch {
          assert.ok(f === victim && killed, 'only the killed frontend stops answering');
          return;
        }
        assert.equal(res.status, 201, JSON.stringify(res.json));
        if (v2) acked.push({ kind: 'v2', index: Number(res.json.logIndex), body: Buffer.from(res.json.canonicalizedBody, 'base64') });
        else {
          const [uuid, e] = Object.entries(res.json as Record<string, { logIndex: number; body: string }>)[0]!;
          acked.push({ kind: 'v1', index: e.logIndex, body: Buffer.from(e.body, 'base64'), uuid });
          // The same entry at another frontend: 409 with the existing entry.
          const other = alive().find((o) => o !== f);
          if (other && c % 3 === 0) {
            const dup = await post(`${other.url}/api/v1/log/entries`, hashedRekordV1(signed));
            assert.equal(dup.status, 409);
            assert.equal(dup.headers.get('location'), `/api/v1/log/entries/${uuid}`);
          }
        }
        if (f === victim && !killed && acked.length >= 60) {
          killed = true;
          victim.child.kill('SIGKILL');
        }
        if (r % 4 === 0) {
          const o = alive()[c % alive().length]!;
          const cp = await get(`${o.url}/api/v2/checkpoint`).catch(() => undefined);
          if (cp?.status === 200) served.push(cp.text);
        }
      }
    };
    const alive = () => frontends.filter((f) => f !== victim || !killed);
    await Promise.all(frontends.flatMap((f) => Array.from({ length: CLIENTS_PER_FRONTEND }, (_, c) => client(f, c, alive))));
    assert.ok(killed, 'the victim was killed during the load');
    await victim.stop('SIGKILL');
    const [a, b] = [frontends[0]!, frontends[1]!];

    // Rekor v1: every index from 0 to the size holds an entry with a proof to the latest tree head.
    // A frontend's view may trail the others' writes by its refresh interval: wait until it covers every acknowledged entry.
    const covers = (kind: 'v1' | 'v2') => Math.max(0, ...acked.filter((x) => x.kind === kind).map((x) => x.index + 1));
    let v1Head: { treeSize: number; rootHash: string };
    while ((v1Head = (await get(`${a.url}/api/v1/log`)).json).treeSize < covers('v1')) await new Promise((r) => setTimeout(r, 50));
    const v1Acked = acked.filter((x) => x.kind === 'v1');
    assert.ok(v1Head.treeSize >= v1Acked.length);
    const v1Bodies: Buffer[] = [];
    for (let i = 0; i < v1Head.treeSize; i++) {
      const res = await get(`${(i % 2 ? a : b).url}/api/v1/log/entries?logIndex=${i}`);
      assert.equal(res.status, 200, `v1 entry ${i}`);
      const e = Object.values(
        res.json as Record<
          string,
          { body: string; logIndex: number; verification: { inclusionProof: { treeSize: number; rootHash: string; hashes: string[] } } }
        >,
      )[0]!;
      const body = Buffer.from(e.body, 'base64');
      const p = e.verification.inclusionProof;
      assert.deepEqual([e.logIndex, p.treeSize, p.rootHash], [i, v1Head.treeSize, v1Head.rootHash]);
      verifyInclusion(
        i,
        p.treeSize,
        leafHash(body),
        p.hashes.map((h) => Buffer.from(h, 'hex')),
        Buffer.from(p.rootHash, 'hex'),
      );
      v1Bodies.push(body);
    }
    for (const x of v1Acked) assert.deepEqual(v1Bodies[x.index], x.body, `acknowledged v1 entry at ${x.index}`);
    assert.equal(new Set(v1Acked.map((x) => x.index)).size, v1Acked.length, 'no index given twice');

    // Rekor v2: the entry bundles of any frontend rebuild the latest checkpoint; every acknowledged entry sits at its index.
    let latest = verifySignedCheckpoint((await get(`${b.url}/api/v2/checkpoint`)).text, 'localhost', v2Key);
    while (latest.size < covers('v2')) {
      await new Promise((r) => setTimeout(r, 50));
      latest = verifySignedCheckpoint((await get(`${b.url}/api/v2/checkpoint`)).text, 'localhost', v2Key);
    }
    const leaves: Buffer[] = [];
    const v2Bodies: Buffer[] = [];
    for (let t = 0; t * 256 < latest.size; t++) {
      const width = Math.min(256, latest.size - t * 256);
      const res = await get(`${(t % 2 ? a : b).url}/api/v2/${entriesPath(t, width === 256 ? undefined : width)}`);
      assert.equal(res.status, 200);
      for (const e of decodeEntryBundle(res.bytes)) {
        v2Bodies.push(Buffer.from(e));
        leaves.push(leafHash(e));
      }
    }
    assert.deepEqual(Buffer.from(latest.rootHash), rootFromLeafHashes(leaves));
    const v2Acked = acked.filter((x) => x.kind === 'v2');
    assert.ok(latest.size >= v2Acked.length);
    for (const x of v2Acked) assert.deepEqual(v2Bodies[x.index], x.body, `acknowledged v2 entry at ${x.index}`);
    // Every checkpoint a frontend served is a prefix of the latest tree.
    assert.ok(served.length > 0);
    for (const text of served) {
      const cp = verifySignedCheckpoint(text, 'localhost', v2Key);
      assert.deepEqual(Buffer.from(cp.rootHash), rootFromLeafHashes(leaves.slice(0, cp.size)), `served checkpoint of size ${cp.size}`);
    }
    // Dense in the database too: no gaps, no duplicates.
    const rows = await sql<{ n: string; max: string; distinct: string }>(
      db.url,
      'SELECT count(*) AS n, max(idx) AS max, count(DISTINCT (log_id, idx)) AS distinct FROM entries GROUP BY log_id ORDER BY log_id',
    );
    for (const r of rows) assert.deepEqual([Number(r.n), Number(r.distinct)], [Number(r.max) + 1, Number(r.max) + 1]);

    // A restarted frontend continues the same logs.
    frontends[2] = await startServe({ dataDir, args });
    const again = await post(`${frontends[2].url}/api/v2/log/entries`, hashedRekordV2(signArtifact(randomBytes(32))));
    assert.equal(again.status, 201);
    assert.equal(Number(again.json.logIndex), latest.size);
  } finally {
    await Promise.all(frontends.map((f) => f.stop()));
    await db.drop();
  }
});

test('keyless storage migrate: a SQLite-backed instance moves to PostgreSQL and two frontends continue its logs', async () => {
  const db = await createTestDatabase('cli_migrate');
  const dataDir = join(tempDir(), 'data');
  const running: ServeProcess[] = [];
  try {
    const single = await startServe({ dataDir });
    running.push(single);
    for (let i = 0; i < 3; i++) await signOnce(single.url);
    const before = (await get(`${single.url}/api/v1/log`)).json as { treeSize: number; rootHash: string; signedTreeHead: string };
    const v2Before = (await get(`${single.url}/api/v2/checkpoint`)).text;
    const busy = await runKeyless(['storage', 'migrate', '--from', dataDir, '--to', db.url]);
    assert.equal(busy.code, 1, 'refused while a serve uses the data directory');
    assert.match(busy.stderr, /another keyless serve/);
    await single.stop();
    running.pop();

    const moved = await runKeyless(['storage', 'migrate', '--from', dataDir, '--to', db.url]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /rekor-v1: 3 entries\nrekor-v2: 3 entries\nct: 3 entries/);

    const args = ['--database', db.url];
    running.push(...(await Promise.all([1, 2].map(() => startServe({ dataDir, args })))));
    const [a, b] = running as [ServeProcess, ServeProcess];
    assert.deepEqual((await get(`${a.url}/api/v1/log`)).json, { ...before, treeID: (await get(`${a.url}/api/v1/log`)).json.treeID });
    assert.equal((await get(`${b.url}/api/v2/checkpoint`)).text, v2Before);
    const next = await signOnce(b.url);
    assert.deepEqual(next, { v1Index: 3, v2Index: 3 });
  } finally {
    await Promise.all(running.map((s) => s.stop()));
    await db.drop();
  }
});

test('a frontend serves what another frontend wrote without waiting for its poll (NOTIFY wakes it)', async () => {
  const db = await createTestDatabase('notify');
  const dir = tempDir();
  // Polling once an hour: a frontend whose checkpoint moves sooner was woken by the notification.
  const config = join(dir, 'keyless.json');
  writeFileSync(config, JSON.stringify({ storage: { driver: 'postgres', url: db.url, pollMs: 3_600_000 } }));
  const args = ['--config', config, '--public-url', 'http://localhost:9'];
  const dataDir = join(dir, 'data');
  const frontends: ServeProcess[] = [];
  try {
    frontends.push(await startServe({ dataDir, args }));
    frontends.push(await startServe({ dataDir, args }));
    const [a, b] = frontends as [ServeProcess, ServeProcess];
    for (let round = 1; round <= 3; round++) {
      const res = await post(`${a.url}/api/v2/log/entries`, hashedRekordV2(signArtifact(randomBytes(32))));
      assert.equal(res.status, 201, JSON.stringify(res.json));
      const size = Number(res.json.logIndex) + 1;
      // Only the checkpoint is read from b: nothing in the request names the new entry.
      for (let i = 0; ; i++) {
        const cp = await get(`${b.url}/api/v2/checkpoint`);
        if (Number(cp.text.split('\n')[1]) >= size) break;
        if (i > 600) assert.fail(`frontend b still serves size ${cp.text.split('\n')[1]} after ${round} appends at a`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const bundle = await get(`${b.url}/tile/entries/000.p/${size}`);
      assert.equal(bundle.status, 200);
      assert.deepEqual(Buffer.from(decodeEntryBundle(bundle.bytes).at(-1)!), Buffer.from(res.json.canonicalizedBody, 'base64'));
    }
  } finally {
    await Promise.all(frontends.map((f) => f.stop()));
    await db.drop();
  }
});
