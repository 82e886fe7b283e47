// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Rotation rehearsal, end to end: sign into Rekor v2 shard A; `keyless admin rotate-log
// rekor-v2` on the stopped server; after the restart a client that refreshes signs into
// shard B; bundles from A and B both verify (Keyless and sigstore-js, trust from TUF); the
// retired shard refuses appends but still serves reads; a client that did not refresh and
// whose timestamp expired refuses until it refreshes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as sigstore from 'sigstore';
import { CheckLog, trustMaterialFor, verifyCheckpoint } from '../../src/verify/index.js';
import { findCosign, runCli, tempDir } from './helpers.js';
import { freePort, startServe, runKeyless, type ServeProcess } from '../server/helpers.js';

function logIdOf(bundlePath: string): string {
  const bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
  return Buffer.from(bundle.verificationMaterial.tlogEntries[0].logId.keyId, 'base64').toString('hex');
}

test('rotate-log rekor-v2: shard A retired, shard B current, each its own origin; bundles from both verify; a stale client refuses until it refreshes; shard C on a host of its own verifies in cosign too', async () => {
  const work = tempDir('keyless-tuf-shards-');
  const dataDir = join(work, 'data');
  const config = join(work, 'config.json');
  writeFileSync(config, JSON.stringify({ tuf: { timestampExpiry: '3s' } }));
  const port = await freePort();
  const start = () => startServe({ dataDir, args: ['--port', String(port), '--config', config] });
  const refreshing = { KEYLESS_TUF_ROOT: join(work, 'cache-refreshing') };
  const stale = { KEYLESS_TUF_ROOT: join(work, 'cache-stale') };
  const EMAIL = 'shards@example.com';
  let server: ServeProcess | undefined = await start();
  try {
    const url = server.url;
    const root = join(dataDir, 'tuf', 'root.json');
    for (const env of [refreshing, stale])
      assert.equal((await runCli(['initialize', '--mirror', `${url}/tuf`, '--root', root], env)).code, 0);
    const sign = async (name: string, env: Record<string, string>) => {
      const token = (await runKeyless(['dev-token', '--url', url, '--email', EMAIL])).stdout.trim();
      const file = join(work, `${name}.txt`);
      writeFileSync(file, `${name}\n`);
      const r = await runCli(['sign-blob', file, '--bundle', `${file}.json`, '--identity-token', token], env);
      assert.equal(r.code, 0, r.stderr);
      return file;
    };
    const verify = (file: string, env: Record<string, string>, extra: string[] = []) =>
      runCli(
        [
          'verify-blob',
          file,
          '--bundle',
          `${file}.json`,
          '--certificate-identity',
          EMAIL,
          '--certificate-oidc-issuer',
          `${url}/oidc`,
          ...extra,
        ],
        env,
      );

    const a = await sign('a', refreshing);
    const shardA = logIdOf(`${a}.json`);

    // Rotation needs the server stopped.
    const busy = await runCli(['admin', 'rotate-log', 'rekor-v2', '--data-dir', dataDir], {});
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /another keyless serve/);
    await server.stop();
    server = undefined;
    const rotated = await runCli(['admin', 'rotate-log', 'rekor-v2', '--data-dir', dataDir, '--config', config], {});
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /Started shard rekor-v2-2 at <public URL>\/shards\/2/);
    server = await start();
    assert.match(server.stderr(), /signed targets v2/);

    const signingConfig = await runCli(['signing-config', 'show', '--json'], refreshing);
    const v2Urls = JSON.parse(signingConfig.stdout).rekorTlogUrls.filter((u: { majorApiVersion: number }) => u.majorApiVersion === 2);
    assert.deepEqual(
      v2Urls.map((u: { url: string }) => u.url),
      [`${url}/shards/2`],
      'the signing config names only the current shard',
    );
    const trustedRoot = JSON.parse((await runCli(['trusted-root', 'show', '--json'], refreshing)).stdout);
    const tlogA = trustedRoot.tlogs.find(
      (t: { logId: { keyId: string } }) => Buffer.from(t.logId.keyId, 'base64').toString('hex') === shardA,
    );
    assert.ok(tlogA?.publicKey.validFor.end, 'shard A stays in the trusted root, with an end');

    const b = await sign('b', refreshing);
    const shardB = logIdOf(`${b}.json`);
    assert.notEqual(shardB, shardA, 'the refreshed client signs into shard B');
    for (const f of [a, b]) {
      const r = await verify(f, refreshing);
      assert.equal(r.code, 0, `${f}: ${r.stderr}`);
    }
    // sigstore-js, with trust from the same TUF repository, accepts both as well.
    const tuf = { tufMirrorURL: `${url}/tuf`, tufRootPath: root, tufCachePath: join(work, 'sigstore-js-cache') };
    for (const f of [a, b]) {
      await sigstore.verify(JSON.parse(readFileSync(`${f}.json`, 'utf8')), readFileSync(f), {
        ...tuf,
        certificateIdentityEmail: EMAIL,
        certificateIssuer: `${url}/oidc`,
      });
    }

    // Each shard has its own checkpoint origin (the first keeps its host name; the new one is
    // host:port/path), so a checkpoint of one shard never verifies as the other's.
    const host = new URL(url);
    const checkpoints = {
      a: await (await fetch(`${url}/checkpoint`)).text(),
      b: await (await fetch(`${url}/shards/2/checkpoint`)).text(),
    };
    assert.equal(checkpoints.a.split('\n')[0], host.hostname, 'shard A keeps its origin');
    assert.equal(checkpoints.b.split('\n')[0], `${host.host}/shards/2`, 'shard B has its own origin');
    const trust = trustMaterialFor(trustedRoot);
    const logOf = (hex: string) => trust.tlogs.find((l) => l.logId.toString('hex') === hex)!;
    const [logA, logB] = [logOf(shardA), logOf(shardB)];
    assert.ok(logA && logB, 'both shards are in the TUF-delivered trusted root');
    assert.equal(verifyCheckpoint(new CheckLog(), trust, [logA], checkpoints.a, 'a').log, logA);
    assert.equal(verifyCheckpoint(new CheckLog(), trust, [logB], checkpoints.b, 'b').log, logB);
    // A's origin (the host name) is also a form B's URL allows, so B's key refuses it; B's
    // origin (with its path) is not A's.
    assert.throws(() => verifyCheckpoint(new CheckLog(), trust, [logB], checkpoints.a, 'a-as-b'), /no signature line for key/);
    assert.throws(() => verifyCheckpoint(new CheckLog(), trust, [logA], checkpoints.b, 'b-as-a'), /neither the log's host name/);

    // The retired shard serves reads and refuses appends.
    const checkpoint = await fetch(`${url}/checkpoint`);
    assert.equal(checkpoint.status, 200);
    await checkpoint.body?.cancel();
    const append = await fetch(`${url}/api/v2/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(append.status, 403);
    assert.equal(((await append.json()) as { code: string }).code, 'LOG_SHARD_RETIRED');

    // The stale client: its cached timestamp expires; offline it refuses, a refresh cures it.
    const cached = JSON.parse(readFileSync(join(stale.KEYLESS_TUF_ROOT, 'metadata', 'timestamp.json'), 'utf8')).signed.expires as string;
    while (Date.now() < Date.parse(cached) + 1000) await sleep(250);
    const refused = await verify(b, stale, ['--offline']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: the cached TUF timestamp .*expired/m);
    const refreshed = await verify(b, stale);
    assert.equal(refreshed.code, 0, refreshed.stderr);

    // Shard C with a host name of its own (localhost, routed here by the Host header): its
    // origin is that host name, the form sigstore-go (cosign) requires, so cosign verifies
    // its entries too, with the trusted root delivered by TUF.
    await server.stop();
    server = undefined;
    const ownHost = `http://localhost:${port}`;
    const badUrl = await runCli(['admin', 'rotate-log', 'rekor-v2', '--data-dir', dataDir, '--url', `${ownHost}/log`], {});
    assert.equal(badUrl.code, 1);
    assert.match(badUrl.stderr, /^error: --url .* must be http\(s\):\/\/<host>\[:port\] with no path/m);
    const third = await runCli(['admin', 'rotate-log', 'rekor-v2', '--data-dir', dataDir, '--config', config, '--url', ownHost], {});
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /Started shard rekor-v2-3 at http:\/\/localhost:\d+ .*origin is its host name, localhost/);
    server = await start();
    const c = await sign('c', refreshing);
    const shardC = logIdOf(`${c}.json`);
    assert.ok(shardC !== shardA && shardC !== shardB, 'the refreshed client signs into shard C');
    assert.equal((await (await fetch(`${ownHost}/checkpoint`)).text()).split('\n')[0], 'localhost');
    assert.equal((await (await fetch(`${url}/checkpoint`)).text()).split('\n')[0], host.hostname, 'the public host still serves shard A');
    for (const f of [a, b, c]) {
      const r = await verify(f, refreshing);
      assert.equal(r.code, 0, `${f}: ${r.stderr}`);
    }
    const rootFile = join(work, 'trusted_root.tuf.json');
    writeFileSync(rootFile, (await runCli(['trusted-root', 'show', '--json'], refreshing)).stdout);
    const cosignPolicy = ['--certificate-identity', EMAIL, '--certificate-oidc-issuer', `${url}/oidc`, '--trusted-root', rootFile];
    const cosignEnv = { ...process.env, HOME: join(work, 'cosign-home'), TUF_ROOT: join(work, 'cosign-tuf') };
    const cosignC = spawnSync(findCosign(), ['verify-blob', c, '--bundle', `${c}.json`, ...cosignPolicy], {
      env: cosignEnv,
      encoding: 'utf8',
    });
    assert.equal(cosignC.status, 0, cosignC.stderr);
    // Shard B (origin host:port/shards/2) is beyond sigstore-go's rule: cosign refuses it.
    const cosignB = spawnSync(findCosign(), ['verify-blob', b, '--bundle', `${b}.json`, ...cosignPolicy], {
      env: cosignEnv,
      encoding: 'utf8',
    });
    assert.notEqual(cosignB.status, 0);
    assert.match(cosignB.stderr, /checkpoint/);
  } finally {
    await server?.stop();
  }
});
