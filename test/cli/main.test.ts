// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The CLI entry point's contract: exit 0/1/2, and a reader that closes early is not a crash.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';

const KEYLESS = new URL('../../bin/keyless', import.meta.url).pathname;

before(() => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
});

test('unknown commands and bad flags are usage errors (exit 2)', () => {
  for (const args of [['no-such-command'], ['verify-bundle', '--no-such-flag'], ['sign-blob']]) {
    const r = spawnSync(KEYLESS, args, { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /error/);
  }
});

test('help lists every command group', () => {
  const r = spawnSync(KEYLESS, ['--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const name of [
    'verify-bundle',
    'verify-blob',
    'sign-blob',
    'attest-blob',
    'serve',
    'dev-token',
    'signing-config',
    'trusted-root',
    'token',
  ]) {
    assert.match(r.stdout, new RegExp(`\\b${name}\\b`), name);
  }
});

test('a reader that closes the pipe early (| head -1) ends the CLI quietly', async () => {
  const child = spawn(KEYLESS, ['sign-blob', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  assert.equal(code, 0);
});

test('starting the CLI loads no server package (fastify is for keyless serve only)', () => {
  // Node's module debug log names every CommonJS file loaded, also those imported from ESM.
  const r = spawnSync(process.execPath, [KEYLESS, '--version'], { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'module' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /MODULE/, 'NODE_DEBUG=module printed nothing: the check would see nothing');
  for (const pkg of ['fastify', 'better-sqlite3', 'pg', 'pino']) assert.doesNotMatch(r.stderr, new RegExp(`node_modules/${pkg}/`), pkg);
});
