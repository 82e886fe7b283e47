// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// bin/keyless verify commands keep a V8 code cache in a private per-user directory;
// a missing, foreign or corrupt cache must never change the outcome.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, CONFORMANCE_DIR, DEFAULT_IDENTITY, DEFAULT_ISSUER, ensureBuilt } from '../conformance/helpers.js';

const args = [
  'verify-bundle',
  '--bundle',
  join(CONFORMANCE_DIR, 'happy-path-v0.3', 'bundle.sigstore.json'),
  '--certificate-identity',
  DEFAULT_IDENTITY,
  '--certificate-oidc-issuer',
  DEFAULT_ISSUER,
  join(CONFORMANCE_DIR, 'a.txt'),
];

function run(cacheHome: string): number | null {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: cacheHome };
  delete env.KEYLESS_NO_COMPILE_CACHE;
  return spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 }).status;
}

describe('verify-bundle code cache', () => {
  before(() => ensureBuilt());

  it('is written privately on the first run and used after', () => {
    const home = mkdtempSync(join(tmpdir(), 'keyless-cc-'));
    assert.equal(run(home), 0);
    const dir = join(home, 'keyless', 'v8');
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, files[0]!)).mode & 0o777, 0o600);
    assert.equal(run(home), 0);
  });

  it('a corrupt cache is rejected and rewritten, and the outcome is unchanged', () => {
    const home = mkdtempSync(join(tmpdir(), 'keyless-cc-'));
    assert.equal(run(home), 0);
    const dir = join(home, 'keyless', 'v8');
    const file = join(dir, readdirSync(dir)[0]!);
    writeFileSync(file, Buffer.alloc(4096, 0x41), { mode: 0o600 });
    assert.equal(run(home), 0);
    assert.notEqual(statSync(file).size, 4096);
  });

  it('a cache others could write is ignored', () => {
    const home = mkdtempSync(join(tmpdir(), 'keyless-cc-'));
    assert.equal(run(home), 0);
    const dir = join(home, 'keyless', 'v8');
    const file = join(dir, readdirSync(dir)[0]!);
    writeFileSync(file, Buffer.alloc(4096, 0x41));
    chmodSync(file, 0o666);
    assert.equal(run(home), 0);
    // Not trusted, so not read; rewritten only through a fresh private file.
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });
});
