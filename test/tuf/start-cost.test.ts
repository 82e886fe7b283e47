// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// What a command loads from node_modules decides much of its start-up cost (docs/benchmarks.md,
// TUF section): no command may load fastify (the server's) at start, a valid TUF cache is
// answered without tuf-js, and a refresh runs on the bundled tuf-js without loading
// minimatch (used by delegated roles only). Checked on the built CLI, through the modules
// Node's CommonJS loader registered by the time the process exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRepo, runCli, serveDir, tempDir } from './helpers.js';
import { KEYLESS_BIN } from '../server/helpers.js';

const work = tempDir('keyless-tuf-start-');
const reporter = join(work, 'loaded-packages.cjs');
writeFileSync(
  reporter,
  `process.on('exit', () => {
  const names = Object.keys(require.cache)
    .filter((f) => f.includes('node_modules'))
    .map((f) => f.slice(f.lastIndexOf('node_modules') + 13).split(/[\\\\/]/))
    .map((p) => (p[0].startsWith('@') ? p[0] + '/' + p[1] : p[0]));
  process.stderr.write('LOADED ' + JSON.stringify([...new Set(names)]) + '\\n');
});
`,
);

async function loadedPackages(args: string[], env: Record<string, string> = {}): Promise<string[]> {
  // Asynchronous: the TUF mirror of the test runs in this process.
  const child = spawn(process.execPath, ['--require', reporter, KEYLESS_BIN, ...args], {
    env: { ...process.env, KEYLESS_TRUSTED_ROOT: '', KEYLESS_SIGNING_CONFIG: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, stderr);
  const line = stderr.split('\n').find((l) => l.startsWith('LOADED '));
  assert.ok(line, stderr);
  return JSON.parse(line.slice('LOADED '.length)) as string[];
}

test('start-up: no fastify for any client command; no tuf-js with a valid cache; no minimatch for a refresh', async () => {
  assert.ok(!(await loadedPackages(['--version'])).includes('fastify'));
  assert.ok(!(await loadedPackages(['verify-blob', '--help'])).includes('fastify'));

  const repo = makeRepo('start-cost');
  const srv = await serveDir(repo.dir);
  try {
    const valid = join(work, 'valid');
    const init = await runCli(['initialize', '--mirror', srv.url, '--root', repo.rootPath], { KEYLESS_TUF_ROOT: valid });
    assert.equal(init.code, 0, init.stderr);
    const withValid = await loadedPackages(['trusted-root', 'show'], { KEYLESS_TUF_ROOT: valid });
    for (const pkg of ['fastify', 'tuf-js', '@tufjs/models', 'minimatch']) assert.ok(!withValid.includes(pkg), `${pkg}: ${withValid}`);

    // A fresh cache (the root and the mirror only) runs the whole workflow.
    const fresh = join(work, 'fresh');
    mkdirSync(join(fresh, 'metadata'), { recursive: true });
    cpSync(join(valid, 'remote.json'), join(fresh, 'remote.json'));
    cpSync(join(valid, 'metadata', 'root.json'), join(fresh, 'metadata', 'root.json'));
    const withFresh = await loadedPackages(['trusted-root', 'show'], { KEYLESS_TUF_ROOT: fresh });
    for (const pkg of ['fastify', 'tuf-js', '@tufjs/models', 'minimatch', 'debug'])
      assert.ok(!withFresh.includes(pkg), `${pkg}: ${withFresh}`);
  } finally {
    await srv.close();
  }
});
