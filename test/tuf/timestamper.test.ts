// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The online timestamper: its plan is a pure function of (repository state, clock), tested
// with chosen clocks; and a real `keyless serve` with a 2-second timestamp keeps the
// repository valid while it runs, while clients fail closed once it is stopped past expiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyOnlinePlan, keyIdOf, planOnlineSigning, publishTargets, readRepository } from '../../src/tuf/index.js';
import { contents, DAY, makeRepo, PERIODS, runCli, serveDir, tempDir } from './helpers.js';
import { startServe } from '../server/helpers.js';

test('plan: nothing due after signing; timestamp due after a seventh of its period; snapshot with new targets; a shortened period re-signs at once', () => {
  const t0 = new Date('2030-01-01T00:00:00Z');
  const r = makeRepo('plan', PERIODS, t0);
  let state = readRepository(r.dir)!;
  const fresh = planOnlineSigning(state, t0, PERIODS);
  assert.deepEqual([fresh.snapshot, fresh.timestamp], [false, false]);
  assert.equal(fresh.nextAt.toISOString(), new Date(t0.getTime() + DAY).toISOString(), 'a 7-day timestamp is re-signed daily');

  const later = new Date(t0.getTime() + DAY + 1000);
  const due = planOnlineSigning(state, later, PERIODS);
  assert.deepEqual([due.snapshot, due.timestamp], [false, true]);
  state = applyOnlinePlan(r.dir, state, due, r.keys.online, later, PERIODS);
  assert.equal(state.timestamp.signed.version, 2);
  assert.equal(state.snapshot.signed.version, 1);

  publishTargets(r.dir, state, r.keys.targets, contents('changed'), later, PERIODS);
  state = readRepository(r.dir)!;
  const changed = planOnlineSigning(state, later, PERIODS);
  assert.deepEqual([changed.snapshot, changed.timestamp], [true, true]);
  state = applyOnlinePlan(r.dir, state, changed, r.keys.online, later, PERIODS);
  assert.equal(state.snapshot.signed.meta['targets.json']!.version, 2);
  const snapshotBytes = readFileSync(join(r.dir, `${state.snapshot.signed.version}.snapshot.json`));
  assert.equal(state.timestamp.signed.snapshotMeta.hashes!.sha256, createHash('sha256').update(snapshotBytes).digest('hex'));
  assert.equal(state.timestamp.signed.snapshotMeta.length, snapshotBytes.length);

  const shortened = { ...PERIODS, timestamp: 60_000 };
  assert.equal(planOnlineSigning(state, later, shortened).timestamp, true, 'a timestamp that outlives the configured period is re-signed');
  assert.equal(
    planOnlineSigning(readRepository(r.dir)!, later, PERIODS, keyIdOf(r.keys.targets.publicKey)).snapshot,
    true,
    'another online key re-signs both',
  );
});

test('keyless serve with tuf.timestampExpiry "2s": the timestamper keeps the repository valid; stopped past expiry, clients fail closed', async () => {
  const dir = tempDir('keyless-tuf-ts-');
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({ tuf: { timestampExpiry: '2s', snapshotExpiry: '1d' } }));
  const server = await startServe({ args: ['--config', configPath] });
  const env = { KEYLESS_TUF_ROOT: join(dir, 'cache') };
  let stopped = false;
  try {
    const init = await runCli(['initialize', '--mirror', `${server.url}/tuf`, '--root', join(server.dataDir, 'tuf', 'root.json')], env);
    assert.equal(init.code, 0, init.stderr);
    const firstExpiry = Date.parse(/timestamp v\d+ \(expires ([^)]+)\)/.exec(init.stdout)![1]!);
    // Wait until the timestamp the client first saw has expired: the server must have re-signed.
    while (Date.now() < firstExpiry + 1500) await sleep(250);
    const show = await runCli(['trusted-root', 'show'], env);
    assert.equal(show.code, 0, show.stderr);
    const version = Number(/timestamp v(\d+)/.exec(show.stdout)![1]);
    assert.ok(version > 2, `timestamp re-signed while running (v${version})`);

    await server.stop();
    stopped = true;
    const cachedExpiry = Date.parse(/timestamp v\d+ \(expires ([^)]+)\)/.exec(show.stdout)![1]!);
    while (Date.now() < cachedExpiry + 1500) await sleep(250);
    // Stopped server: the mirror is unreachable and the cache has expired.
    const down = await runCli(['trusted-root', 'show'], env);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^error: TUF mirror unreachable .*the cached TUF timestamp .*expired/m);
    const offline = await runCli(['trusted-root', 'show', '--offline'], env);
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /^error: the cached TUF timestamp .*expired/m);
    // The stopped server's files served as they are (a frozen mirror): refused too.
    const frozen = await serveDir(join(server.dataDir, 'tuf', 'repository'));
    try {
      writeFileSync(join(env.KEYLESS_TUF_ROOT, 'remote.json'), JSON.stringify({ mirror: frozen.url }));
      const r = await runCli(['trusted-root', 'show'], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: TUF timestamp .*expired/m);
    } finally {
      await frozen.close();
    }
  } finally {
    if (!stopped) await server.stop();
  }
});
