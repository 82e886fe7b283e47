// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// A data directory from before the CT log had a search index: its CT entries carry no
// search keys and `logs` has no index_version column. `keyless serve` on it upgrades the
// schema and re-indexes the stored CT entries when the CT log opens, so the explorer's
// search finds them; entries signed afterwards are indexed as they are appended.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServe, keyless, type Serve } from '../sign/serve-helper.js';

const work = mkdtempSync(join(tmpdir(), 'keyless-ct-index-'));
let serve: Serve | undefined;
after(async () => serve?.stop());

async function sign(email: string, n: number): Promise<void> {
  const t = await keyless(['dev-token', '--url', serve!.url, '--email', email]);
  assert.equal(t.code, 0, t.stderr);
  const artifact = join(work, `a-${n}.txt`);
  writeFileSync(artifact, `ct index migration ${n}\n`);
  const r = await keyless([
    'sign-blob',
    artifact,
    '--bundle',
    join(work, `a-${n}.sigstore.json`),
    '--signing-config',
    serve!.signingConfig(1),
    '--trusted-root',
    serve!.trustedRoot,
    '--identity-token',
    t.stdout.trim(),
  ]);
  assert.equal(r.code, 0, r.stderr);
}

async function search(q: string): Promise<string[]> {
  const r = await fetch(`${serve!.url}/api/explorer/v1/search?q=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200);
  const body = (await r.json()) as { results: { log: string; index: number }[] };
  return body.results.map((x) => `${x.log}/${x.index}`);
}

test('a data directory from before the CT index gets its CT entries indexed on start', async () => {
  serve = await startServe();
  const dataDir = serve.dataDir;
  await sign('carol@example.com', 0);
  await sign('dave@example.com', 1);
  assert.deepEqual(await search('carol@example.com'), ['rekor-v1/0', 'ct/0']);
  await serve.stop();

  // Back to the layout an older Keyless wrote: no CT search keys, no index_version column.
  const db = new Database(join(dataDir, 'log', 'ct.db'));
  const ct = db.prepare("SELECT id FROM logs WHERE name = 'ct'").get() as { id: number };
  assert.ok((db.prepare('SELECT count(*) AS n FROM search WHERE log_id = ?').get(ct.id) as { n: number }).n > 0, 'keys were written');
  db.prepare('DELETE FROM search WHERE log_id = ?').run(ct.id);
  db.exec('ALTER TABLE logs DROP COLUMN index_version');
  db.close();

  serve = await startServe({ dataDir });
  assert.deepEqual(await search('carol@example.com'), ['rekor-v1/0', 'ct/0']);
  assert.deepEqual(await search('dave@example.com'), ['rekor-v1/1', 'ct/1']);
  // New entries are indexed as they are appended, after the re-index.
  await sign('carol@example.com', 2);
  assert.deepEqual(await search('carol@example.com'), ['rekor-v1/0', 'rekor-v1/2', 'ct/0', 'ct/2']);
  await serve.stop();

  const after = new Database(join(dataDir, 'log', 'ct.db'), { readonly: true });
  const row = after.prepare("SELECT index_version, size FROM logs WHERE name = 'ct'").get() as { index_version: number; size: number };
  const keyed = after.prepare('SELECT count(DISTINCT idx) AS n FROM search WHERE log_id = ?').get(ct.id) as { n: number };
  after.close();
  assert.equal(row.index_version, 1);
  assert.equal(row.size, 3);
  assert.equal(keyed.n, 3, 'every CT entry has search keys');
});
