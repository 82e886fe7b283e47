// @integration: PostgreSQL stopped and started under load (a private cluster, so the shared one is untouched).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { decodeEntryBundle, entriesPath } from '../../src/merkle/index.js';
import { startThrowawayCluster } from '../support/postgres.js';
import { startServe, tempDir, type ServeProcess } from './helpers.js';
import { get, hashedRekordV2, post, signArtifact } from '../tlog/helpers.js';

test('PostgreSQL stops under load: frontends answer 503 with Retry-After (never 500, never die) and recover by themselves', async () => {
  const cluster = await startThrowawayCluster();
  const frontends: ServeProcess[] = [];
  let running = true;
  try {
    const dataDir = join(tempDir(), 'data');
    const args = ['--database', cluster.url, '--public-url', 'http://localhost:9'];
    frontends.push(...(await Promise.all([1, 2].map(() => startServe({ dataDir, args })))));
    const statuses = new Map<number, number>();
    const acked: { index: number; body: Buffer }[] = [];
    let phase: 'before' | 'down' | 'after' = 'before';
    let okAfter = 0;
    const client = async (f: ServeProcess) => {
      while (running) {
        const res = await post(`${f.url}/api/v2/log/entries`, hashedRekordV2(signArtifact(randomBytes(32))));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 201) {
          acked.push({ index: Number(res.json.logIndex), body: Buffer.from(res.json.canonicalizedBody, 'base64') });
          if (phase === 'after') okAfter++;
        } else {
          assert.equal(res.status, 503, `only 201 or 503, got ${res.status} ${JSON.stringify(res.json)}`);
          assert.equal(res.headers.get('retry-after'), '1');
          assert.equal(res.json.code, 'LOG_STORAGE_UNAVAILABLE');
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const load = frontends.flatMap((f) => Array.from({ length: 8 }, () => client(f)));
    const until = async (cond: () => boolean) => {
      while (!cond()) await new Promise((r) => setTimeout(r, 20));
    };
    await until(() => acked.length >= 100);
    await cluster.stop();
    phase = 'down';
    const failedBefore = statuses.get(503) ?? 0;
    await until(() => (statuses.get(503) ?? 0) >= failedBefore + 16);
    // Reads served from memory go on while the database is away.
    for (const f of frontends) assert.equal((await get(`${f.url}/api/v2/checkpoint`)).status, 200);
    await cluster.start();
    phase = 'after';
    await until(() => okAfter >= 100);
    running = false;
    await Promise.all(load);
    for (const f of frontends) assert.equal(f.child.exitCode, null, 'the frontend is still running');

    // Nothing acknowledged was lost and the log is dense.
    // A frontend's checkpoint may trail the other's writes by its refresh interval: wait until it covers every acknowledged entry.
    const needed = Math.max(...acked.map((x) => x.index)) + 1;
    let size = 0;
    while ((size = Number((await get(`${frontends[0]!.url}/api/v2/checkpoint`)).text.split('\n')[1])) < needed)
      await new Promise((r) => setTimeout(r, 50));
    const bodies: Buffer[] = [];
    for (let t = 0; t * 256 < size; t++) {
      const width = Math.min(256, size - t * 256);
      const res = await get(`${frontends[t % 2]!.url}/api/v2/${entriesPath(t, width === 256 ? undefined : width)}`);
      assert.equal(res.status, 200);
      bodies.push(...decodeEntryBundle(res.bytes).map((e) => Buffer.from(e)));
    }
    assert.equal(bodies.length, size);
    for (const a of acked) assert.deepEqual(bodies[a.index], a.body, `acknowledged entry ${a.index}`);
    assert.equal(new Set(acked.map((a) => a.index)).size, acked.length);
  } finally {
    running = false;
    await Promise.all(frontends.map((f) => f.stop()));
    await cluster.destroy();
  }
});
