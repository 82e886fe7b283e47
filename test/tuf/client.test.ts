// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The client (`keyless initialize`, and the refresh every command does) against real
// repositories on loopback: where trust comes from, attacks it must refuse, bad input.
// Every refusal: exit 1, one line on stderr naming the role and the problem, no stack
// trace, and the cache byte for byte as it was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, MetadataKind } from '@tufjs/models';
import { applyOnlinePlan, keyIdOf, publishTargets, readRepository, writeNextRoot, type RepositoryState } from '../../src/tuf/index.js';
import {
  contents,
  makeRepo,
  newKey,
  PERIODS,
  DAY,
  runCli,
  serveDir,
  snapshotDir,
  tempDir,
  type CliResult,
  type TestRepo,
} from './helpers.js';

let repo: TestRepo;
let server: { url: string; close: () => Promise<void> };
let other: TestRepo;
let otherServer: { url: string; close: () => Promise<void> };

before(async () => {
  repo = makeRepo('first');
  other = makeRepo('other');
  [server, otherServer] = await Promise.all([serveDir(repo.dir), serveDir(other.dir)]);
});
after(async () => {
  await Promise.all([server?.close(), otherServer?.close()]);
});

function state(dir = repo.dir): RepositoryState {
  return readRepository(dir)!;
}

/** A fresh repository copy served on its own, so attacks do not disturb other tests. */
async function freshSetup(): Promise<{ r: TestRepo; srv: Awaited<ReturnType<typeof serveDir>>; env: { KEYLESS_TUF_ROOT: string } }> {
  const r = makeRepo('fresh');
  const srv = await serveDir(r.dir);
  const env = { KEYLESS_TUF_ROOT: join(tempDir('keyless-tuf-cache-'), 'cache') };
  const init = await runCli(['initialize', '--mirror', srv.url, '--root', r.rootPath], env);
  assert.equal(init.code, 0, init.stderr);
  return { r, srv, env };
}

function assertOneLineFailure(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code (stdout ${r.stdout}, stderr ${r.stderr})`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

function resignTimestamp(r: TestRepo, now = new Date()): void {
  applyOnlinePlan(r.dir, state(r.dir), { snapshot: false, timestamp: true, nextAt: now }, r.keys.online, now, PERIODS);
}

test('initialize fetches trusted root and signing config; show names the TUF mirror and its versions', async () => {
  const env = { KEYLESS_TUF_ROOT: join(tempDir(), 'cache') };
  const init = await runCli(['initialize', '--mirror', server.url, '--root', repo.rootPath], env);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /root v1 .*targets v1/);
  const cached = readFileSync(join(env.KEYLESS_TUF_ROOT, 'targets', 'trusted_root.json'));
  assert.deepEqual(cached, contents('first')[0]!.bytes);
  const show = await runCli(['trusted-root', 'show'], env);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`^Source: TUF mirror ${server.url} `, 'm'));
  assert.match(show.stdout, /root v1 .*targets v1 .*timestamp v1/);
  const json = await runCli(['signing-config', 'show', '--json'], env);
  assert.equal(JSON.parse(json.stdout).tag, 'first');
});

test('trust resolution: flag, then environment, then the TUF cache, then the built-in root', async () => {
  const env = { KEYLESS_TUF_ROOT: join(tempDir(), 'cache') };
  const builtIn = await runCli(['trusted-root', 'show'], env);
  assert.equal(builtIn.code, 0, builtIn.stderr);
  assert.match(builtIn.stdout, /^Source: built-in/m);
  assert.match(builtIn.stdout, /rekor\.sigstore\.dev/);
  assert.equal((await runCli(['initialize', '--mirror', server.url, '--root', repo.rootPath], env)).code, 0);
  const fromTuf = await runCli(['trusted-root', 'show', '--json'], env);
  assert.equal(JSON.parse(fromTuf.stdout).tag, 'first');
  const file = join(tempDir(), 'root.json');
  writeFileSync(file, contents('from-env')[0]!.bytes);
  const fromEnv = await runCli(['trusted-root', 'show', '--json'], { ...env, KEYLESS_TRUSTED_ROOT: file });
  assert.equal(JSON.parse(fromEnv.stdout).tag, 'from-env');
  const flagFile = join(tempDir(), 'root.json');
  writeFileSync(flagFile, contents('from-flag')[0]!.bytes);
  const fromFlag = await runCli(['trusted-root', 'show', '--trusted-root', flagFile], { ...env, KEYLESS_TRUSTED_ROOT: file });
  assert.match(fromFlag.stdout, /^Source: --trusted-root /m);
});

test('refresh: only what changed is fetched; new targets reach the cache; unreachable mirror falls back to the unexpired cache with a note', async () => {
  const { r, srv, env } = await freshSetup();
  srv.requests.length = 0;
  assert.equal((await runCli(['trusted-root', 'show'], env)).code, 0);
  assert.deepEqual(srv.requests.sort(), ['2.root.json', 'timestamp.json'], 'nothing changed: the next root and the timestamp only');
  const s = state(r.dir);
  publishTargets(r.dir, s, r.keys.targets, contents('second'), new Date(), PERIODS);
  applyOnlinePlan(r.dir, state(r.dir), { snapshot: true, timestamp: true, nextAt: new Date() }, r.keys.online, new Date(), PERIODS);
  const show = await runCli(['trusted-root', 'show', '--json'], env);
  assert.equal(show.code, 0, show.stderr);
  assert.equal(JSON.parse(show.stdout).tag, 'second');
  assert.ok(srv.requests.includes('2.snapshot.json') && srv.requests.includes('2.targets.json'), srv.requests.join(' '));
  assert.ok(!srv.requests.includes('1.targets.json'), 'what did not change is not fetched again');
  await srv.close();
  const cached = await runCli(['trusted-root', 'show', '--json'], env);
  assert.equal(cached.code, 0, cached.stderr);
  assert.equal(JSON.parse(cached.stdout).tag, 'second');
  assert.match(cached.stderr, /^note: TUF mirror unreachable .*using the cached TUF metadata/m);
  const offline = await runCli(['trusted-root', 'show', '--offline', '--json'], env);
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stderr, /^note: offline/m);
});

test('valid cache: a timestamp.json byte for byte the cached one short-circuits; one that differs is verified in full', async () => {
  const { r, srv, env } = await freshSetup();
  const before = snapshotDir(env.KEYLESS_TUF_ROOT);
  srv.requests.length = 0;
  assert.equal((await runCli(['trusted-root', 'show'], env)).code, 0);
  assert.deepEqual(srv.requests.sort(), ['2.root.json', 'timestamp.json']);
  assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before);

  // Same version, other bytes: one hex digit of the signature changed. The short cut does not
  // apply, and the workflow refuses what it would have accepted by version alone.
  const published = readFileSync(join(r.dir, 'timestamp.json'));
  const forged = JSON.parse(published.toString('utf8')) as { signatures: { sig: string }[] };
  const sig = forged.signatures[0]!.sig;
  forged.signatures[0]!.sig = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`;
  writeFileSync(join(r.dir, 'timestamp.json'), JSON.stringify(forged));
  assertOneLineFailure(await runCli(['trusted-root', 'show'], env), /TUF timestamp .*signed by 0\/1 keys/);
  assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before);

  // A genuinely re-signed timestamp (a new version, the same snapshot): verified, stored, and
  // the next root and the timestamp are asked for once each (the workflow takes the answers
  // the short cut already had), the unchanged snapshot not at all.
  resignTimestamp(r);
  srv.requests.length = 0;
  assert.equal((await runCli(['trusted-root', 'show'], env)).code, 0);
  assert.deepEqual(srv.requests.sort(), ['2.root.json', 'timestamp.json']);
  assert.deepEqual(readFileSync(join(env.KEYLESS_TUF_ROOT, 'metadata', 'timestamp.json')), readFileSync(join(r.dir, 'timestamp.json')));
  await srv.close();
});

test('a refresh asks for each file once: a fresh cache, then new targets', async () => {
  const { r, srv, env } = await freshSetup();
  // What initialize leaves before its first refresh: the root and the mirror.
  const fresh = { KEYLESS_TUF_ROOT: join(tempDir('keyless-tuf-cache-'), 'cache') };
  mkdirSync(join(fresh.KEYLESS_TUF_ROOT, 'metadata'), { recursive: true });
  copyFileSync(join(env.KEYLESS_TUF_ROOT, 'remote.json'), join(fresh.KEYLESS_TUF_ROOT, 'remote.json'));
  copyFileSync(join(env.KEYLESS_TUF_ROOT, 'metadata', 'root.json'), join(fresh.KEYLESS_TUF_ROOT, 'metadata', 'root.json'));
  const targetFiles = (version: number) =>
    readdirSync(join(r.dir, 'targets')).filter((f) =>
      Object.values(
        (
          JSON.parse(readFileSync(join(r.dir, `${version}.targets.json`), 'utf8')) as {
            signed: { targets: Record<string, { hashes: { sha256: string } }> };
          }
        ).signed.targets,
      ).some((t) => f.startsWith(t.hashes.sha256)),
    );
  srv.requests.length = 0;
  const first = await runCli(['trusted-root', 'show', '--json'], fresh);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout).tag, 'fresh');
  assert.deepEqual(
    srv.requests.sort(),
    ['1.snapshot.json', '1.targets.json', '2.root.json', 'timestamp.json', ...targetFiles(1).map((f) => `targets/${f}`)].sort(),
  );
  assert.deepEqual(snapshotDir(fresh.KEYLESS_TUF_ROOT), snapshotDir(env.KEYLESS_TUF_ROOT), 'the same cache as initialize made');

  publishTargets(r.dir, state(r.dir), r.keys.targets, contents('second'), new Date(), PERIODS);
  applyOnlinePlan(r.dir, state(r.dir), { snapshot: true, timestamp: true, nextAt: new Date() }, r.keys.online, new Date(), PERIODS);
  srv.requests.length = 0;
  const second = await runCli(['trusted-root', 'show', '--json'], fresh);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(JSON.parse(second.stdout).tag, 'second');
  assert.deepEqual(
    srv.requests.sort(),
    ['2.root.json', '2.snapshot.json', '2.targets.json', 'timestamp.json', ...targetFiles(2).map((f) => `targets/${f}`)].sort(),
  );
  await srv.close();
});

test('attack: rollback of timestamp.json is refused, cache untouched', async () => {
  const { r, srv, env } = await freshSetup();
  const v1 = readFileSync(join(r.dir, 'timestamp.json'));
  resignTimestamp(r);
  assert.equal((await runCli(['trusted-root', 'show'], env)).code, 0);
  const before = snapshotDir(env.KEYLESS_TUF_ROOT);
  writeFileSync(join(r.dir, 'timestamp.json'), v1);
  assertOneLineFailure(await runCli(['trusted-root', 'show'], env), /TUF timestamp .*rollback/);
  assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before);
  await srv.close();
});

test('attack: a target whose hash does not match targets metadata is refused, cache keeps the old version', async () => {
  const { r, srv, env } = await freshSetup();
  const before = snapshotDir(env.KEYLESS_TUF_ROOT);
  const next = publishTargets(r.dir, state(r.dir), r.keys.targets, contents('tampered'), new Date(), PERIODS)!;
  applyOnlinePlan(r.dir, state(r.dir), { snapshot: true, timestamp: true, nextAt: new Date() }, r.keys.online, new Date(), PERIODS);
  const hash = next.signed.targets['trusted_root.json']!.hashes.sha256;
  const path = join(r.dir, 'targets', `${hash}.trusted_root.json`);
  const bytes = readFileSync(path);
  bytes[bytes.length - 3]! ^= 1;
  writeFileSync(path, bytes);
  assertOneLineFailure(await runCli(['trusted-root', 'show'], env), /TUF target trusted_root\.json .*hash/);
  assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before);
  await srv.close();
});

test('attack: a new root signed by too few of the trusted root keys is refused', async () => {
  const { r, srv, env } = await freshSetup();
  const before = snapshotDir(env.KEYLESS_TUF_ROOT);
  const newRoot = newKey();
  writeNextRoot(r.dir, state(r.dir), { currentRootKeys: [r.keys.root], newRootKeys: [newRoot] }, new Date(), PERIODS);
  // Drop the old root key's signature: only the new key signs version 2.
  const path = join(r.dir, '2.root.json');
  const json = JSON.parse(readFileSync(path, 'utf8'));
  json.signatures = json.signatures.filter((s: { keyid: string }) => s.keyid !== keyIdOf(r.keys.root.publicKey));
  writeFileSync(path, JSON.stringify(json));
  assertOneLineFailure(await runCli(['trusted-root', 'show'], env), /TUF root .*signed by 0\/1 keys/);
  assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before);
  await srv.close();
});

test('attack: freeze (an expired timestamp served on and on) fails closed', async () => {
  const { r, srv, env } = await freshSetup();
  const before = snapshotDir(env.KEYLESS_TUF_ROOT);
  // A correctly signed, newer timestamp that expired yesterday.
  resignTimestamp(r, new Date(Date.now() - 8 * DAY));
  assertOneLineFailure(await runCli(['trusted-root', 'show'], env), /TUF timestamp .*expired/);
  assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before);
  // --offline with the cache: the cache's own timestamp is still valid, so it works.
  assert.equal((await runCli(['trusted-root', 'show', '--offline'], env)).code, 0);
  await srv.close();
});

test("attack: a mirror serving another repository's metadata is refused", async () => {
  const env = { KEYLESS_TUF_ROOT: join(tempDir(), 'cache') };
  assert.equal((await runCli(['initialize', '--mirror', server.url, '--root', repo.rootPath], env)).code, 0);
  // Point the cache at the other repository (what a hijacked mirror would serve).
  writeFileSync(join(env.KEYLESS_TUF_ROOT, 'remote.json'), JSON.stringify({ mirror: otherServer.url }));
  const before = snapshotDir(env.KEYLESS_TUF_ROOT);
  assertOneLineFailure(await runCli(['trusted-root', 'show'], env), /TUF timestamp .*signed by 0\/1 keys/);
  assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before);
  // And initialize with one repository's root against another's mirror.
  const fresh = { KEYLESS_TUF_ROOT: join(tempDir(), 'cache') };
  assertOneLineFailure(
    await runCli(['initialize', '--mirror', otherServer.url, '--root', repo.rootPath], fresh),
    /TUF timestamp .*signed by 0\/1 keys/,
  );
  assert.deepEqual(snapshotDir(fresh.KEYLESS_TUF_ROOT), {});
});

test('bad input: unreachable mirror, malformed metadata, a root that is not a TUF root, a wrong checksum', async () => {
  const { r, srv, env } = await freshSetup();
  const before = snapshotDir(env.KEYLESS_TUF_ROOT);
  const dead = await serveDir(tempDir());
  await dead.close();
  assertOneLineFailure(
    await runCli(['initialize', '--mirror', dead.url, '--root', r.rootPath], env),
    /TUF mirror unreachable while fetching root/,
  );
  assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before, 'a failed initialize keeps the earlier cache');

  const notTuf = join(tempDir(), 'trusted_root.json');
  writeFileSync(notTuf, contents('x')[0]!.bytes);
  assertOneLineFailure(await runCli(['initialize', '--mirror', srv.url, '--root', notTuf], env), /is not a TUF root/);
  assertOneLineFailure(
    await runCli(['initialize', '--mirror', srv.url, '--root', join(tempDir(), 'missing.json')], env),
    /cannot read --root/,
  );
  assertOneLineFailure(
    await runCli(['initialize', '--mirror', srv.url, '--root', r.rootPath, '--root-checksum', '0'.repeat(64)], env),
    /not the --root-checksum/,
  );
  assertOneLineFailure(await runCli(['initialize', '--mirror', 'ftp://x', '--root', r.rootPath], env), /must be an http\(s\) URL/);
  assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before);

  writeFileSync(join(r.dir, 'timestamp.json'), '{"signed": not json');
  assertOneLineFailure(await runCli(['trusted-root', 'show'], env), /TUF timestamp .*malformed/);
  assert.deepEqual(snapshotDir(env.KEYLESS_TUF_ROOT), before);
  await srv.close();
});

test('root rotation: a client walks root 1 -> 2 -> 3 and ends trusting only the newest key', async () => {
  const { r, srv, env } = await freshSetup();
  const k2 = newKey();
  const k3 = newKey();
  writeNextRoot(r.dir, state(r.dir), { currentRootKeys: [r.keys.root], newRootKeys: [k2] }, new Date(), PERIODS);
  writeNextRoot(r.dir, state(r.dir), { currentRootKeys: [k2], newRootKeys: [k3] }, new Date(), PERIODS);
  const show = await runCli(['trusted-root', 'show'], env);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /root v3 /);
  const cachedRoot = Metadata.fromJSON(
    MetadataKind.Root,
    JSON.parse(readFileSync(join(env.KEYLESS_TUF_ROOT, 'metadata', 'root.json'), 'utf8')),
  );
  assert.deepEqual(cachedRoot.signed.roles.root!.keyIDs, [keyIdOf(k3.publicKey)]);
  assert.ok(Object.keys(cachedRoot.signatures).includes(keyIdOf(k2.publicKey)), 'v3 is signed by the v2 key');
  assert.equal(readdirSync(join(env.KEYLESS_TUF_ROOT)).filter((n) => n.startsWith('.refresh-')).length, 0, 'no staging left behind');
  await srv.close();
});

test('initialize --root URL: with --root-checksum it is pinned; without, it works and warns', async () => {
  const rootUrl = `${server.url}/1.root.json`;
  const sum = createHash('sha256').update(readFileSync(repo.rootPath)).digest('hex');
  const pinned = await runCli(['initialize', '--mirror', server.url, '--root', rootUrl, '--root-checksum', sum], {
    KEYLESS_TUF_ROOT: join(tempDir(), 'cache'),
  });
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.equal(pinned.stderr, '');
  const unpinned = await runCli(['initialize', '--mirror', server.url, '--root', rootUrl], { KEYLESS_TUF_ROOT: join(tempDir(), 'cache') });
  assert.equal(unpinned.code, 0, unpinned.stderr);
  assert.match(unpinned.stderr, /^warning: --root .* without --root-checksum/m);
  assertOneLineFailure(
    await runCli(['initialize', '--mirror', server.url, '--root', `${server.url}/9.root.json`], {
      KEYLESS_TUF_ROOT: join(tempDir(), 'cache'),
    }).then((r) => ({ ...r, stderr: r.stderr.replace(/^warning: .*\n/m, '') })),
    /--root .*HTTP 404/,
  );
});
