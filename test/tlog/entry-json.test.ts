import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashedRekordV2, signArtifact, startLogServer } from './helpers.js';

test('Rekor v2 201 answers: the TransparencyLogEntry text is JSON.stringify of the protojson entry, batch by batch', async () => {
  const s = await startLogServer();
  try {
    // Concurrent appends land in shared batches: entries of one batch share the checkpoint's encoded parts.
    const answers = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const res = await fetch(`${s.url}/api/v2/log/entries`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(hashedRekordV2(signArtifact(Buffer.from(`entry json ${i}`)))),
        });
        assert.equal(res.status, 201);
        assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
        return res.text();
      }),
    );
    for (const text of answers) {
      const got = JSON.parse(text);
      const index = Number(got.logIndex);
      const treeSize = Number(got.inclusionProof.treeSize);
      const [entry] = await s.v2.log.getEntries(index, 1);
      const expected = {
        logIndex: String(index),
        logId: { keyId: s.v2.info.logId.toString('base64') },
        kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
        integratedTime: '0',
        inclusionPromise: null,
        inclusionProof: {
          logIndex: String(index),
          rootHash: (await s.v2.log.rootHash(treeSize)).toString('base64'),
          treeSize: String(treeSize),
          hashes: (await s.v2.log.inclusionProof(index, treeSize)).map((h) => h.toString('base64')),
          checkpoint: { envelope: got.inclusionProof.checkpoint.envelope },
        },
        canonicalizedBody: entry!.body.toString('base64'),
      };
      assert.equal(text, JSON.stringify(expected));
      // The checkpoint served is the signed note for that tree size and root.
      assert.match(
        expected.inclusionProof.checkpoint.envelope,
        new RegExp(`\n${treeSize}\n${expected.inclusionProof.rootHash.replace(/[+/]/g, '\\$&')}\n`),
      );
    }
  } finally {
    await s.close();
  }
});
