// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The CT log's search index: keys derived from the MerkleTreeLeaf alone, written with each
// append, and a PostgreSQL database from before schema step 2 whose CT entries are
// re-indexed when the CT log opens on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { softwareSigner } from '../../src/core/signer.js';
import { LogEngine, MIGRATIONS, PostgresDriver, noteCheckpointSigner, searchKey } from '../../src/log/index.js';
import { CT_INDEX_VERSION, CtLog, EngineCtLogStore, ctIndexKeys, merkleTreeLeaf } from '../../src/services/ctlog/index.js';
import { createCaChain, generateKey, issueLeafCertificate, issuePrecertificate } from '../../src/x509/build/index.js';
import { OID, parseMerkleTreeLeaf } from '../../src/x509/index.js';
import { copyLogsAsSchema1, createTestDatabase, sql } from '../support/postgres.js';

const ca = createCaChain({ now: new Date(Date.now() - 3600_000) });
const ctKey = softwareSigner(generateKey('ecdsa-p256').privateKey);
const ISSUER = 'https://issuer.example';
const profile = (san: { type: 'email' | 'uri'; value: string }) => ({
  publicKey: generateKey().publicKey,
  san,
  sigstoreExtensions: { [`${OID.sigstoreArc}.8`]: ISSUER },
});
const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('keys of a precert entry: SAN, issuer, sha256 of the logged TBS; of an x509 entry: sha256 of the DER; garbage has none', () => {
  const pre = issuePrecertificate(profile({ type: 'email', value: 'Eve@Example.com' }), ca.intermediate);
  const tbs = pre.tbsWithoutExtensions(OID.ctPoison);
  const issuerKeyHash = createHash('sha256').update(ca.intermediate.certificate.spkiDer).digest();
  const leaf = merkleTreeLeaf(1234n, { type: 'precert', issuerKeyHash, tbs });
  const parsed = parseMerkleTreeLeaf(leaf);
  assert.equal(parsed.timestamp, 1234n);
  assert.equal(parsed.entry.type, 'precert');
  assert.deepEqual(ctIndexKeys(leaf).sort(), [`email:eve@example.com`, `hash:sha256:${sha256hex(tbs)}`, `issuer:${ISSUER}`].sort());

  const wf = 'https://github.com/o/r/.github/workflows/release.yml@refs/heads/main';
  const cert = issueLeafCertificate(profile({ type: 'uri', value: wf }), ca.intermediate);
  const x509 = merkleTreeLeaf(5n, { type: 'x509', certificate: cert.der });
  assert.deepEqual(ctIndexKeys(x509).sort(), [`hash:sha256:${sha256hex(cert.der)}`, `issuer:${ISSUER}`, `uri:${wf}`].sort());

  assert.deepEqual(ctIndexKeys(Buffer.from('not a leaf')), []);
  // A leaf whose lengths do not add up is refused by the parser, and so has no keys.
  assert.throws(() => parseMerkleTreeLeaf(Buffer.concat([leaf, Buffer.from([0])])), /lengths do not match/);
  assert.deepEqual(ctIndexKeys(Buffer.concat([leaf, Buffer.from([0])])), []);
});

test('PostgreSQL: a database from before schema step 2 is migrated and its CT entries re-indexed when the CT log opens', async () => {
  const db = await createTestDatabase('ctindex');
  const emails = ['p0@example.com', 'p1@example.com', 'p0@example.com'];
  try {
    // An older Keyless: schema step 1 only, CT leaves appended without search keys (written
    // by this code into another database, then copied in the step-1 layout).
    const source = await createTestDatabase('ctindex_src');
    const old = await LogEngine.openPostgres({ connectionString: source.url });
    const oldLog = await old.openLog({
      name: 'ct',
      origin: 'keyless-ct',
      signer: ({ origin }) => noteCheckpointSigner({ origin, keyName: origin, signer: ctKey }),
    });
    const oldCt = new CtLog({ signer: ctKey, roots: [ca.root.certificate], store: storeOf(oldLog) });
    for (const e of emails) {
      const pre = issuePrecertificate(profile({ type: 'email', value: e }), ca.intermediate);
      await oldCt.addTrustedPrecertificate(pre, ca.intermediate.certificate);
    }
    await old.close();
    await (await PostgresDriver.open({ connectionString: db.url, migrations: MIGRATIONS.slice(0, 1) })).close();
    await copyLogsAsSchema1(source.url, db.url);
    await source.drop();
    assert.equal((await sql(db.url, 'SELECT count(*)::int AS n FROM search'))[0]!.n, 0);

    // This Keyless: migration 2 adds logs.index_version; opening the CT store re-indexes.
    const engine = await LogEngine.openPostgres({ connectionString: db.url });
    try {
      const store = await EngineCtLogStore.open(engine, { origin: 'keyless-ct', signer: ctKey });
      assert.deepEqual(await store.log.search(['email:p0@example.com']), [0, 2]);
      assert.deepEqual(await store.log.search([`issuer:${ISSUER}`]), [0, 1, 2]);
      const row = (await sql(db.url, "SELECT index_version FROM logs WHERE name = 'ct'"))[0]!;
      assert.equal(row.index_version, CT_INDEX_VERSION);
      // New appends carry their keys.
      const ct = new CtLog({ signer: ctKey, roots: [ca.root.certificate], store });
      await ct.addTrustedPrecertificate(
        issuePrecertificate(profile({ type: 'email', value: 'p1@example.com' }), ca.intermediate),
        ca.intermediate.certificate,
      );
      assert.deepEqual(await store.log.search(['email:p1@example.com']), [1, 3]);
      const keys = await sql(db.url, 'SELECT count(*)::int AS n FROM search WHERE key = $1', [searchKey('email:p1@example.com')]);
      assert.equal(keys[0]!.n, 2);
    } finally {
      await engine.close();
    }
  } finally {
    await db.drop();
  }
});

/** The pre-index CT store: leaves appended without keys, as an older Keyless did. */
function storeOf(log: Awaited<ReturnType<LogEngine['openLog']>>) {
  return {
    append: async (leaf: Buffer) => (await log.append(leaf)).index,
    head: async () => ({ size: log.latestCheckpoint().size, rootHash: log.latestCheckpoint().rootHash }),
    readEntries: async (start: number, count: number) => (await log.getEntries(start, count)).map((e) => ({ leaf: e.body })),
    findLeaf: (h: Buffer) => log.findByLeafHash(h),
    inclusionProof: (i: number, n: number) => log.inclusionProof(i, n),
    consistencyProof: (a: number, b: number) => log.consistencyProof(a, b),
  };
}
