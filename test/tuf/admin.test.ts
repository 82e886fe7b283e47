// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Offline operations on a stopped server's repository (`keyless tuf rotate-root`,
// `sign-targets`, `status`): they refuse while `keyless serve` runs, and the next start
// publishes their result; a client that initialized at root v1 walks to v3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers.js';
import { freePort, startServe, runKeyless, type ServeProcess } from '../server/helpers.js';

test('rotate-root twice (new root, targets and online keys) on a stopped server; the client walks 1 -> 2 -> 3 and still verifies; sign-targets with a targets key kept off the server', async () => {
  const work = tempDir('keyless-tuf-admin-');
  const dataDir = join(work, 'data');
  const port = await freePort();
  const env = { KEYLESS_TUF_ROOT: join(work, 'cache') };
  const start = (extra: string[] = []) => startServe({ dataDir, args: ['--port', String(port), ...extra] });
  let server: ServeProcess | undefined = await start();
  try {
    const mirror = `${server.url}/tuf`;
    assert.equal((await runCli(['initialize', '--mirror', mirror, '--root', join(dataDir, 'tuf', 'root.json')], env)).code, 0);

    // Admin operations refuse while the server holds the data directory; status only reads.
    const busy = await runCli(['tuf', 'rotate-root', '--data-dir', dataDir], env);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /^error: another keyless serve \(pid \d+\) is using/m);
    const status = await runCli(['tuf', 'status', '--data-dir', dataDir], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /root\s+v1 .*key here/);
    assert.match(status.stdout, /lists the current trust files/);

    await server.stop();
    server = undefined;
    const first = await runCli(['tuf', 'rotate-root', '--data-dir', dataDir], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Signed root v2/);
    const second = await runCli(['tuf', 'rotate-root', '--data-dir', dataDir, '--targets', '--online'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /Signed root v3 .*targets v2.*snapshot v\d+, timestamp v\d+/);
    assert.match(second.stdout, /^TUF root: .* sha256:[0-9a-f]{64}$/m);

    server = await start();
    assert.match(server.stderr(), /TUF root: .*sha256:/);
    const show = await runCli(['trusted-root', 'show'], env);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /root v3 .*targets v2/);

    // Signing and verifying with the rotated repository's trust.
    const token = await runKeyless(['dev-token', '--url', server.url, '--email', 'admin@example.com']);
    const artifact = join(work, 'a.txt');
    writeFileSync(artifact, 'after root rotation\n');
    assert.equal(
      (await runCli(['sign-blob', artifact, '--bundle', `${artifact}.json`, '--identity-token', token.stdout.trim()], env)).code,
      0,
    );
    const verified = await runCli(
      [
        'verify-blob',
        artifact,
        '--bundle',
        `${artifact}.json`,
        '--certificate-identity',
        'admin@example.com',
        '--certificate-oidc-issuer',
        `${server.url}/oidc`,
      ],
      env,
    );
    assert.equal(verified.code, 0, verified.stderr);

    // The targets key leaves the server: a change to the trust files waits for sign-targets.
    await server.stop();
    server = undefined;
    const offline = join(work, 'offline-keys');
    mkdirSync(offline);
    const keysDir = join(dataDir, 'keys');
    const targetsKeyFiles = readdirSync(keysDir).filter((n) => n.startsWith('tuf-targets'));
    for (const f of targetsKeyFiles) renameSync(join(keysDir, f), join(offline, f));
    const config = join(work, 'config.json');
    writeFileSync(config, JSON.stringify({ organization: 'Renamed Org' }));
    server = await start(['--config', config]);
    assert.match(server.stderr(), /tuf: the trust files changed but the targets key is not here/);
    const stale = await runCli(['trusted-root', 'show'], env);
    assert.match(stale.stdout, /targets v2/);
    await server.stop();
    server = undefined;
    const noKey = await runCli(['tuf', 'sign-targets', '--data-dir', dataDir], env);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /^error: no key in .* is the targets key of root v3/m);
    for (const f of targetsKeyFiles) renameSync(join(offline, f), join(keysDir, f));
    const signed = await runCli(['tuf', 'sign-targets', '--data-dir', dataDir], env);
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(signed.stdout, /Signed targets v3/);
    for (const f of targetsKeyFiles) renameSync(join(keysDir, f), join(offline, f));
    server = await start(['--config', config]);
    const fresh = await runCli(['trusted-root', 'show'], env);
    assert.match(fresh.stdout, /targets v3/);
    assert.match(fresh.stdout, /Renamed Org root CA/);
  } finally {
    await server?.stop();
  }
});
