// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Issue 8, item 11: a data directory or key file owned by another user is refused (its
// owner could swap the keys before the next start): one line, exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runKeyless, startServe, tempDir } from './helpers.js';

const OTHER_UID = 65534;
const canChown = process.getuid?.() === 0;

async function refused(dataDir: string, message: RegExp): Promise<void> {
  const r = await runKeyless(['serve', '--data-dir', dataDir, '--port', '0']);
  assert.equal(r.code, 2, `exit ${r.code}; stderr:\n${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^keyless serve: error: /);
  assert.match(lines[0]!, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
}

test(
  'a data directory, keys directory or key file owned by another user is refused',
  { skip: canChown ? false : 'needs root to create files owned by another user' },
  async () => {
    const dir = tempDir();
    // A directory owned by another user.
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign, { mode: 0o700 });
    chownSync(foreign, OTHER_UID, OTHER_UID);
    await refused(foreign, new RegExp(`directory .*foreign is owned by uid ${OTHER_UID}`));

    // A data directory made by a first start, then one key file handed to another user.
    const dataDir = join(dir, 'data');
    const serve = await startServe({ dataDir });
    assert.equal(await serve.stop(), 0);
    const keysDir = join(dataDir, 'keys');
    const keyFile = readdirSync(keysDir).find((f) => f.endsWith('.pem'))!;
    assert.ok(keyFile, 'the first start wrote key files');
    chownSync(join(keysDir, keyFile), OTHER_UID, OTHER_UID);
    await refused(dataDir, new RegExp(`key file .*${keyFile.replace('.', '\\.')} is owned by uid ${OTHER_UID}`));
    chownSync(join(keysDir, keyFile), 0, 0);

    // The keys directory itself.
    chownSync(keysDir, OTHER_UID, OTHER_UID);
    await refused(dataDir, /directory .*keys is owned by uid/);
    chownSync(keysDir, 0, 0);

    // Owned again by the server's user: it starts.
    const again = await startServe({ dataDir });
    assert.equal(await again.stop(), 0);
  },
);
