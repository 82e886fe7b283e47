import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTsaChain, createTimestampResponse, timestampRequestFromJson } from '../../src/x509/build/index.js';
import { requestTimestamp } from '../../src/sign/tsa.js';
import { sha256 } from '../../src/core/hash.js';
import { startFixture } from './fixtures.js';

const chain = createTsaChain();

/** A TSA that can be told to misbehave: drop the nonce or stamp another imprint. */
async function tsa(mode: 'honest' | 'no-nonce' | 'other-imprint' | 'garbage') {
  return startFixture((_req, body, res) => {
    const j = JSON.parse(body.toString()) as { artifactHash: string; hashAlgorithm: string; nonce?: number };
    if (mode === 'garbage') return void res.writeHead(200, { 'Content-Type': 'application/timestamp-reply' }).end(Buffer.from('not der'));
    const request = timestampRequestFromJson({
      artifactHash: mode === 'other-imprint' ? sha256(Buffer.from('else')).toString('base64') : j.artifactHash,
      hashAlgorithm: j.hashAlgorithm,
      nonce: mode === 'no-nonce' || j.nonce === undefined ? undefined : BigInt(j.nonce),
    });
    res.writeHead(200, { 'Content-Type': 'application/timestamp-reply' }).end(createTimestampResponse(request, chain.signer));
  });
}

test('the timestamp answer must stamp our imprint and echo our nonce', async () => {
  const signature = Buffer.from('a signature');
  for (const [mode, code] of [
    ['honest', undefined],
    ['no-nonce', 'TIMESTAMP_NONCE_MISMATCH'],
    ['other-imprint', 'TIMESTAMP_IMPRINT_MISMATCH'],
    ['garbage', 'SERVICE_BAD_RESPONSE'],
  ] as const) {
    const f = await tsa(mode);
    try {
      const p = requestTimestamp(`${f.url}/api/v1/timestamp`, signature);
      if (code) await assert.rejects(p, { code }, mode);
      else assert.ok((await p).length > 100);
    } finally {
      await f.close();
    }
  }
});
