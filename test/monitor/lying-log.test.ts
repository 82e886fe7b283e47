// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// A small tlog-tiles server that lies in each of the ways a log can: a forked history of
// the same size, a smaller tree, a checkpoint signed by another key, entry bundles that do
// not hash to the checkpoint, a fork that grew. Each is exit 4 with the stored state kept;
// the honest log then still advances from that state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeEntryBundle,
  leafHash,
  noteKeyHash,
  parseTilePath,
  rootFromLeafHashes,
  signCheckpoint,
  TILE_WIDTH,
} from '../../src/merkle/index.js';
import { monitor } from './helpers.js';

const ORIGIN = '127.0.0.1';
const logKey = generateKeyPairSync('ed25519');
const otherKey = generateKeyPairSync('ed25519');

interface Tree {
  entries: Buffer[];
  signer?: KeyObject;
  /** Entries served in bundles (default: the tree's own). */
  served?: Buffer[];
}

let current: Tree;
let server: Server;
let url: string;
let dir: string;
let trustedRoot: string;

const entries = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify({ kind: 'test', tree: tag, n: i })));

function node(hashes: Buffer[], level: number, index: number): Buffer {
  const span = TILE_WIDTH ** level;
  return rootFromLeafHashes(hashes.slice(index * span, (index + 1) * span));
}

before(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '').slice(1);
    const t = current;
    if (path === 'checkpoint') {
      const size = t.entries.length;
      const root = rootFromLeafHashes(t.entries.map((e) => leafHash(e)));
      return void res.writeHead(200).end(signCheckpoint({ origin: ORIGIN, size, rootHash: root }, ORIGIN, t.signer ?? logKey.privateKey));
    }
    let ref;
    try {
      ref = parseTilePath(path);
    } catch {
      return void res.writeHead(404).end();
    }
    const served = t.served ?? t.entries;
    if (ref.level === 'entries') {
      const slice = served.slice(ref.index * TILE_WIDTH, ref.index * TILE_WIDTH + ref.width);
      return void res.writeHead(slice.length === ref.width ? 200 : 404).end(encodeEntryBundle(slice));
    }
    const hashes = served.map((e) => leafHash(e));
    const level = ref.level;
    const out = Array.from({ length: ref.width }, (_, i) => node(hashes, level, ref.index * TILE_WIDTH + i));
    res.writeHead(200).end(Buffer.concat(out));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  dir = mkdtempSync(join(tmpdir(), 'keyless-monitor-lying-'));
  const spki = logKey.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  trustedRoot = join(dir, 'trusted_root.json');
  writeFileSync(
    trustedRoot,
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: url,
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: spki, keyDetails: 'PKIX_ED25519', validFor: { start: '2020-01-01T00:00:00Z' } },
          logId: { keyId: noteKeyHash(ORIGIN, logKey.publicKey).toString('base64') },
        },
      ],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    }),
  );
});
after(() => server.close());

const run = (state: string, extra: string[] = []) =>
  monitor(['--url', url, '--api-version', '2', '--file', state, '--trusted-root', trustedRoot, '--timeout', '2s', ...extra]);

test('an honest log: empty, first run from the current size (frontier from tiles), growth across bundle boundaries', async () => {
  const state = join(dir, 'honest.json');
  current = { entries: [] };
  assert.equal((await run(state)).code, 0);
  current = { entries: entries('A', 300) };
  const first = await run(state);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /verified tree size 300, scanned 300 entries from 0/);
  const fresh = join(dir, 'fresh.json');
  const fromHere = await run(fresh, ['--config', 'monitoredValues: {}']);
  assert.equal(fromHere.code, 0, fromHere.stderr);
  assert.match(fromHere.stderr, /verified tree size 300, scanned 0 entries from 300/);
  current = { entries: entries('A', 777) };
  for (const s of [state, fresh]) {
    const r = await run(s);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /verified tree size 777, scanned 477 entries from 300/);
  }
});

test('a lying log: each lie is exit 4 and the stored state is kept; the honest log then advances', async () => {
  const state = join(dir, 'lies.json');
  current = { entries: entries('A', 300) };
  assert.equal((await run(state, ['--config', 'startIndex: 0'])).code, 0);
  const stored = readFileSync(state, 'utf8');
  const lies: Array<[string, Tree, RegExp]> = [
    ['forked history, same size', { entries: entries('B', 300) }, /a different root for the same size 300/],
    ['a smaller tree', { entries: entries('A', 200) }, /shrank from 300 to 200/],
    ['a checkpoint signed by another key', { entries: entries('A', 310), signer: otherKey.privateKey }, /not signed by a trusted log key/],
    [
      'entry bundles that do not hash to the checkpoint',
      { entries: entries('A', 310), served: [...entries('A', 300), ...entries('C', 10)] },
      /do not hash to the checkpoint's root/,
    ],
    ['a fork that grew', { entries: [...entries('B', 300), ...entries('A', 50)] }, /do not hash to the checkpoint's root/],
  ];
  for (const [what, tree, message] of lies) {
    current = tree;
    const r = await run(state);
    assert.equal(r.code, 4, `${what}: ${r.stderr}`);
    assert.match(r.stderr, /LOG INCONSISTENT/, what);
    assert.match(r.stderr, message, what);
    assert.equal(readFileSync(state, 'utf8'), stored, `${what}: state changed`);
  }
  current = { entries: entries('A', 400) };
  const honest = await run(state);
  assert.equal(honest.code, 0, honest.stderr);
  assert.match(honest.stderr, /verified tree size 400, scanned 100 entries from 300/);
});
