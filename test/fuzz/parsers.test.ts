// Property tests over every parser that takes network input (issue 8): for any input,
// valid ones mutated at random and arbitrary ones, the answer is success or a typed
// KeylessError whose HTTP status is 4xx. Never another exception, never a 5xx.
// A bounded number of cases each (seeded), so the whole file stays within seconds in CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { KeylessError } from '../../src/core/errors.js';
import { parseBundle, parseCreateEntryRequestV2, parseRekorV1ProposedEntry } from '../../src/formats/index.js';
import { toHttpError } from '../../src/services/http/index.js';
import { admitV1, admitV2 } from '../../src/services/tlog/admit.js';
import { inlineDigestVerifier } from '../../src/services/tlog/index.js';
import { parseCsr, parseSigningCertRequest } from '../../src/services/ca/index.js';
import { parseTimestampRequest } from '../../src/x509/build/timestamp.js';
import { decodeToken } from '../../src/oidc/decode.js';
import { hashedRekordV1, hashedRekordV2, signArtifact } from '../tlog/helpers.js';
import { csrPem, ecKey, publicKeyRequest } from '../ca/helpers.js';
import { CONFORMANCE_DIR } from '../conformance/helpers.js';

const RUNS = 400;
const params = (seed: number) => ({ numRuns: RUNS, seed });

/** Success, or a KeylessError that a service answers with a 4xx. */
async function typedOr4xx(what: string, fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof KeylessError)) assert.fail(`${what}: untyped ${(e as Error)?.name}: ${(e as Error)?.stack ?? String(e)}`);
    const { status } = toHttpError(e);
    assert.ok(status >= 400 && status < 500, `${what}: ${e.code} answers ${status}: ${e.message}`);
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value inside `v`. */
function paths(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

/** A valid document with one value replaced by arbitrary JSON, a string, or removed. */
function mutatedJson(seed: Json): fc.Arbitrary<Json> {
  const all = paths(seed);
  return fc
    .tuple(fc.nat(all.length - 1), fc.oneof(fc.jsonValue(), fc.string(), fc.constant(undefined)), fc.nat(3))
    .map(([i, replacement, times]) => {
      const doc = structuredClone(seed);
      for (let t = 0; t <= times; t++) {
        const path = all[(i + t * 7) % all.length]!;
        if (path.length === 0) return (replacement ?? null) as Json;
        let parent: any = doc;
        for (const k of path.slice(0, -1)) parent = parent?.[k];
        if (parent && typeof parent === 'object') {
          const last = path.at(-1)!;
          if (replacement === undefined) delete parent[last];
          else parent[last] = replacement;
        }
      }
      return doc;
    });
}

/** Valid bytes with a few bytes changed, then possibly truncated or extended. */
function mutatedBytes(seed: Buffer): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.nat(seed.length + 16),
      fc.uint8Array({ maxLength: 16 }),
    )
    .map(([flips, cut, tail]) => {
      const b = Buffer.from(seed);
      for (const [at, v] of flips) b[at] = v;
      return cut < seed.length ? b.subarray(0, cut) : Buffer.concat([b, tail]);
    });
}

const jsonInput = (seed: Json) =>
  fc.oneof({ weight: 4, arbitrary: mutatedJson(seed) }, { weight: 1, arbitrary: fc.jsonValue() as fc.Arbitrary<Json> });
const bytesInput = (seed: Buffer) =>
  fc.oneof(
    { weight: 4, arbitrary: mutatedBytes(seed) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)) },
  );

test('Rekor v1 proposed entries: parse and admit', async () => {
  const seed = hashedRekordV1(signArtifact(Buffer.from('fuzz v1'))) as Json;
  const pae = Buffer.from('DSSEv1 4 type 2 {}');
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dsse = {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      proposedContent: {
        envelope: JSON.stringify({
          payload: Buffer.from('{}').toString('base64'),
          payloadType: 'type',
          signatures: [{ sig: sign('sha256', pae, k.privateKey).toString('base64'), keyid: '' }],
        }),
        verifiers: [Buffer.from(k.publicKey.export({ format: 'pem', type: 'spki' })).toString('base64')],
      },
    },
  } as Json;
  for (const [i, s] of [seed, dsse].entries()) {
    await fc.assert(
      fc.asyncProperty(jsonInput(s), (input) =>
        typedOr4xx('rekor v1', async () => admitV1(parseRekorV1ProposedEntry(input), inlineDigestVerifier)),
      ),
      params(100 + i),
    );
  }
});

test('Rekor v2 create-entry requests: parse and admit', async () => {
  const seed = hashedRekordV2(signArtifact(Buffer.from('fuzz v2'))) as Json;
  await fc.assert(
    fc.asyncProperty(jsonInput(seed), (input) =>
      typedOr4xx('rekor v2', async () => admitV2(parseCreateEntryRequestV2(input), inlineDigestVerifier)),
    ),
    params(200),
  );
});

test('signing-certificate requests and CSRs', async () => {
  const key = ecKey();
  const seed = publicKeyRequest('header.payload.signature', key, 'a@example.com') as Json;
  await fc.assert(
    fc.asyncProperty(jsonInput(seed), fc.option(fc.string()), (input, auth) =>
      typedOr4xx('signingCert', () => parseSigningCertRequest(input, auth ?? undefined)),
    ),
    params(300),
  );
  const der = Buffer.from(csrPem(key.publicKey, key.privateKey).replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const pem = (b: Buffer) => `-----BEGIN CERTIFICATE REQUEST-----\n${b.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await fc.assert(
    fc.asyncProperty(bytesInput(der), (b) => typedOr4xx('CSR', () => parseCsr(Buffer.from(pem(b)).toString('base64')))),
    params(301),
  );
});

test('RFC 3161 timestamp requests (DER)', async () => {
  const digest = createHash('sha256').update('fuzz tsa').digest();
  // TimeStampReq { version 1, messageImprint { sha256, digest }, nonce, certReq TRUE }
  const seed = Buffer.concat([
    Buffer.from('3041020101303130' + '0d060960864801650304020105000420', 'hex'),
    digest,
    Buffer.from('020412345678' + '0101ff', 'hex'),
  ]);
  seed[1] = seed.length - 2;
  assert.equal(parseTimestampRequest(seed).hashAlgorithm, 'sha256', 'the seed is a valid request');
  await fc.assert(
    fc.asyncProperty(bytesInput(seed), (b) => typedOr4xx('tsa request', () => parseTimestampRequest(b))),
    params(400),
  );
});

test('identity tokens', async () => {
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwt = await new SignJWT({ email: 'a@example.com' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k' })
    .setIssuer('https://issuer.example')
    .setAudience('sigstore')
    .setExpirationTime('5m')
    .sign(k.privateKey);
  const tokens = fc.oneof(
    mutatedBytes(Buffer.from(jwt)).map((b) => b.toString('latin1')),
    fc.array(fc.oneof(fc.base64String(), fc.string()), { maxLength: 4 }).map((parts) => parts.join('.')),
    fc.jsonValue(),
  );
  await fc.assert(
    fc.asyncProperty(tokens, (t) => typedOr4xx('token', () => decodeToken(t))),
    params(500),
  );
});

test('bundles', async () => {
  const seed = JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'happy-path-v0.3/bundle.sigstore.json'), 'utf8')) as Json;
  await fc.assert(
    fc.asyncProperty(jsonInput(seed), (input) => typedOr4xx('bundle', () => parseBundle(input))),
    params(600),
  );
});
