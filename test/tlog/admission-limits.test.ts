// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Issue 8, items 1 and 2: the work one admission can cost is bounded and does not starve
// other requests; what a log admits, every one of its read formats can serve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, randomBytes, type KeyObject } from 'node:crypto';
import { LOG_DRIVERS, startLogServer, signerKeys, signerPem, get, post } from './helpers.js';
import { inlineDigestVerifier, type DigestVerifier } from '../../src/services/tlog/index.js';
import { appendOrBusy } from '../../src/services/tlog/append.js';
import { MAX_REKOR_V1_DSSE_SIGNATURES, MAX_REKOR_V1_DSSE_VERIFIERS } from '../../src/formats/index.js';
import { MAX_ENTRY_BUNDLE_ENTRY_BYTES } from '../../src/merkle/index.js';
import { KeylessError } from '../../src/core/errors.js';
import { startServe } from '../server/helpers.js';
import { errorCode } from '../support/error-body.js';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const pemOf = (k: KeyObject): string => k.export({ format: 'pem', type: 'spki' }).toString();
const payloadType = 'application/vnd.in-toto+json';

function paeOf(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `), payload]);
}

/** A dsse 0.0.1 proposed entry: `signatures` signatures by `signer`, with `verifiers` listed. */
function dsseEntry(o: { signatures: number; verifiers: string[]; signer?: KeyObject; payload?: Buffer }): Record<string, unknown> {
  const payload = o.payload ?? randomBytes(32);
  const pae = paeOf(payload);
  const sigs = Array.from({ length: o.signatures }, () => ({
    sig: b64(sign('sha256', pae, o.signer ?? signerKeys.privateKey)),
    keyid: '',
  }));
  const envelope = JSON.stringify({ payload: b64(payload), payloadType, signatures: sigs });
  return { apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope, verifiers: o.verifiers.map(b64) } } };
}

function intotoEntry(signatures: number): Record<string, unknown> {
  const payload = randomBytes(16);
  const pae = paeOf(payload);
  const sigs = Array.from({ length: signatures }, () => ({
    sig: b64(b64(sign('sha256', pae, signerKeys.privateKey))),
    publicKey: b64(signerPem),
  }));
  return {
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: { content: { envelope: { payloadType, payload: b64(b64(payload)), signatures: sigs } } },
  };
}

/** Counts the digest checks admission asks for. */
function countingVerifier(): DigestVerifier & { calls: number } {
  const v = {
    calls: 0,
    async verify(...args: Parameters<DigestVerifier['verify']>) {
      v.calls++;
      return inlineDigestVerifier.verify(...args);
    },
    async close() {},
  };
  return v;
}

for (const driver of LOG_DRIVERS)
  test(`${driver}: Rekor v1 DSSE and intoto: signature and verifier counts are limited on every endpoint that parses proposed entries`, async () => {
    const s = await startLogServer({ driver });
    try {
      const tooManySigs = dsseEntry({ signatures: MAX_REKOR_V1_DSSE_SIGNATURES + 1, verifiers: [signerPem] });
      const others = Array.from({ length: MAX_REKOR_V1_DSSE_VERIFIERS }, () =>
        pemOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
      );
      const tooManyVerifiers = dsseEntry({ signatures: 1, verifiers: [...others, signerPem] });
      for (const [name, entry] of [
        ['signatures', tooManySigs],
        ['verifiers', tooManyVerifiers],
        ['intoto signatures', intotoEntry(MAX_REKOR_V1_DSSE_SIGNATURES + 1)],
      ] as const) {
        for (const [path, body] of [
          ['/api/v1/log/entries', entry],
          ['/api/v1/log/entries/retrieve', { entries: [entry] }],
        ] as const) {
          const r = await post(`${s.url}${path}`, body);
          assert.equal(r.status, 400, `${name} at ${path}: ${JSON.stringify(r.json)}`);
          assert.equal(errorCode(r.json, r.status), 'FORMAT_INVALID');
          assert.match(r.json.message, /at most 10/);
        }
      }
      // At the limits, entries are admitted and found again.
      const atLimit = dsseEntry({ signatures: MAX_REKOR_V1_DSSE_SIGNATURES, verifiers: [...others.slice(1), signerPem] });
      assert.equal((await post(`${s.url}/api/v1/log/entries`, atLimit)).status, 201);
      assert.equal((await post(`${s.url}/api/v1/log/entries`, intotoEntry(MAX_REKOR_V1_DSSE_SIGNATURES))).status, 201);
      const found = await post(`${s.url}/api/v1/log/entries/retrieve`, { entries: [atLimit] });
      assert.equal(found.status, 200);
      assert.equal(found.json.length, 1);
    } finally {
      await s.close();
    }
  });

for (const driver of LOG_DRIVERS)
  test(`${driver}: Rekor v1 DSSE: repeated verifiers are tried once, and each key at most once per signature`, async () => {
    const verifier = countingVerifier();
    const s = await startLogServer({ verifier, driver });
    try {
      const wrong = pemOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
      // Nine copies of one wrong key, then the signer: 2 checks per signature, not 10.
      const entry = dsseEntry({ signatures: 10, verifiers: [...Array(9).fill(wrong), signerPem] });
      const r = await post(`${s.url}/api/v1/log/entries`, entry);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.equal(verifier.calls, 20);
      // A signature no key verifies costs one check per distinct key, then the request ends.
      verifier.calls = 0;
      const bad = dsseEntry({
        signatures: 10,
        verifiers: [...Array(9).fill(wrong), wrong],
        signer: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
      });
      assert.equal((await post(`${s.url}/api/v1/log/entries`, bad)).status, 400);
      assert.equal(verifier.calls, 1);
    } finally {
      await s.close();
    }
  });

test('a maximal hostile retrieve request does not keep /healthz from answering', async () => {
  const serve = await startServe();
  try {
    // Each entry: 10 signatures that only the last of 10 verifiers checks: 100 checks, 10 entries.
    const wrong = Array.from({ length: MAX_REKOR_V1_DSSE_VERIFIERS - 1 }, () =>
      pemOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
    );
    const entries = Array.from({ length: 10 }, () =>
      dsseEntry({ signatures: MAX_REKOR_V1_DSSE_SIGNATURES, verifiers: [...wrong, signerPem] }),
    );
    const hostile = Array.from({ length: 4 }, () => post(`${serve.url}/api/v1/log/entries/retrieve`, { entries }));
    let hostileDone = 0;
    const all = Promise.all(hostile.map((p) => p.finally(() => hostileDone++)));
    // Probe /healthz one request after another while the hostile requests are being checked.
    const seenPending: number[] = [];
    while (hostileDone < hostile.length) {
      const before = hostileDone;
      const h = await get(`${serve.url}/healthz`);
      assert.equal(h.status, 200);
      if (hostileDone < hostile.length) seenPending.push(before);
    }
    const results = await all;
    for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.json));
    // /healthz answered while every hostile request was still outstanding (once is the
    // property; how often depends on the machine's load).
    assert.ok(
      seenPending.filter((n) => n === 0).length >= 1,
      `health probes answered during the hostile requests: ${seenPending.join(',')}`,
    );
  } finally {
    await serve.stop();
  }
});

for (const driver of LOG_DRIVERS)
  test(`${driver}: Rekor v2 refuses entries its entry bundles cannot hold; a tile that cannot be built is an alarm, not a 400`, async () => {
    const s = await startLogServer({ bodyLimit: 4 * 1024 * 1024, driver });
    try {
      // A 70 kB "certificate" as verifier: refused by size, before it is parsed.
      const big = await post(`${s.url}/api/v2/log/entries`, {
        hashedRekordRequestV002: {
          digest: b64(randomBytes(32)),
          signature: {
            content: b64(randomBytes(72)),
            verifier: { x509Certificate: { rawBytes: b64(randomBytes(70_000)) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
          },
        },
      });
      assert.equal(big.status, 400);
      assert.equal(big.json.code, 'TLOG_ENTRY_TOO_LARGE');

      // Every log's admission against its read formats: v2 serves entry bundles, so its limit is theirs.
      assert.equal(s.v2.info.maxEntryBytes, MAX_ENTRY_BUNDLE_ENTRY_BYTES);
      const body = Buffer.alloc(MAX_ENTRY_BUNDLE_ENTRY_BYTES + 1, 0x61);
      await assert.rejects(
        appendOrBusy(s.v2.log, { body, kind: 'hashedrekord', apiVersion: '0.0.2', indexKeys: [] }, s.v2.info.maxEntryBytes),
        (e: unknown) => e instanceof KeylessError && e.code === 'TLOG_ENTRY_TOO_LARGE',
      );
      assert.equal(s.v2.log.size, 0);

      // An entry that got in anyway (an older release, a restored database): the tile answers
      // 503 with its own code, the failure is counted, and other reads still work.
      await s.v2.log.append(body, { indexKeys: [] });
      const tile = await get(`${s.url}/tile/entries/000.p/1`);
      assert.equal(tile.status, 503);
      assert.equal(tile.json.code, 'TLOG_TILE_UNAVAILABLE');
      assert.equal(s.app.metrics.counter('keyless_tlog_tile_failures_total', '').get({ log: s.v2.info.origin }), 1);
      assert.equal((await get(`${s.url}/tile/0/000.p/1`)).status, 200);
    } finally {
      await s.close();
    }
  });
