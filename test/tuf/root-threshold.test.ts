// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Several root keys and a threshold: each new root is signed by a threshold of the previous
// root's keys and by its own keys (TUF 5.3.4), and tuf-js (the client Keyless runs) walks
// such a chain and refuses a root signed below either threshold, leaving the cache as it was.
// Then the same through `keyless tuf rotate-root --root-keys/--root-threshold` on a stopped
// server's data directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyOnlinePlan,
  keyIdOf,
  planOnlineSigning,
  publishTargets,
  readRepository,
  writeNextRoot,
  type TufSigningKey,
} from '../../src/tuf/index.js';
import { contents } from './helpers.js';
import { isKeylessError } from '../../src/core/errors.js';
import { PERIODS, makeRepo, newKey, runCli, serveDir, snapshotDir, tempDir, type CliResult } from './helpers.js';
import { freePort, startServe } from '../server/helpers.js';

function rootOf(path: string): { version: number; threshold: number; keyids: string[]; signatures: string[] } {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  return {
    version: json.signed.version,
    threshold: json.signed.roles.root.threshold,
    keyids: json.signed.roles.root.keyids,
    signatures: json.signatures.map((s: { keyid: string }) => s.keyid),
  };
}

function assertRefused(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code (stdout ${r.stdout}, stderr ${r.stderr})`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

/** Removes the signatures of `keys` from a published root version (what an attacker with fewer keys could publish). */
function dropSignatures(dir: string, version: number, keys: TufSigningKey[]): void {
  const path = join(dir, `${version}.root.json`);
  const json = JSON.parse(readFileSync(path, 'utf8'));
  const ids = new Set(keys.map((k) => keyIdOf(k.publicKey)));
  json.signatures = json.signatures.filter((s: { keyid: string }) => !ids.has(s.keyid));
  writeFileSync(path, JSON.stringify(json));
}

test('tuf-js walks 1 -> 2 (3 keys, threshold 2) -> 3 (signed by 2 of those 3) and refuses roots below the old or the new threshold', async () => {
  const r = makeRepo('threshold');
  const srv = await serveDir(r.dir);
  const env = { KEYLESS_TUF_ROOT: join(tempDir('keyless-tuf-cache-'), 'cache') };
  try {
    assert.equal((await runCli(['initialize', '--mirror', srv.url, '--root', r.rootPath], env)).code, 0);
    const state = () => readRepository(r.dir)!;
    const v2Keys = [newKey(), newKey(), newKey('ed25519')];
    writeNextRoot(r.dir, state(), { currentRootKeys: [r.keys.root], newRootKeys: v2Keys, rootThreshold: 2 }, new Date(), PERIODS);
    const v2 = rootOf(join(r.dir, '2.root.json'));
    assert.equal(v2.threshold, 2);
    assert.equal(v2.keyids.length, 3);
    assert.equal(v2.signatures.length, 4, 'the old key and the three new ones sign');

    // Version 3 with only two of the three version-2 keys at hand: enough.
    const v3Keys = [newKey(), newKey()];
    writeNextRoot(
      r.dir,
      state(),
      { currentRootKeys: [v2Keys[0]!, v2Keys[2]!], newRootKeys: v3Keys, rootThreshold: 2 },
      new Date(),
      PERIODS,
    );
    const walked = await runCli(['trusted-root', 'show'], env);
    assert.equal(walked.code, 0, walked.stderr);
    assert.match(walked.stdout, /root v3\b/);

    // One of version 3's two keys is not enough to sign version 4 here ...
    assert.throws(
      () => writeNextRoot(r.dir, state(), { currentRootKeys: [v3Keys[0]!], newRootKeys: [newKey()] }, new Date(), PERIODS),
      (e: unknown) => isKeylessError(e) && e.code === 'TUF_KEY_MISSING' && /needs 2 of its keys/.test(e.message),
    );
    assert.throws(
      () => writeNextRoot(r.dir, state(), { currentRootKeys: v3Keys, newRootKeys: [newKey()], rootThreshold: 2 }, new Date(), PERIODS),
      (e: unknown) => isKeylessError(e) && e.code === 'TUF_THRESHOLD_INVALID',
    );
    // ... and a client refuses a version 4 that only one of them signed (the old threshold).
    const before = snapshotDir(env.KEYLESS_TUF_ROOT);
    const v4Key = newKey();
    writeNextRoot(r.dir, state(), { currentRootKeys: v3Keys, newRootKeys: [v4Key], rootThreshold: 1 }, new Date(), PERIODS);
    dropSignatures(r.dir, 4, [v3Keys[1]!]);
    assertRefused(await runCli(['trusted-root', 'show'], env), /TUF root .*signed by 1\/2 keys/);
    assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before, 'the cache is untouched');

    // A version 4 signed by both old keys but by only one of its own two (the new threshold).
    rmSync(join(r.dir, '4.root.json'));
    const v4Keys = [newKey(), newKey()];
    writeNextRoot(r.dir, state(), { currentRootKeys: v3Keys, newRootKeys: v4Keys, rootThreshold: 2 }, new Date(), PERIODS);
    dropSignatures(r.dir, 4, [v4Keys[1]!]);
    assertRefused(await runCli(['trusted-root', 'show'], env), /TUF root .*signed by 1\/2 keys/);
    assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before, 'the cache is untouched');
  } finally {
    await srv.close();
  }
});

test('targets with two keys and threshold 2: tuf-js accepts targets signed by both and refuses targets signed by one', async () => {
  const r = makeRepo('targets-threshold');
  const srv = await serveDir(r.dir);
  const env = { KEYLESS_TUF_ROOT: join(tempDir('keyless-tuf-cache-'), 'cache') };
  try {
    assert.equal((await runCli(['initialize', '--mirror', srv.url, '--root', r.rootPath], env)).code, 0);
    const state = () => readRepository(r.dir)!;
    const online = () => {
      const now = new Date();
      applyOnlinePlan(r.dir, state(), planOnlineSigning(state(), now, PERIODS), r.keys.online, now, PERIODS);
    };
    const targetsKeys = [newKey(), newKey()];
    writeNextRoot(
      r.dir,
      state(),
      { currentRootKeys: [r.keys.root], newRootKeys: [r.keys.root], targets: targetsKeys.map((k) => k.publicKey), targetsThreshold: 2 },
      new Date(),
      PERIODS,
    );
    assert.ok(publishTargets(r.dir, state(), targetsKeys, contents('two keys'), new Date(), PERIODS));
    online();
    const accepted = await runCli(['trusted-root', 'show'], env);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /root v2 .*targets v2/);

    const before = snapshotDir(env.KEYLESS_TUF_ROOT);
    publishTargets(r.dir, state(), [targetsKeys[0]!], contents('one key'), new Date(), PERIODS);
    online();
    assertRefused(await runCli(['trusted-root', 'show'], env), /TUF targets .*signed by 1\/2 keys/);
    assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before, 'the cache is untouched');
  } finally {
    await srv.close();
  }
});

test('keyless tuf rotate-root --root-keys 3 --root-threshold 2: published, walked by the client, refused with too few keys at hand', async () => {
  const work = tempDir('keyless-tuf-threshold-');
  const dataDir = join(work, 'data');
  const env = { KEYLESS_TUF_ROOT: join(work, 'cache') };
  const port = await freePort();
  const server = await startServe({ dataDir, args: ['--port', String(port)] });
  assert.equal((await runCli(['initialize', '--mirror', `${server.url}/tuf`, '--root', join(dataDir, 'tuf', 'root.json')], env)).code, 0);
  await server.stop();

  const usage = [
    ['--root-keys', '3', '--root-threshold', '4'],
    ['--root-keys', '0'],
    ['--root-keys', '17'],
    ['--keep-root-key', '--root-keys', '2'],
  ];
  for (const flags of usage) {
    const r = await runCli(['tuf', 'rotate-root', '--data-dir', dataDir, ...flags], {});
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }

  const rotated = await runCli(['tuf', 'rotate-root', '--data-dir', dataDir, '--root-keys', '3', '--root-threshold', '2'], {});
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, /Root keys: 1 of \[[0-9a-f]{16}\] -> 2 of \[[0-9a-f]{16}, [0-9a-f]{16}, [0-9a-f]{16}\]/);
  const repo = join(dataDir, 'tuf', 'repository');
  const v2 = rootOf(join(repo, '2.root.json'));
  assert.deepEqual([v2.threshold, v2.keyids.length, v2.signatures.length], [2, 3, 4]);

  // Two of the three keys suffice for the next rotation; the third is kept elsewhere.
  const keysDir = join(dataDir, 'keys');
  const apart = join(work, 'apart');
  mkdirSync(apart);
  const v2KeyFiles = readdirSync(keysDir).filter((n) => /^tuf-root-2(-k\d+)?\./.test(n));
  assert.equal(new Set(v2KeyFiles.map((n) => n.split('.')[0])).size, 3, `three version-2 root keys in the store: ${v2KeyFiles}`);
  const third = v2KeyFiles.filter((n) => n.startsWith('tuf-root-2-k3.'));
  for (const f of third) renameSync(join(keysDir, f), join(apart, f));
  const again = await runCli(
    [
      'tuf',
      'rotate-root',
      '--data-dir',
      dataDir,
      '--root-keys',
      '2',
      '--root-threshold',
      '2',
      '--targets-keys',
      '2',
      '--targets-threshold',
      '2',
    ],
    {},
  );
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Targets keys: 2 of \[[0-9a-f]{16}, [0-9a-f]{16}\]/);
  const v3 = rootOf(join(repo, '3.root.json'));
  assert.deepEqual([v3.threshold, v3.keyids.length, v3.signatures.length], [2, 2, 4]);
  const v3Json = JSON.parse(readFileSync(join(repo, '3.root.json'), 'utf8')).signed;
  assert.deepEqual([v3Json.roles.targets.threshold, v3Json.roles.targets.keyids.length], [2, 2]);
  const latestTargets = Math.max(
    ...readdirSync(repo)
      .flatMap((n) => /^(\d+)\.targets\.json$/.exec(n)?.[1] ?? [])
      .map(Number),
  );
  const targetsSigs = JSON.parse(readFileSync(join(repo, `${latestTargets}.targets.json`), 'utf8')).signatures;
  assert.equal(targetsSigs.length, 2, 'targets metadata signed by both targets keys');

  // sign-targets with one of the two targets keys at hand is refused.
  const targetsK2 = readdirSync(keysDir).filter((n) => n.startsWith('tuf-targets-3-k2.'));
  for (const f of targetsK2) renameSync(join(keysDir, f), join(apart, f));
  const oneTargetsKey = await runCli(['tuf', 'sign-targets', '--data-dir', dataDir], {});
  assert.equal(oneTargetsKey.code, 1);
  assert.match(oneTargetsKey.stderr, /^error: targets metadata needs 2 of the targets keys root v3 names; 1 is in /m);
  for (const f of targetsK2) renameSync(join(apart, f), join(keysDir, f));

  // With one of version 3's two keys, rotation is refused and nothing is written.
  const v3Second = readdirSync(keysDir).filter((n) => n.startsWith('tuf-root-3-k2.'));
  for (const f of v3Second) renameSync(join(keysDir, f), join(apart, f));
  const short = await runCli(['tuf', 'rotate-root', '--data-dir', dataDir], {});
  assert.equal(short.code, 1);
  assert.match(short.stderr, /^error: root v3 needs 2 of its 2 root keys to sign the next version; 1 is in /m);
  assert.deepEqual(
    readdirSync(repo).filter((n) => n.endsWith('.root.json')),
    ['1.root.json', '2.root.json', '3.root.json'],
  );

  // The next start publishes version 3; the client walks 1 -> 2 -> 3 with tuf-js.
  const restarted = await startServe({ dataDir, args: ['--port', String(port)] });
  try {
    const shown = await runCli(['trusted-root', 'show'], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /root v3\b/);
  } finally {
    await restarted.stop();
  }
});
