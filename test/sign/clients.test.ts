// What the service clients refuse in an answer, each with its own code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { parseSigningCertificateResponse } from '../../src/sign/fulcio.js';
import { rekorV1ResponseToEntry, rekorV2ResponseToEntry, submitRekorV1 } from '../../src/sign/rekor.js';
import { EphemeralKey } from '../../src/sign/ephemeral-key.js';
import { createCaChain, issueLeafCertificate } from '../../src/x509/build/index.js';
import { startFixture, json } from './fixtures.js';

const ca = createCaChain();

test('a CA answer certifying another key is CERTIFICATE_KEY_MISMATCH; a malformed one SERVICE_BAD_RESPONSE', () => {
  const key = new EphemeralKey();
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const leaf = issueLeafCertificate({ publicKey: other, san: { type: 'email', value: 'a@example.com' } }, ca.intermediate);
  const answer = { signedCertificateEmbeddedSct: { chain: { certificates: [leaf.toPem(), ca.intermediate.certificate.toPem()] } } };
  assert.throws(() => parseSigningCertificateResponse(answer, 'Fulcio at x', key), { code: 'CERTIFICATE_KEY_MISMATCH' });
  assert.throws(
    () => parseSigningCertificateResponse({ signedCertificateEmbeddedSct: { chain: { certificates: [] } } }, 'Fulcio at x', key),
    { code: 'SERVICE_BAD_RESPONSE' },
  );
  assert.throws(() => parseSigningCertificateResponse({ unexpected: true }, 'Fulcio at x', key), { code: 'SERVICE_BAD_RESPONSE' });
  // The right key passes, and only the leaf is kept apart from the chain.
  const mine = issueLeafCertificate({ publicKey: key.publicKey, san: { type: 'email', value: 'a@example.com' } }, ca.intermediate);
  const ok = parseSigningCertificateResponse(
    { signedCertificateEmbeddedSct: { chain: { certificates: [mine.toPem(), ca.intermediate.certificate.toPem()] } } },
    'Fulcio at x',
    key,
  );
  assert.ok(ok.leafDer.equals(mine.der));
  assert.equal(ok.chain.length, 2);
  assert.equal(ok.embeddedSct, true);
});

test('malformed log answers are SERVICE_BAD_RESPONSE, naming the log', () => {
  assert.throws(() => rekorV1ResponseToEntry({}, 'Rekor v1 at x'), { code: 'SERVICE_BAD_RESPONSE', message: /^Rekor v1 at x: / });
  assert.throws(() => rekorV1ResponseToEntry({ a: { body: '!!', logID: 'zz' } }, 'Rekor v1 at x'), { code: 'SERVICE_BAD_RESPONSE' });
  assert.throws(() => rekorV2ResponseToEntry({ logIndex: '1' }, 'Rekor v2 at y'), {
    code: 'SERVICE_BAD_RESPONSE',
    message: /^Rekor v2 at y: /,
  });
});

test('a Rekor v1 409 is followed to the existing entry', async () => {
  const body = Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: {} })).toString('base64');
  const entry = {
    body,
    integratedTime: 5,
    logID: 'aa'.repeat(32),
    logIndex: 7,
    verification: {
      signedEntryTimestamp: 'c2V0',
      inclusionProof: { checkpoint: 'c', hashes: [], logIndex: 7, rootHash: 'bb'.repeat(32), treeSize: 8 },
    },
  };
  const f = await startFixture((req, _b, res) => {
    if (req.method === 'POST') return json(res, 409, { code: 409, message: 'exists' }, { Location: '/api/v1/log/entries/abc' });
    if (req.url === '/api/v1/log/entries/abc') return json(res, 200, { abc: entry });
    json(res, 404, {});
  });
  try {
    const key = new EphemeralKey();
    const tle = await submitRekorV1(
      f.url,
      { kind: 'message', digest: Buffer.alloc(32), signature: key.sign(Buffer.from('x')) },
      Buffer.from([0x30, 0]),
    );
    assert.equal(tle.logIndex, '7');
    assert.deepEqual(
      f.requests.map((r) => r.method),
      ['POST', 'GET'],
    );
  } finally {
    await f.close();
  }
});
