// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, createHash, randomBytes } from 'node:crypto';
import {
  LOG_DRIVERS,
  startLogServer,
  hashedRekordV1,
  hashedRekordV2,
  signArtifact,
  signerPem,
  signerDer,
  signerKeys,
  get,
  post,
} from './helpers.js';
import { verifySignedCheckpoint, verifyInclusion, leafHash } from '../../src/merkle/index.js';
import { errorCode } from '../support/error-body.js';

type Req = { name: string; method?: string; path: string; body?: string | Buffer; type?: string | null; status?: number };

const pemOf = (k: { publicKey: { export(o: object): string | Buffer } }): string =>
  k.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const derOf = (k: { publicKey: { export(o: object): string | Buffer } }): Buffer =>
  Buffer.from(k.publicKey.export({ format: 'der', type: 'spki' }));
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const json = (o: unknown): string => JSON.stringify(o);

function v1With(mut: (e: any) => void, signed = signArtifact(Buffer.from('bad input'))): string {
  const e: any = hashedRekordV1(signed);
  mut(e);
  return json(e);
}
function v2With(mut: (e: any) => void, signed = signArtifact(Buffer.from('bad input v2'))): string {
  const e: any = hashedRekordV2(signed);
  mut(e);
  return json(e);
}

for (const driver of LOG_DRIVERS)
  test(`${driver}: a corpus of malformed and hostile requests gets 4xx JSON errors; the log is unchanged and still serves and verifies`, async () => {
    const s = await startLogServer({ bodyLimit: 64 * 1024, driver });
    try {
      const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
      const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      const ed = generateKeyPairSync('ed25519');
      const artifact = Buffer.from('bad input');
      const digest = createHash('sha256').update(artifact).digest();
      const sigBy = (key: Parameters<typeof sign>[2]) => sign('sha256', artifact, key);
      const garbageCertPem = `-----BEGIN CERTIFICATE-----\n${randomBytes(300).toString('base64')}\n-----END CERTIFICATE-----\n`;
      const garbageKeyPem = `-----BEGIN PUBLIC KEY-----\n${randomBytes(91).toString('base64')}\n-----END PUBLIC KEY-----\n`;
      const payloadType = 'application/vnd.in-toto+json';
      const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
      const pae = Buffer.concat([Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `), payload]);
      const goodDsseSig = sign('sha256', pae, signerKeys.privateKey);
      const envelope = (sig: Buffer) => json({ payload: b64(payload), payloadType, signatures: [{ sig: b64(sig), keyid: '' }] });
      const E1 = '/api/v1/log/entries';
      const E2 = '/api/v2/log/entries';
      let deep = '';
      for (let i = 0; i < 5000; i++) deep += '[';

      const corpus: Req[] = [
        // Rekor v1: transport and JSON
        { name: 'malformed JSON', path: E1, body: '{"kind":' },
        { name: 'empty body', path: E1, body: '' },
        { name: 'JSON null', path: E1, body: 'null' },
        { name: 'JSON array', path: E1, body: '[]' },
        { name: 'JSON string', path: E1, body: '"hashedrekord"' },
        { name: 'deeply nested JSON', path: E1, body: deep },
        { name: 'text/plain', path: E1, body: 'hello', type: 'text/plain' },
        { name: 'application/xml', path: E1, body: '<a/>', type: 'application/xml', status: 415 },
        { name: 'no content type', path: E1, body: Buffer.from('{}'), type: null, status: 415 },
        { name: 'oversized body', path: E1, body: json({ kind: 'x'.repeat(100_000) }), status: 413 },
        { name: 'invalid UTF-8 JSON', path: E1, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) },
        // Rekor v1: structure
        { name: 'missing kind', path: E1, body: v1With((e) => delete e.kind) },
        {
          name: 'unknown kind',
          path: E1,
          body: v1With((e) => {
            e.kind = 'rekord';
          }),
        },
        {
          name: 'unsupported version',
          path: E1,
          body: v1With((e) => {
            e.apiVersion = '0.0.9';
          }),
        },
        {
          name: 'huge kind string',
          path: E1,
          body: v1With((e) => {
            e.kind = 'k'.repeat(50_000);
          }),
        },
        { name: 'missing spec', path: E1, body: v1With((e) => delete e.spec) },
        {
          name: 'spec is a string',
          path: E1,
          body: v1With((e) => {
            e.spec = 'x';
          }),
        },
        {
          name: 'hash algorithm md5',
          path: E1,
          body: v1With((e) => {
            e.spec.data.hash.algorithm = 'md5';
          }),
        },
        {
          name: 'hash too short',
          path: E1,
          body: v1With((e) => {
            e.spec.data.hash.value = 'abcd';
          }),
        },
        {
          name: 'hash not hex',
          path: E1,
          body: v1With((e) => {
            e.spec.data.hash.value = 'zz'.repeat(32);
          }),
        },
        {
          name: 'hash a number',
          path: E1,
          body: v1With((e) => {
            e.spec.data.hash.value = 123;
          }),
        },
        {
          name: 'signature bad base64',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.content = '!!!not base64!!!';
          }),
        },
        {
          name: 'signature empty',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.content = '';
          }),
        },
        {
          name: 'public key bad base64',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.publicKey.content = '%%%';
          }),
        },
        {
          name: 'public key not PEM',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.publicKey.content = b64('hello');
          }),
        },
        {
          name: 'public key garbage DER',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.publicKey.content = b64(garbageKeyPem);
          }),
        },
        {
          name: 'certificate garbage DER',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.publicKey.content = b64(garbageCertPem);
          }),
        },
        {
          name: 'private key PEM',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.publicKey.content = b64(signerKeys.privateKey.export({ format: 'pem', type: 'pkcs8' }));
          }),
        },
        {
          name: 'RSA-1024 key',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.publicKey.content = b64(pemOf(rsa1024));
            e.spec.signature.content = b64(sigBy(rsa1024.privateKey));
          }),
        },
        {
          name: 'secp256k1 key',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.publicKey.content = b64(pemOf(k1));
            e.spec.signature.content = b64(sigBy(k1.privateKey));
          }),
        },
        {
          name: 'DSA key',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.publicKey.content = b64(pemOf(dsa));
            e.spec.signature.content = b64(sigBy(dsa.privateKey));
          }),
        },
        {
          name: 'P-384 key with sha256',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.publicKey.content = b64(pemOf(p384));
            e.spec.signature.content = b64(sigBy(p384.privateKey));
          }),
        },
        {
          name: 'Ed25519 key (no prehash support)',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.publicKey.content = b64(pemOf(ed));
            e.spec.signature.content = b64(sign(null, digest, ed.privateKey));
          }),
        },
        {
          name: 'signature by another key',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.content = b64(sigBy(p384.privateKey));
          }),
        },
        {
          name: 'signature over other data',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.content = b64(sign('sha256', Buffer.from('other'), signerKeys.privateKey));
          }),
        },
        {
          name: 'random signature bytes',
          path: E1,
          body: v1With((e) => {
            e.spec.signature.content = b64(randomBytes(71));
          }),
        },
        {
          name: 'dsse envelope not a string',
          path: E1,
          body: json({ apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope: { a: 1 }, verifiers: [b64(signerPem)] } } }),
        },
        {
          name: 'dsse envelope invalid JSON',
          path: E1,
          body: json({ apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope: '{', verifiers: [b64(signerPem)] } } }),
        },
        {
          name: 'dsse no signatures',
          path: E1,
          body: json({
            apiVersion: '0.0.1',
            kind: 'dsse',
            spec: {
              proposedContent: { envelope: json({ payload: b64(payload), payloadType, signatures: [] }), verifiers: [b64(signerPem)] },
            },
          }),
        },
        {
          name: 'dsse bad signature',
          path: E1,
          body: json({
            apiVersion: '0.0.1',
            kind: 'dsse',
            spec: { proposedContent: { envelope: envelope(randomBytes(70)), verifiers: [b64(signerPem)] } },
          }),
        },
        {
          name: 'dsse no verifiers',
          path: E1,
          body: json({ apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope: envelope(goodDsseSig), verifiers: [] } } }),
        },
        {
          name: 'dsse wrong verifier',
          path: E1,
          body: json({
            apiVersion: '0.0.1',
            kind: 'dsse',
            spec: { proposedContent: { envelope: envelope(goodDsseSig), verifiers: [b64(pemOf(p384))] } },
          }),
        },
        {
          name: 'intoto payload not double base64',
          path: E1,
          body: json({
            apiVersion: '0.0.2',
            kind: 'intoto',
            spec: {
              content: {
                envelope: { payloadType, payload: '@@', signatures: [{ sig: b64(b64(goodDsseSig)), publicKey: b64(signerPem) }] },
              },
            },
          }),
        },
        {
          name: 'intoto bad signature',
          path: E1,
          body: json({
            apiVersion: '0.0.2',
            kind: 'intoto',
            spec: {
              content: {
                envelope: {
                  payloadType,
                  payload: b64(b64(payload)),
                  signatures: [{ sig: b64(b64(randomBytes(70))), publicKey: b64(signerPem) }],
                },
              },
            },
          }),
        },
        // Rekor v2
        {
          name: 'v2 unknown top-level field',
          path: E2,
          body: v2With((e) => {
            e.extra = 1;
          }),
        },
        {
          name: 'v2 unknown nested field',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.signature.extra = 'x';
          }),
        },
        {
          name: 'v2 both request kinds',
          path: E2,
          body: v2With((e) => {
            e.dsseRequestV002 = {};
          }),
        },
        { name: 'v2 empty request', path: E2, body: '{}' },
        {
          name: 'v2 digest wrong length',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.digest = b64(randomBytes(20));
          }),
        },
        {
          name: 'v2 digest bad base64',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.digest = '*';
          }),
        },
        {
          name: 'v2 unknown keyDetails',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.signature.verifier.keyDetails = 'PKIX_FANCY';
          }),
        },
        {
          name: 'v2 keyDetails of another key type',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.signature.verifier.keyDetails = 'PKIX_ECDSA_P384_SHA_384';
          }),
        },
        {
          name: 'v2 pure Ed25519 keyDetails',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.signature.verifier.keyDetails = 'PKIX_ED25519';
          }),
        },
        {
          name: 'v2 missing verifier',
          path: E2,
          body: v2With((e) => {
            delete e.hashedRekordRequestV002.signature.verifier;
          }),
        },
        {
          name: 'v2 both verifier forms',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.signature.verifier.x509Certificate = { rawBytes: b64(randomBytes(10)) };
          }),
        },
        {
          name: 'v2 garbage certificate',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.signature.verifier = {
              x509Certificate: { rawBytes: b64(randomBytes(200)) },
              keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            };
          }),
        },
        {
          name: 'v2 garbage public key',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.signature.verifier.publicKey.rawBytes = b64(randomBytes(91));
          }),
        },
        {
          name: 'v2 RSA-1024',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.signature = {
              content: b64(sigBy(rsa1024.privateKey)),
              verifier: { publicKey: { rawBytes: b64(derOf(rsa1024)) }, keyDetails: 'PKIX_RSA_PKCS1V15_2048_SHA256' },
            };
            e.hashedRekordRequestV002.digest = b64(digest);
          }),
        },
        {
          name: 'v2 secp256k1',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.signature.verifier.publicKey.rawBytes = b64(derOf(k1));
          }),
        },
        {
          name: 'v2 bad signature',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.signature.content = b64(randomBytes(70));
          }),
        },
        {
          name: 'v2 signature by another key',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.signature.content = b64(sigBy(p384.privateKey));
          }),
        },
        {
          name: 'v2 dsse bad signature',
          path: E2,
          body: json({
            dsseRequestV002: {
              envelope: JSON.parse(envelope(randomBytes(70))),
              verifiers: [{ publicKey: { rawBytes: b64(signerDer) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }],
            },
          }),
        },
        {
          name: 'v2 dsse two signatures',
          path: E2,
          body: json({
            dsseRequestV002: {
              envelope: { payload: b64(payload), payloadType, signatures: [{ sig: b64(goodDsseSig) }, { sig: b64(goodDsseSig) }] },
              verifiers: [{ publicKey: { rawBytes: b64(signerDer) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }],
            },
          }),
        },
        {
          name: 'v2 dsse no verifiers',
          path: E2,
          body: json({ dsseRequestV002: { envelope: JSON.parse(envelope(goodDsseSig)), verifiers: [] } }),
        },
        // Work per request is bounded (issue 8, item 1): too many signatures or verifiers, also on the read-only retrieve
        {
          name: 'dsse 11 signatures',
          path: E1,
          body: json({
            apiVersion: '0.0.1',
            kind: 'dsse',
            spec: {
              proposedContent: {
                envelope: json({ payload: b64(payload), payloadType, signatures: Array(11).fill({ sig: b64(goodDsseSig), keyid: '' }) }),
                verifiers: [b64(signerPem)],
              },
            },
          }),
        },
        {
          name: 'dsse 11 verifiers',
          path: E1,
          body: json({
            apiVersion: '0.0.1',
            kind: 'dsse',
            spec: { proposedContent: { envelope: envelope(goodDsseSig), verifiers: Array(11).fill(b64(signerPem)) } },
          }),
        },
        {
          name: 'dsse 200 signatures x 100 verifiers',
          path: E1,
          body: json({
            apiVersion: '0.0.1',
            kind: 'dsse',
            spec: {
              proposedContent: {
                envelope: json({ payload: b64(payload), payloadType, signatures: Array(200).fill({ sig: b64(goodDsseSig), keyid: '' }) }),
                verifiers: Array(100).fill(b64(pemOf(p384))),
              },
            },
          }),
        },
        {
          name: 'intoto 11 signatures',
          path: E1,
          body: json({
            apiVersion: '0.0.2',
            kind: 'intoto',
            spec: {
              content: {
                envelope: {
                  payloadType,
                  payload: b64(b64(payload)),
                  signatures: Array(11).fill({ sig: b64(b64(goodDsseSig)), publicKey: b64(signerPem) }),
                },
              },
            },
          }),
        },
        {
          name: 'retrieve a dsse entry with 11 verifiers',
          path: '/api/v1/log/entries/retrieve',
          body: json({
            entries: [
              {
                apiVersion: '0.0.1',
                kind: 'dsse',
                spec: { proposedContent: { envelope: envelope(goodDsseSig), verifiers: Array(11).fill(b64(signerPem)) } },
              },
            ],
          }),
        },
        // What entry bundles cannot hold is refused (item 2)
        {
          name: 'v2 certificate of 40 kB',
          path: E2,
          body: v2With((e) => {
            e.hashedRekordRequestV002.signature.verifier = {
              x509Certificate: { rawBytes: b64(randomBytes(40_000)) },
              keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            };
          }),
        },
        // Read API
        { name: 'logIndex negative', method: 'GET', path: '/api/v1/log/entries?logIndex=-1' },
        { name: 'logIndex not a number', method: 'GET', path: '/api/v1/log/entries?logIndex=abc' },
        { name: 'logIndex missing', method: 'GET', path: '/api/v1/log/entries' },
        { name: 'logIndex beyond the log', method: 'GET', path: '/api/v1/log/entries?logIndex=123456789', status: 404 },
        { name: 'entry UUID not hex', method: 'GET', path: '/api/v1/log/entries/not-a-uuid' },
        { name: 'entry UUID of another tree', method: 'GET', path: `/api/v1/log/entries/${'f'.repeat(16)}${'a'.repeat(64)}`, status: 404 },
        { name: 'proof firstSize > lastSize', method: 'GET', path: '/api/v1/log/proof?firstSize=5&lastSize=1' },
        { name: 'proof lastSize huge', method: 'GET', path: '/api/v1/log/proof?lastSize=99999999999999999999' },
        { name: 'proof unknown treeID', method: 'GET', path: '/api/v1/log/proof?lastSize=1&treeID=42', status: 404 },
        {
          name: 'retrieve too many UUIDs',
          path: '/api/v1/log/entries/retrieve',
          body: json({ entryUUIDs: Array(11).fill('a'.repeat(64)) }),
        },
        { name: 'retrieve nothing asked', path: '/api/v1/log/entries/retrieve', body: '{}' },
        { name: 'retrieve logIndexes of strings', path: '/api/v1/log/entries/retrieve', body: json({ logIndexes: ['x'] }) },
        { name: 'index search without keys', path: '/api/v1/index/retrieve', body: '{}' },
        { name: 'index search pgp key', path: '/api/v1/index/retrieve', body: json({ publicKey: { format: 'pgp', content: b64('x') } }) },
        { name: 'index search bad hash', path: '/api/v1/index/retrieve', body: json({ hash: 'sha256:xyz' }) },
        {
          name: 'index search bad operator',
          path: '/api/v1/index/retrieve',
          body: json({ hash: `sha256:${digest.toString('hex')}`, operator: 'xor' }),
        },
        { name: 'tile path not canonical', method: 'GET', path: '/tile/0/5', status: 404 },
        { name: 'tile level too high', method: 'GET', path: '/tile/64/000', status: 404 },
        { name: 'tile not yet there', method: 'GET', path: '/tile/0/x001/000', status: 404 },
        { name: 'entry bundle width 0', method: 'GET', path: '/tile/entries/000.p/0', status: 404 },
        { name: 'unknown route', method: 'GET', path: '/api/v1/nothing', status: 404 },
        { name: 'wrong method', method: 'PUT', path: E1, body: '{}', status: 404 },
      ];
      assert.ok(corpus.length >= 50, `corpus has ${corpus.length} requests`);

      const before = (await get(`${s.url}/api/v1/log`)).json;
      const beforeV2 = (await get(`${s.url}/checkpoint`)).text;
      const failures: string[] = [];
      for (const r of corpus) {
        try {
          await check(r);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
      assert.deepEqual(failures, []);
      async function check(r: Req): Promise<void> {
        const headers: Record<string, string> = {};
        if (r.type !== null && r.body !== undefined) headers['content-type'] = r.type ?? 'application/json';
        const res = await fetch(`${s.url}${r.path}`, {
          method: r.method ?? 'POST',
          headers,
          body: r.method === 'GET' ? undefined : r.body,
        });
        const text = await res.text();
        assert.ok(res.status >= 400 && res.status < 500, `${r.name}: status ${res.status} ${text.slice(0, 200)}`);
        if (r.status !== undefined) assert.equal(res.status, r.status, `${r.name}: ${text.slice(0, 200)}`);
        assert.match(res.headers.get('content-type') ?? '', /application\/json/, r.name);
        const body = JSON.parse(text);
        assert.equal(typeof errorCode(body, res.status), 'string', r.name);
        // Rekor v1's upload route answers as Rekor does: code = the HTTP status, the Keyless code as reason.
        if (r.path === E1 && (r.method ?? 'POST') === 'POST') assert.equal(body.code, res.status, r.name);
        assert.equal(typeof body.message, 'string', r.name);
        assert.ok(body.message.length < 2000, `${r.name}: message is short`);
      }
      // Nothing was logged; the logs still accept, prove and verify.
      assert.deepEqual((await get(`${s.url}/api/v1/log`)).json, before);
      assert.equal((await get(`${s.url}/checkpoint`)).text, beforeV2);
      const ok = await post(`${s.url}/api/v1/log/entries`, hashedRekordV1(signArtifact(Buffer.from('after the corpus'))));
      assert.equal(ok.status, 201);
      const e = Object.values(ok.json)[0] as any;
      const cp = verifySignedCheckpoint(e.verification.inclusionProof.checkpoint, s.v1.info.keyName, s.v1Keys.publicKey);
      verifyInclusion(
        e.logIndex,
        cp.size,
        leafHash(Buffer.from(e.body, 'base64')),
        e.verification.inclusionProof.hashes.map((h: string) => Buffer.from(h, 'hex')),
        cp.rootHash,
      );
      const ok2 = await post(`${s.url}/api/v2/log/entries`, hashedRekordV2(signArtifact(Buffer.from('after the corpus v2'))));
      assert.equal(ok2.status, 201);
    } finally {
      await s.close();
    }
  });
