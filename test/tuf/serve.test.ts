// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// A real `keyless serve` publishes its trust files through TUF: sigstore-js's TUF client
// (@sigstore/tuf, a real peer) bootstraps from the root the server prints and fetches the
// same trusted root the server writes; sigstore-js signs and verifies with tufMirrorURL /
// tufRootPath pointing at Keyless.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as sigstore from 'sigstore';
import { getTrustedRoot } from '@sigstore/tuf';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { startServe, runKeyless, tempDir, type ServeProcess } from '../server/helpers.js';

let server: ServeProcess;
let other: ServeProcess;
const work = tempDir('keyless-tuf-serve-');

before(async () => {
  [server, other] = await Promise.all([startServe(), startServe()]);
});
after(async () => {
  await Promise.all([server?.stop(), other?.stop()]);
});

function printedRoot(s: ServeProcess): { path: string; sha256: string } {
  const m = /^TUF root: (.+) sha256:([0-9a-f]{64})$/m.exec(s.stderr());
  assert.ok(m, `no "TUF root:" line on stderr:\n${s.stderr()}`);
  return { path: m[1]!, sha256: m[2]! };
}

test('serve prints the TUF root it wrote with its SHA-256; the TUF keys are private files', () => {
  const root = printedRoot(server);
  assert.equal(root.path, join(server.dataDir, 'tuf', 'root.json'));
  assert.equal(createHash('sha256').update(readFileSync(root.path)).digest('hex'), root.sha256);
  assert.deepEqual(readFileSync(root.path), readFileSync(join(server.dataDir, 'tuf', 'repository', '1.root.json')));
  for (const name of ['tuf-root', 'tuf-targets', 'tuf-online']) {
    assert.equal(statSync(join(server.dataDir, 'keys', `${name}.pem`)).mode & 0o777, 0o600, name);
  }
  // Root and targets keys are not the online key.
  const signed = JSON.parse(readFileSync(root.path, 'utf8')).signed;
  const ids = (role: string) => signed.roles[role].keyids as string[];
  assert.notDeepEqual(ids('root'), ids('timestamp'));
  assert.notDeepEqual(ids('targets'), ids('timestamp'));
  assert.deepEqual(ids('snapshot'), ids('timestamp'));
  assert.equal(signed.consistent_snapshot, true);
});

test('@sigstore/tuf fetches the trusted root the server wrote', async () => {
  const root = printedRoot(server);
  const fetched = await getTrustedRoot({
    mirrorURL: `${server.url}/tuf`,
    rootPath: root.path,
    cachePath: join(work, 'sigstore-tuf-cache'),
  });
  const written = TrustedRoot.fromJSON(JSON.parse(readFileSync(join(server.dataDir, 'trusted_root.json'), 'utf8')));
  assert.deepEqual(TrustedRoot.toJSON(fetched), TrustedRoot.toJSON(written));
});

test('@sigstore/tuf refuses a mirror serving another repository (root of server A, mirror of server B)', async () => {
  await assert.rejects(
    getTrustedRoot({ mirrorURL: `${other.url}/tuf`, rootPath: printedRoot(server).path, cachePath: join(work, 'mixed-cache') }),
    (e: Error) => /sign|threshold|verif/i.test(`${e.message} ${(e as { cause?: Error }).cause?.message ?? ''}`),
  );
});

test("sigstore-js signs with Keyless and verifies with trust from Keyless's TUF repository", async () => {
  const token = await runKeyless(['dev-token', '--url', server.url, '--email', 'tuf@example.com']);
  assert.equal(token.code, 0, token.stderr);
  const artifact = Buffer.from('signed with trust from TUF\n');
  const tuf = { tufMirrorURL: `${server.url}/tuf`, tufRootPath: printedRoot(server).path, tufCachePath: join(work, 'sigstore-cache') };
  const bundle = await sigstore.sign(artifact, {
    fulcioURL: server.url,
    rekorURL: server.url,
    tsaServerURL: server.url,
    identityToken: token.stdout.trim(),
    ...tuf,
  });
  await sigstore.verify(bundle, artifact, { ...tuf, certificateIdentityEmail: 'tuf@example.com', certificateIssuer: `${server.url}/oidc` });
  await assert.rejects(
    sigstore.verify(bundle, Buffer.from('changed\n'), {
      ...tuf,
      certificateIdentityEmail: 'tuf@example.com',
      certificateIssuer: `${server.url}/oidc`,
    }),
  );
  // The other server's trust (its own TUF repository) does not verify this server's bundle.
  const otherTuf = { tufMirrorURL: `${other.url}/tuf`, tufRootPath: printedRoot(other).path, tufCachePath: join(work, 'other-cache') };
  await assert.rejects(
    sigstore.verify(bundle, artifact, {
      ...otherTuf,
      certificateIdentityEmail: 'tuf@example.com',
      certificateIssuer: `${server.url}/oidc`,
    }),
  );
});

test('the repository answers 404 for names outside its layout and never 5xx', async () => {
  for (const path of [
    '/tuf/../keys/tuf-root.pem',
    '/tuf/0.root.json',
    '/tuf/99.root.json',
    '/tuf/targets/abc.json',
    '/tuf/targets/..%2F1.root.json',
    '/tuf/snapshot.json',
  ]) {
    const r = await fetch(`${server.url}${path}`);
    assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
    await r.body?.cancel();
  }
  const ts = await fetch(`${server.url}/tuf/timestamp.json`);
  assert.equal(ts.status, 200);
  assert.equal(ts.headers.get('cache-control'), 'no-cache');
  assert.equal(((await ts.json()) as { signed: { _type: string } }).signed._type, 'timestamp');
});

test('after keyless initialize, sign-blob and verify-blob need no trust flags (signing config and trusted root from TUF)', async () => {
  const { runCli } = await import('./helpers.js');
  const env = { KEYLESS_TUF_ROOT: join(work, 'keyless-cache') };
  const root = printedRoot(server);
  const init = await runCli(['initialize', '--mirror', `${server.url}/tuf`, '--root', root.path, '--root-checksum', root.sha256], env);
  assert.equal(init.code, 0, init.stderr);
  const token = await runKeyless(['dev-token', '--url', server.url, '--email', 'tuf-cli@example.com']);
  const artifact = join(work, 'cli.txt');
  writeFileSync(artifact, 'signed by keyless with trust from TUF\n');
  const signed = await runCli(
    ['sign-blob', artifact, '--bundle', `${artifact}.sigstore.json`, '--identity-token', token.stdout.trim()],
    env,
  );
  assert.equal(signed.code, 0, signed.stderr);
  const policy = ['--certificate-identity', 'tuf-cli@example.com', '--certificate-oidc-issuer', `${server.url}/oidc`];
  const verified = await runCli(['verify-blob', artifact, '--bundle', `${artifact}.sigstore.json`, ...policy], env);
  assert.equal(verified.code, 0, verified.stderr);
  // Without the cache the built-in public-good root is used, which does not know this server.
  const noTuf = await runCli(['verify-blob', artifact, '--bundle', `${artifact}.sigstore.json`, ...policy], {
    KEYLESS_TUF_ROOT: join(work, 'none'),
  });
  assert.equal(noTuf.code, 1);
});
