import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { hexEncode, pemEncode, base64Encode } from '../../src/core/encoding.js';
import { parsePublicKey } from '../../src/core/keys.js';
import {
  parseBundle,
  parseRekorEntryBody,
  canonicalRekorBody,
  isCanonicalRekorBody,
  buildHashedRekordV001,
  buildDsseV001,
  buildIntotoV002,
  buildHashedRekordV002,
  dsseRequestAsHashedRekordRequest,
  parseCreateEntryRequestV2,
  serializeCreateEntryRequestV2,
  parseRekorV1ProposedEntry,
  serializeRekorV1ProposedEntry,
  serializeEnvelope,
  defaultKeyDetails,
  KeyDetailsValue,
  HashAlgorithmValue,
  type Bundle,
  type DsseV001,
  type IntotoV002,
  type HashedRekordV002,
} from '../../src/formats/index.js';
import { assertFormatError, bundleText, clone, conformanceCases, snakeCaseKeys } from './fixtures.js';

function load(name: string): Bundle {
  return parseBundle(bundleText(name));
}

function leafDer(b: Bundle): Buffer {
  const c = b.verificationMaterial!.content!;
  if (c.$case === 'certificate') return c.certificate.rawBytes;
  if (c.$case === 'x509CertificateChain') return c.x509CertificateChain.certificates[0]!.rawBytes;
  throw new Error('no certificate');
}

function messageSig(b: Bundle) {
  const c = b.content;
  if (c?.$case !== 'messageSignature') throw new Error('not a message signature bundle');
  return c.messageSignature;
}

function envelopeOf(b: Bundle) {
  const c = b.content;
  if (c?.$case !== 'dsseEnvelope') throw new Error('not a DSSE bundle');
  return c.dsseEnvelope;
}

test('every canonical body in the conformance bundles parses and rebuilds to the same bytes', () => {
  const kinds = new Set<string>();
  let bodies = 0;
  for (const name of conformanceCases()) {
    let b: Bundle;
    try {
      b = load(name);
    } catch {
      continue; // malformed on purpose, covered by the bundle tests
    }
    for (const e of b.verificationMaterial!.tlogEntries) {
      if (name === 'bundle-empty-certificate-chain_fail' || name === 'intoto-log-entry-mismatch_fail') continue;
      const entry = parseRekorEntryBody(e.canonicalizedBody);
      assert.equal(entry.kind, e.kindVersion!.kind, name);
      assert.equal(entry.apiVersion, e.kindVersion!.version, name);
      assert.ok(canonicalRekorBody(entry).equals(e.canonicalizedBody), `${name}: rebuilt body differs`);
      assert.ok(isCanonicalRekorBody(e.canonicalizedBody));
      kinds.add(`${entry.kind}/${entry.apiVersion}`);
      bodies++;
    }
  }
  assert.ok(bodies >= 40);
  assert.deepEqual([...kinds].sort(), ['dsse/0.0.1', 'hashedrekord/0.0.1', 'hashedrekord/0.0.2', 'intoto/0.0.2']);
});

test('a body whose intoto signature is not base64 twice is refused, naming the field', () => {
  // The conformance case stores the raw signature once-encoded: a log-entry mismatch.
  const e = load('intoto-log-entry-mismatch_fail').verificationMaterial!.tlogEntries[0]!;
  assertFormatError(() => parseRekorEntryBody(e.canonicalizedBody), 'canonicalizedBody.spec.content.envelope.signatures[0].sig');
});

test('builders reproduce real Rekor v1 bodies byte for byte', () => {
  // hashedrekord 0.0.1: the hex digest, the signature and a fresh PEM of the leaf.
  const hr = load('happy-path-v0.3');
  const ms = messageSig(hr);
  const built = buildHashedRekordV001({
    hash: { algorithm: 'sha256', value: hexEncode(ms.messageDigest!.digest) },
    signature: ms.signature,
    publicKeyPem: pemEncode('CERTIFICATE', leafDer(hr)),
  });
  assert.ok(canonicalRekorBody(built).equals(hr.verificationMaterial!.tlogEntries[0]!.canonicalizedBody));

  // dsse 0.0.1: the envelope hash covers the client's JSON text, which our serializer reproduces.
  const ds = load('happy-path-intoto-in-dsse-v3');
  const env = envelopeOf(ds);
  const dsse = buildDsseV001({
    envelopeText: JSON.stringify(serializeEnvelope(env)),
    envelope: env,
    verifierPems: [pemEncode('CERTIFICATE', leafDer(ds))],
  });
  const dsseBody = ds.verificationMaterial!.tlogEntries[0]!.canonicalizedBody;
  assert.ok(canonicalRekorBody(dsse).equals(dsseBody));
  assert.deepEqual((parseRekorEntryBody(dsseBody) as DsseV001).payloadHash, dsse.payloadHash);

  // intoto 0.0.2 (an older entry that still carries the payload): the `hash` recipe matches.
  const it = load('intoto-with-custom-trust-root');
  const itEnv = envelopeOf(it);
  const itBody = it.verificationMaterial!.tlogEntries[0]!.canonicalizedBody;
  const stored = parseRekorEntryBody(itBody) as IntotoV002;
  const intoto = buildIntotoV002({ envelope: itEnv, publicKeyPems: [stored.signatures[0]!.publicKey], includePayload: true });
  assert.ok(canonicalRekorBody(intoto).equals(itBody));
  const current = buildIntotoV002({ envelope: itEnv, publicKeyPems: [stored.signatures[0]!.publicKey] });
  assert.equal(current.payload, undefined);
  assert.ok(!canonicalRekorBody(current).includes('"payload"'));
});

test('builders reproduce real Rekor v2 bodies (message and DSSE-as-hashedrekord)', () => {
  for (const name of ['rekor2-happy-path', 'rekor2-dsse-happy-path']) {
    const b = load(name);
    const verifier = {
      verifier: { $case: 'x509Certificate' as const, x509Certificate: { rawBytes: leafDer(b) } },
      keyDetails: KeyDetailsValue.PKIX_ECDSA_P256_SHA_256,
    };
    const c = b.content!;
    const req =
      c.$case === 'messageSignature'
        ? { digest: c.messageSignature.messageDigest!.digest, signature: { content: c.messageSignature.signature, verifier } }
        : dsseRequestAsHashedRekordRequest({ envelope: c.dsseEnvelope, verifiers: [verifier] });
    const entry = buildHashedRekordV002(req);
    assert.equal(entry.data.algorithm, HashAlgorithmValue.SHA2_256);
    assert.ok(canonicalRekorBody(entry).equals(b.verificationMaterial!.tlogEntries[0]!.canonicalizedBody), name);
  }
});

test('hashedrekord 0.0.2: digest length must match the hash implied by keyDetails', () => {
  const key = parsePublicKey(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'der', type: 'spki' }));
  assert.equal(defaultKeyDetails(key), KeyDetailsValue.PKIX_ECDSA_P384_SHA_384);
  const verifier = {
    verifier: { $case: 'publicKey' as const, publicKey: { rawBytes: Buffer.from('k') } },
    keyDetails: defaultKeyDetails(key),
  };
  assert.equal(
    buildHashedRekordV002({ digest: Buffer.alloc(48, 1), signature: { content: Buffer.from('s'), verifier } }).data.algorithm,
    HashAlgorithmValue.SHA2_384,
  );
  assertFormatError(
    () => buildHashedRekordV002({ digest: Buffer.alloc(32, 1), signature: { content: Buffer.from('s'), verifier } }),
    'hashedRekordRequestV002.digest',
  );
  const ed = parsePublicKey(generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }));
  assert.equal(defaultKeyDetails(ed), KeyDetailsValue.PKIX_ED25519_PH);
  const pure = { ...verifier, keyDetails: KeyDetailsValue.PKIX_ED25519 };
  assertFormatError(
    () => buildHashedRekordV002({ digest: Buffer.alloc(64), signature: { content: Buffer.from('s'), verifier: pure } }),
    'hashedRekordRequestV002.signature.verifier.keyDetails',
  );
});

test('unsupported kinds, versions and broken bodies are FormatErrors', () => {
  const body = (o: unknown) => Buffer.from(JSON.stringify(o));
  assertFormatError(() => parseRekorEntryBody(body({ apiVersion: '0.0.1', kind: 'rekord', spec: {} })), 'canonicalizedBody.kind');
  assertFormatError(() => parseRekorEntryBody(body({ apiVersion: '0.0.3', kind: 'hashedrekord', spec: {} })), 'canonicalizedBody.kind');
  assertFormatError(() => parseRekorEntryBody(body({ apiVersion: '0.0.1', kind: 'hashedrekord' })), 'canonicalizedBody.spec');
  assertFormatError(() => parseRekorEntryBody(Buffer.from('not json')), 'canonicalizedBody');
  assertFormatError(() => parseRekorEntryBody(body([1])), 'canonicalizedBody');
  const hr = JSON.parse(load('happy-path-v0.3').verificationMaterial!.tlogEntries[0]!.canonicalizedBody.toString());
  const bad = clone(hr);
  bad.spec.data.hash.value = 'ABC';
  assertFormatError(() => parseRekorEntryBody(body(bad)), 'canonicalizedBody.spec.data.hash.value');
  const extra = clone(hr);
  extra.spec.signature.extra = 1;
  assertFormatError(() => parseRekorEntryBody(body(extra)), 'canonicalizedBody.spec.signature.extra');
  const v2 = JSON.parse(load('rekor2-happy-path').verificationMaterial!.tlogEntries[0]!.canonicalizedBody.toString());
  const both = clone(v2);
  both.spec.hashedRekordV002.signature.verifier.publicKey = { rawBytes: 'AA==' };
  assertFormatError(() => parseRekorEntryBody(body(both)), 'canonicalizedBody.spec.hashedRekordV002.signature.verifier.x509Certificate');
  // Whitespace or key order other than JCS: parses, but is not canonical.
  const pretty = Buffer.from(JSON.stringify(hr, null, 1));
  assert.equal(parseRekorEntryBody(pretty).kind, 'hashedrekord');
  assert.equal(isCanonicalRekorBody(pretty), false);
});

test('POST /api/v2/log/entries requests: strict, both spellings, oneof', () => {
  const b = load('rekor2-happy-path');
  const c = messageSig(b);
  const json = {
    hashedRekordRequestV002: {
      digest: base64Encode(c.messageDigest!.digest),
      signature: {
        content: base64Encode(c.signature),
        verifier: { x509Certificate: { rawBytes: base64Encode(leafDer(b)) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
      },
    },
  };
  const req = parseCreateEntryRequestV2(json);
  assert.equal(req.$case, 'hashedRekordRequestV002');
  assert.deepEqual(serializeCreateEntryRequestV2(req), json);
  assert.deepEqual(parseCreateEntryRequestV2(snakeCaseKeys(json)), req);
  assert.deepEqual(parseCreateEntryRequestV2(JSON.stringify(json)), req);
  const entry: HashedRekordV002 = buildHashedRekordV002(
    req.$case === 'hashedRekordRequestV002' ? req.hashedRekordRequestV002 : assert.fail(),
  );
  assert.ok(canonicalRekorBody(entry).equals(b.verificationMaterial!.tlogEntries[0]!.canonicalizedBody));

  const cases: [string, (r: Record<string, any>) => void][] = [
    ['hashedRekordRequestV002.extra', (r) => (r.hashedRekordRequestV002.extra = true)],
    ['extra', (r) => (r.extra = true)],
    ['dsseRequestV002', (r) => (r.dsseRequestV002 = { envelope: {}, verifiers: [] })],
    ['spec', (r) => delete r.hashedRekordRequestV002],
    ['hashedRekordRequestV002.digest', (r) => (r.hashedRekordRequestV002.digest = '')],
    ['hashedRekordRequestV002.digest', (r) => (r.hashedRekordRequestV002.digest = '!!')],
    ['hashedRekordRequestV002.signature', (r) => delete r.hashedRekordRequestV002.signature],
    ['hashedRekordRequestV002.signature.content', (r) => (r.hashedRekordRequestV002.signature.content = 1)],
    ['hashedRekordRequestV002.signature.verifier', (r) => delete r.hashedRekordRequestV002.signature.verifier],
    ['hashedRekordRequestV002.signature.verifier.verifier', (r) => delete r.hashedRekordRequestV002.signature.verifier.x509Certificate],
    ['hashedRekordRequestV002.signature.verifier.keyDetails', (r) => delete r.hashedRekordRequestV002.signature.verifier.keyDetails],
    [
      'hashedRekordRequestV002.signature.verifier.keyDetails',
      (r) => (r.hashedRekordRequestV002.signature.verifier.keyDetails = 'PKIX_DSA'),
    ],
    [
      'hashedRekordRequestV002.signature.verifier.x509Certificate.rawBytes',
      (r) => (r.hashedRekordRequestV002.signature.verifier.x509Certificate = {}),
    ],
    [
      'hashedRekordRequestV002.signature.verifier.x509Certificate',
      (r) => (r.hashedRekordRequestV002.signature.verifier.publicKey = { rawBytes: 'AA==' }),
    ],
  ];
  for (const [field, mutate] of cases) {
    const r = clone(json) as Record<string, any>;
    mutate(r);
    assertFormatError(() => parseCreateEntryRequestV2(r), field);
  }
  for (const garbage of ['', 'null', '[]', '5', '{"a":'])
    assert.throws(() => parseCreateEntryRequestV2(garbage), { code: 'FORMAT_INVALID' });
});

test('POST /api/v2/log/entries: dsseRequestV002 as sigstore-js sends it, with limits', () => {
  const b = load('rekor2-dsse-happy-path');
  const env = envelopeOf(b);
  const json = {
    dsseRequestV002: {
      envelope: serializeEnvelope(env),
      verifiers: [{ x509Certificate: { rawBytes: base64Encode(leafDer(b)) }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' }],
    },
  };
  const req = parseCreateEntryRequestV2(json);
  assert.equal(req.$case, 'dsseRequestV002');
  assert.deepEqual(serializeCreateEntryRequestV2(req), json);
  const asHashed = buildHashedRekordV002(
    dsseRequestAsHashedRekordRequest(req.$case === 'dsseRequestV002' ? req.dsseRequestV002 : assert.fail()),
  );
  assert.ok(canonicalRekorBody(asHashed).equals(b.verificationMaterial!.tlogEntries[0]!.canonicalizedBody));

  const many = clone(json) as any;
  many.dsseRequestV002.verifiers = Array(11).fill(many.dsseRequestV002.verifiers[0]);
  assertFormatError(() => parseCreateEntryRequestV2(many), 'dsseRequestV002.verifiers');
  const none = clone(json) as any;
  none.dsseRequestV002.verifiers = [];
  assertFormatError(() => parseCreateEntryRequestV2(none), 'dsseRequestV002.verifiers');
  const noSig = clone(json) as any;
  noSig.dsseRequestV002.envelope.signatures = [];
  assertFormatError(() => parseCreateEntryRequestV2(noSig), 'dsseRequestV002.envelope.signatures');
});

test('POST /api/v1/log/entries proposed entries: all three kinds, with field paths', () => {
  const hr = load('happy-path-v0.3');
  const ms = messageSig(hr);
  const pem = pemEncode('CERTIFICATE', leafDer(hr));
  const hashed = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: hexEncode(ms.messageDigest!.digest) } },
      signature: { content: base64Encode(ms.signature), publicKey: { content: Buffer.from(pem).toString('base64') } },
    },
  };
  const p = parseRekorV1ProposedEntry(hashed);
  assert.equal(p.kind, 'hashedrekord');
  assert.deepEqual(serializeRekorV1ProposedEntry(p), hashed);
  if (p.kind === 'hashedrekord') {
    const body = canonicalRekorBody(buildHashedRekordV001({ hash: p.hash, signature: p.signature, publicKeyPem: p.publicKey }));
    assert.ok(body.equals(hr.verificationMaterial!.tlogEntries[0]!.canonicalizedBody));
  }
  // A missing algorithm means sha256, as in Rekor.
  const noAlg = clone(hashed) as any;
  delete noAlg.spec.data.hash.algorithm;
  assert.deepEqual((parseRekorV1ProposedEntry(noAlg) as { hash: unknown }).hash, hashed.spec.data.hash);

  const ds = load('happy-path-intoto-in-dsse-v3');
  const env = envelopeOf(ds);
  const envelopeText = JSON.stringify(serializeEnvelope(env));
  const dsse = {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      proposedContent: { envelope: envelopeText, verifiers: [Buffer.from(pemEncode('CERTIFICATE', leafDer(ds))).toString('base64')] },
    },
  };
  const pd = parseRekorV1ProposedEntry(dsse);
  assert.equal(pd.kind, 'dsse');
  assert.deepEqual(serializeRekorV1ProposedEntry(pd), dsse);
  if (pd.kind === 'dsse') {
    const built = buildDsseV001({ envelopeText: pd.envelopeText, envelope: pd.envelope, verifierPems: pd.verifiers });
    assert.ok(canonicalRekorBody(built).equals(ds.verificationMaterial!.tlogEntries[0]!.canonicalizedBody));
  }

  const intoto = serializeRekorV1ProposedEntry({
    kind: 'intoto',
    apiVersion: '0.0.2',
    envelope: env,
    publicKeys: [Buffer.from(pem)],
    keyids: [''],
  });
  const pi = parseRekorV1ProposedEntry(intoto);
  assert.equal(pi.kind, 'intoto');
  if (pi.kind === 'intoto') assert.ok(pi.envelope.payload.equals(env.payload));

  const cases: [string, unknown][] = [
    ['kind', { ...hashed, kind: 'rpm' }],
    ['kind', { ...hashed, apiVersion: '0.0.2' }],
    ['apiVersion', { kind: 'hashedrekord', spec: {} }],
    ['spec', { kind: 'hashedrekord', apiVersion: '0.0.1' }],
    ['spec.data.hash.algorithm', { ...hashed, spec: { ...hashed.spec, data: { hash: { algorithm: 'md5', value: 'aa' } } } }],
    [
      'spec.data.hash.value',
      { ...hashed, spec: { ...hashed.spec, data: { hash: { algorithm: 'sha512', value: hashed.spec.data.hash.value } } } },
    ],
    ['spec.signature.content', { ...hashed, spec: { ...hashed.spec, signature: { ...hashed.spec.signature, content: '' } } }],
    ['spec.signature.publicKey', { ...hashed, spec: { ...hashed.spec, signature: { content: 'AA==' } } }],
    ['spec.proposedContent.envelope', { ...dsse, spec: { proposedContent: { ...dsse.spec.proposedContent, envelope: '{' } } }],
    [
      'spec.proposedContent.envelope.signatures',
      {
        ...dsse,
        spec: {
          proposedContent: { ...dsse.spec.proposedContent, envelope: JSON.stringify({ ...serializeEnvelope(env), signatures: [] }) },
        },
      },
    ],
    ['spec.proposedContent.verifiers', { ...dsse, spec: { proposedContent: { ...dsse.spec.proposedContent, verifiers: [] } } }],
    ['spec.proposedContent.verifiers[0]', { ...dsse, spec: { proposedContent: { ...dsse.spec.proposedContent, verifiers: ['*'] } } }],
    ['proposedEntry', 'text'],
  ];
  for (const [field, input] of cases) assertFormatError(() => parseRekorV1ProposedEntry(input), field);
});

test('hashedrekord 0.0.2 canonical bodies: the direct writer gives the bytes JCS of the protojson Entry gives', async () => {
  const { canonicalRekorV2Body, serializeRekorV2Entry } = await import('../../src/formats/rekor-v2.js');
  const { canonicalBytes } = await import('../../src/core/canonical-json.js');
  const entry = (o: {
    algorithm?: number;
    digest?: Buffer;
    content?: Buffer;
    keyDetails?: number;
    key?: 'publicKey' | 'x509Certificate' | 'none';
    raw?: Buffer;
  }): HashedRekordV002 => {
    const raw = o.raw ?? Buffer.from('0Y\x30\x13 key bytes +/=');
    const verifier =
      o.key === 'none'
        ? undefined
        : o.key === 'x509Certificate'
          ? { $case: 'x509Certificate' as const, x509Certificate: { rawBytes: raw } }
          : { $case: 'publicKey' as const, publicKey: { rawBytes: raw } };
    return {
      kind: 'hashedrekord',
      apiVersion: '0.0.2',
      data: { algorithm: (o.algorithm ?? HashAlgorithmValue.SHA2_256) as never, digest: o.digest ?? Buffer.alloc(32, 0xfb) },
      signature: {
        content: o.content ?? Buffer.from([0x30, 0x45, 0xff, 0xfe]),
        verifier: { verifier, keyDetails: (o.keyDetails ?? KeyDetailsValue.PKIX_ECDSA_P256_SHA_256) as never },
      },
    };
  };
  const cases: HashedRekordV002[] = [
    entry({}),
    entry({ key: 'x509Certificate', raw: Buffer.alloc(1500, 0xa5) }),
    entry({ algorithm: HashAlgorithmValue.SHA2_384, digest: Buffer.alloc(48, 7), keyDetails: KeyDetailsValue.PKIX_ECDSA_P384_SHA_384 }),
    entry({
      algorithm: HashAlgorithmValue.SHA2_512,
      digest: Buffer.alloc(64, 9),
      keyDetails: KeyDetailsValue.PKIX_RSA_PKCS1V15_4096_SHA256,
    }),
    // What protojson would omit (defaults, empty bytes) or a missing key takes the generic path.
    entry({ algorithm: 0 }),
    entry({ digest: Buffer.alloc(0) }),
    entry({ content: Buffer.alloc(0) }),
    entry({ keyDetails: 0 }),
    entry({ raw: Buffer.alloc(0) }),
    entry({ key: 'none' }),
  ];
  for (const [i, e] of cases.entries()) {
    assert.equal(canonicalRekorV2Body(e).toString(), canonicalBytes(serializeRekorV2Entry(e)).toString(), `case ${i}`);
  }
});
