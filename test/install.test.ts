// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// `npm install` must succeed with or without a C++ toolchain: the addon is an accelerator.
// The install hook runs in a temporary copy of the package's build inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function copyOfPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-install-'));
  for (const f of ['package.json', 'binding.gyp', 'native', 'scripts']) cpSync(f, join(dir, f), { recursive: true });
  return dir;
}

function runInstallHook(dir: string, env: NodeJS.ProcessEnv): { status: number | null; lines: string[] } {
  const r = spawnSync('npm', ['run', 'install', '--silent'], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, lines: `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '') };
}

test('without a compiler the install succeeds and says, in one line, that JavaScript is in use', (t) => {
  const dir = copyOfPackage();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { status, lines } = runInstallHook(dir, { CC: 'false', CXX: 'false', KEYLESS_ADDON_LOG: '' });
  assert.equal(status, 0);
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /^keyless: prehash addon not built .*JavaScript path/);
  assert.equal(existsSync(join(dir, 'build')), false, 'no half-built build/ left behind');
});

test('with the toolchain at hand the install says which path it took, and a built addon loads', (t) => {
  const dir = copyOfPackage();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { status, lines } = runInstallHook(dir, {});
  assert.equal(status, 0);
  assert.equal(lines.length, 1, lines.join('\n'));
  const addonFile = join(dir, 'build', 'Release', 'prehash_verify.node');
  if (/addon built/.test(lines[0]!)) {
    const addon = createRequire(import.meta.url)(addonFile) as { verify: (...a: unknown[]) => boolean };
    assert.equal(addon.verify(Buffer.from('not a key'), Buffer.alloc(32), Buffer.alloc(64), 'sha256'), false);
  } else {
    assert.match(lines[0]!, /not built/);
    assert.equal(existsSync(addonFile), false);
  }
});
