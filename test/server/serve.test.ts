import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServe, tempDir, runKeyless } from './helpers.js';

test('keyless serve prints its URL, answers /healthz, and exits 0 on SIGTERM', async () => {
  const server = await startServe();
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ok');
    const missing = await fetch(`${server.url}/no/such/path`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { code: string }).code, 'NOT_FOUND');
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0);
  }
});

test('SIGINT stops the server gracefully too', async () => {
  const server = await startServe();
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  assert.equal(await server.stop('SIGINT'), 0);
});

test('a bad configuration file or flag fails before serving', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ keys: { ca: 'dsa-1024' } }));
  const bad = await runKeyless(['serve', '--data-dir', join(dir, 'd'), '--port', '0', '--config', join(dir, 'config.json')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /config\.keys\.ca/);
  assert.equal(bad.stdout, '');
  const usage = await runKeyless(['serve', '--port', 'eighty']);
  assert.equal(usage.code, 2);
});
