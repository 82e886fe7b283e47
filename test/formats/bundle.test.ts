import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bundle as ProtoBundle } from '@sigstore/protobuf-specs';
import { bundleFromJSON } from '@sigstore/bundle';
import {
  parseBundle,
  serializeBundle,
  serializeBundleJson,
  bundleVersion,
  BUNDLE_V03_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
} from '../../src/formats/index.js';
import {
  assertFormatError,
  bundleJson,
  bundleText,
  clone,
  conformanceCases,
  snakeCaseKeys,
  withExplicitProofFields,
  withoutDefaults,
} from './fixtures.js';

/** The conformance cases whose bundle is malformed on purpose, and the field each must name. */
const MALFORMED: Record<string, string> = {
  'bundle-empty-certificate-chain_fail': 'verificationMaterial.x509CertificateChain.certificates',
  'bundle-invalid-base64-signature_fail': 'messageSignature.signature',
  'bundle-malformed-json_fail': 'bundle',
  'bundle-unknown-version_fail': 'mediaType',
  // v0.2 requires a checkpoint in every inclusion proof; this one has none.
  'invalid-inclusion-proof_fail': 'verificationMaterial.tlogEntries[0].inclusionProof.checkpoint',
  'rekor2-no-inclusion-proof_fail': 'verificationMaterial.tlogEntries[0].inclusionProof',
};

test('every conformance bundle parses, except the malformed ones, which name the field', () => {
  const cases = conformanceCases();
  assert.ok(cases.length >= 40, `expected the conformance cases, found ${cases.length}`);
  for (const name of cases) {
    const field = MALFORMED[name];
    if (field) assertFormatError(() => parseBundle(bundleText(name)), field);
    else assert.doesNotThrow(() => parseBundle(bundleText(name)), name);
  }
});

// Round-trip fidelity is exact for every field but one, on purpose: a log index of 0 is written
// as "0" where canonical protojson would leave it out (sigstore-python 4.5.1 refuses a bundle
// without it; see writeTransparencyLogEntry). withExplicitProofFields adds exactly that.
test('round trip: serialize(parse(x)) is x as protojson emits it (log indexes explicit), and parses back to the same bundle', () => {
  for (const name of conformanceCases()) {
    if (MALFORMED[name]) continue;
    const original = bundleJson(name);
    const parsed = parseBundle(original);
    const out = serializeBundle(parsed);
    assert.deepEqual(out, withExplicitProofFields(withoutDefaults(original)), name);
    assert.deepEqual(parseBundle(out), parsed, name);
    assert.deepEqual(JSON.parse(serializeBundleJson(parsed)), out);
  }
});

test('log index 0 and an empty audit path are written explicitly; absent, numeric or "0" all read as 0', () => {
  const original = bundleJson('happy-path-v0.1');
  const entry = original.verificationMaterial.tlogEntries[0];
  for (const spelling of [undefined, 0, '0']) {
    const json = clone(original);
    const e = json.verificationMaterial.tlogEntries[0];
    e.logIndex = spelling;
    if (spelling === undefined) delete e.logIndex;
    const parsed = parseBundle(json);
    assert.equal(parsed.verificationMaterial?.tlogEntries[0]?.logIndex, '0', String(spelling));
    const out = serializeBundle(parsed) as any;
    assert.equal(out.verificationMaterial.tlogEntries[0].logIndex, '0');
    assert.match(serializeBundleJson(parsed), /"logIndex":"0"/);
    // What protobuf-specs emits differs from ours in exactly that field.
    const theirs = ProtoBundle.toJSON(parsed) as any;
    assert.equal(theirs.verificationMaterial.tlogEntries[0].logIndex, undefined);
    assert.deepEqual(out, withExplicitProofFields(theirs));
  }
  assert.notEqual(entry.logIndex, '0', 'the fixture starts from a non-zero index');
  const proofZero = clone(bundleJson('rekor2-happy-path'));
  proofZero.verificationMaterial.tlogEntries[0].logIndex = '0';
  proofZero.verificationMaterial.tlogEntries[0].inclusionProof.logIndex = '0';
  proofZero.verificationMaterial.tlogEntries[0].inclusionProof.treeSize = '1';
  delete proofZero.verificationMaterial.tlogEntries[0].inclusionProof.hashes;
  const out = serializeBundle(parseBundle(proofZero)) as any;
  assert.equal(out.verificationMaterial.tlogEntries[0].inclusionProof.logIndex, '0');
  assert.deepEqual(out.verificationMaterial.tlogEntries[0].inclusionProof.hashes, [], 'the empty audit path of a tree of one');
});

test('serialization matches the protobuf-specs generated toJSON, and sigstore-js reads it', () => {
  for (const name of conformanceCases()) {
    if (MALFORMED[name]) continue;
    const parsed = parseBundle(bundleText(name));
    const ours = serializeBundle(parsed);
    assert.deepEqual(ours, withExplicitProofFields(ProtoBundle.toJSON(parsed)), name);
    // sigstore-js's own reader and version assertions accept what we emit.
    const theirs = bundleFromJSON(ours);
    assert.equal(theirs.mediaType, parsed.mediaType);
  }
});

test('versions: all media types, both v0.3 spellings; unknown versions rejected', () => {
  assert.equal(bundleVersion(parseBundle(bundleText('happy-path-v0.1'))), '0.1');
  const v3 = bundleJson('happy-path-v0.3');
  assert.equal(v3.mediaType, BUNDLE_V03_LEGACY_MEDIA_TYPE);
  assert.equal(bundleVersion(parseBundle(v3)), '0.3');
  assert.equal(bundleVersion(parseBundle({ ...v3, mediaType: BUNDLE_V03_MEDIA_TYPE })), '0.3');
  assert.equal(bundleVersion(parseBundle(bundleText('rekor2-happy-path'))), '0.3');
  for (const mt of [
    'application/vnd.dev.sigstore.bundle+json;version=0.4',
    'application/vnd.dev.sigstore.bundle.v0.4+json',
    'application/vnd.dev.sigstore.bundle+json',
    'application/json',
    'APPLICATION/VND.DEV.SIGSTORE.BUNDLE.V0.3+JSON',
    '',
  ]) {
    assertFormatError(() => parseBundle({ ...v3, mediaType: mt }), 'mediaType');
  }
  assertFormatError(() => parseBundle({ ...v3, mediaType: 3 }), 'mediaType');
  const { mediaType: _drop, ...noMediaType } = v3;
  assertFormatError(() => parseBundle(noMediaType), 'mediaType');
});

test('version rules: v0.1 needs promises, v0.2+ proofs with checkpoints, v0.3 no certificate chain', () => {
  const v1 = bundleJson('happy-path-v0.1');
  delete v1.verificationMaterial.tlogEntries[0].inclusionPromise;
  assertFormatError(() => parseBundle(v1), 'verificationMaterial.tlogEntries[0].inclusionPromise');

  const v2 = bundleJson('happy-path-v0.1');
  v2.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
  assert.doesNotThrow(() => parseBundle(v2));
  delete v2.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
  assertFormatError(() => parseBundle(v2), 'verificationMaterial.tlogEntries[0].inclusionProof.checkpoint');

  const v3 = bundleJson('happy-path-v0.3');
  const cert = v3.verificationMaterial.certificate;
  delete v3.verificationMaterial.certificate;
  v3.verificationMaterial.x509CertificateChain = { certificates: [cert] };
  assertFormatError(() => parseBundle(v3), 'verificationMaterial.x509CertificateChain');
  // The same chain is fine in v0.2.
  assert.doesNotThrow(() => parseBundle({ ...v3, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.2' }));

  const v3noProof = bundleJson('happy-path-v0.3');
  delete v3noProof.verificationMaterial.tlogEntries[0].inclusionProof;
  assertFormatError(() => parseBundle(v3noProof), 'verificationMaterial.tlogEntries[0].inclusionProof');
});

test('oneof: two members are rejected, none is rejected', () => {
  const b = bundleJson('happy-path-v0.3');
  const withBoth = { ...b, dsseEnvelope: bundleJson('happy-path-intoto-in-dsse-v3').dsseEnvelope };
  assertFormatError(() => parseBundle(withBoth), 'dsseEnvelope');
  const { messageSignature: _m, ...neither } = b;
  assertFormatError(() => parseBundle(neither), 'content');

  const twoMaterials = clone(b);
  twoMaterials.verificationMaterial.publicKey = { hint: 'x' };
  assertFormatError(() => parseBundle(twoMaterials), 'verificationMaterial.certificate');
  const noMaterial = clone(b);
  delete noMaterial.verificationMaterial.certificate;
  assertFormatError(() => parseBundle(noMaterial), 'verificationMaterial.content');
  // An explicit null member is "not set", so it does not count as a second member.
  assert.doesNotThrow(() => parseBundle({ ...b, dsseEnvelope: null }));
});

test('wrong types, bad base64, bad integers and unknown fields name the JSON path', () => {
  const base = bundleJson('happy-path-v0.1');
  const cases: [string, (b: Record<string, any>) => void][] = [
    ['verificationMaterial', (b) => (b.verificationMaterial = 'x')],
    ['verificationMaterial.tlogEntries', (b) => (b.verificationMaterial.tlogEntries = {})],
    ['verificationMaterial.tlogEntries[0]', (b) => (b.verificationMaterial.tlogEntries[0] = 7)],
    ['verificationMaterial.tlogEntries[0].logIndex', (b) => (b.verificationMaterial.tlogEntries[0].logIndex = 'abc')],
    ['verificationMaterial.tlogEntries[0].logIndex', (b) => (b.verificationMaterial.tlogEntries[0].logIndex = '-1')],
    ['verificationMaterial.tlogEntries[0].logIndex', (b) => (b.verificationMaterial.tlogEntries[0].logIndex = 1.5)],
    ['verificationMaterial.tlogEntries[0].logIndex', (b) => (b.verificationMaterial.tlogEntries[0].logIndex = '99999999999999999999')],
    ['verificationMaterial.tlogEntries[0].integratedTime', (b) => (b.verificationMaterial.tlogEntries[0].integratedTime = true)],
    ['verificationMaterial.tlogEntries[0].logId', (b) => delete b.verificationMaterial.tlogEntries[0].logId],
    ['verificationMaterial.tlogEntries[0].logId.keyId', (b) => (b.verificationMaterial.tlogEntries[0].logId.keyId = '')],
    ['verificationMaterial.tlogEntries[0].kindVersion', (b) => delete b.verificationMaterial.tlogEntries[0].kindVersion],
    ['verificationMaterial.tlogEntries[0].kindVersion.kind', (b) => (b.verificationMaterial.tlogEntries[0].kindVersion.kind = '')],
    ['verificationMaterial.tlogEntries[0].canonicalizedBody', (b) => (b.verificationMaterial.tlogEntries[0].canonicalizedBody = 'a!b')],
    [
      'verificationMaterial.tlogEntries[0].inclusionProof.hashes[1]',
      (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.hashes[1] = 'not base64!'),
    ],
    [
      'verificationMaterial.tlogEntries[0].inclusionProof.hashes[0]',
      (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0] = null),
    ],
    [
      'verificationMaterial.tlogEntries[0].inclusionProof.hashes',
      (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.hashes = Array(64).fill('AA==')),
    ],
    [
      'verificationMaterial.tlogEntries[0].inclusionProof.rootHash',
      (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.rootHash = 12),
    ],
    [
      'verificationMaterial.tlogEntries[0].inclusionProof.treeSize',
      (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.treeSize = '0'),
    ],
    [
      'verificationMaterial.tlogEntries[0].inclusionProof.logIndex',
      (b) =>
        (b.verificationMaterial.tlogEntries[0].inclusionProof.logIndex = b.verificationMaterial.tlogEntries[0].inclusionProof.treeSize),
    ],
    [
      'verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp',
      (b) => (b.verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp = 'QQ=Q'),
    ],
    [
      'verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope',
      (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint.envelope = 5),
    ],
    [
      'verificationMaterial.x509CertificateChain.certificates[0].rawBytes',
      (b) => (b.verificationMaterial.x509CertificateChain.certificates[0].rawBytes = ''),
    ],
    [
      'verificationMaterial.x509CertificateChain.certificates[0].rawBites',
      (b) => (b.verificationMaterial.x509CertificateChain.certificates[0].rawBites = 'AA=='),
    ],
    ['messageSignature.messageDigest.algorithm', (b) => (b.messageSignature.messageDigest.algorithm = 'MD5')],
    ['messageSignature.messageDigest.algorithm', (b) => (b.messageSignature.messageDigest.algorithm = 'HASH_ALGORITHM_UNSPECIFIED')],
    ['messageSignature.messageDigest', (b) => delete b.messageSignature.messageDigest],
    ['messageSignature.signature', (b) => (b.messageSignature.signature = ['AA=='])],
    ['extra', (b) => (b.extra = 1)],
    [
      'verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp',
      (b) => (b.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp: '' }] }),
    ],
  ];
  for (const [field, mutate] of cases) {
    const b = clone(base);
    mutate(b);
    assertFormatError(() => parseBundle(b), field);
  }
});

test('DSSE content: exactly one signature, non-empty payload and type', () => {
  const base = bundleJson('happy-path-intoto-in-dsse-v3');
  const two = clone(base);
  two.dsseEnvelope.signatures.push(two.dsseEnvelope.signatures[0]);
  assertFormatError(() => parseBundle(two), 'dsseEnvelope.signatures');
  const none = clone(base);
  none.dsseEnvelope.signatures = [];
  assertFormatError(() => parseBundle(none), 'dsseEnvelope.signatures');
  const noType = clone(base);
  noType.dsseEnvelope.payloadType = '';
  assertFormatError(() => parseBundle(noType), 'dsseEnvelope.payloadType');
  const badSig = clone(base);
  badSig.dsseEnvelope.signatures[0].sig = '*';
  assertFormatError(() => parseBundle(badSig), 'dsseEnvelope.signatures[0].sig');
});

test('garbage input is a FormatError, never a crash', () => {
  for (const input of [null, 42, 'null', '[]', '"x"', '', '{', '\u0000\u0001', [], true, Buffer.from([0xff, 0xfe, 0x00])]) {
    assert.throws(
      () => parseBundle(input),
      (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'FORMAT_INVALID',
      String(input),
    );
  }
  assertFormatError(() => parseBundle({}), 'mediaType');
  assertFormatError(() => parseBundle('['.repeat(10000)), 'bundle');
});

test('accepted like protojson: snake_case, URL-safe base64, int64 numbers, explicit nulls', () => {
  const original = bundleJson('happy-path-v0.1');
  const expected = parseBundle(original);

  assert.deepEqual(parseBundle(snakeCaseKeys(original)), expected);

  const lenient = clone(original);
  const entry = lenient.verificationMaterial.tlogEntries[0];
  entry.logIndex = Number(entry.logIndex);
  entry.integratedTime = `${entry.integratedTime}0e-1`; // JSON number syntax inside the string, as protojson reads it
  entry.inclusionProof.treeSize = Number(entry.inclusionProof.treeSize);
  entry.inclusionProof.rootHash = Buffer.from(entry.inclusionProof.rootHash, 'base64').toString('base64url');
  lenient.messageSignature.signature = lenient.messageSignature.signature.replace(/=+$/, '');
  lenient.verificationMaterial.timestampVerificationData = null;
  entry.inclusionProof.hashes = entry.inclusionProof.hashes.map((h: string) => Buffer.from(h, 'base64').toString('base64url'));
  const parsed = parseBundle(lenient);
  assert.deepEqual(serializeBundle(parsed), serializeBundle(expected));
  // ... and output is canonical protojson: int64 as strings, standard base64.
  const out = serializeBundle(parsed) as any;
  assert.equal(typeof out.verificationMaterial.tlogEntries[0].logIndex, 'string');
  assert.match(out.verificationMaterial.tlogEntries[0].inclusionProof.rootHash, /^[A-Za-z0-9+/]+=*$/);

  // Both spellings of one field is ambiguous: rejected.
  const dup = clone(original);
  dup.verificationMaterial.tlog_entries = dup.verificationMaterial.tlogEntries;
  assertFormatError(() => parseBundle(dup), 'verificationMaterial.tlogEntries');
});

test('ignoreUnknownFields skips unknown keys when asked', () => {
  const b = { ...bundleJson('happy-path-v0.3'), futureField: { x: 1 } };
  assertFormatError(() => parseBundle(b), 'futureField');
  assert.doesNotThrow(() => parseBundle(b, { ignoreUnknownFields: true }));
});

test('mutation corpus: any change to real bundles parses or fails with a FormatError, never anything else', () => {
  // A seeded generator keeps the corpus the same on every run.
  let seed = 0x2545f491;
  const rand = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const replacements: unknown[] = [null, 0, -1, 1.5, '', 'x', '!!!', 'AA==', '-1', '1e400', true, [], {}, [null], { a: 1 }, 'A'.repeat(5)];
  const paths = (v: unknown, prefix: (string | number)[] = []): (string | number)[][] =>
    v && typeof v === 'object'
      ? Object.entries(v).flatMap(([k, x]) => {
          const key = Array.isArray(v) ? Number(k) : k;
          return [[...prefix, key], ...paths(x, [...prefix, key])];
        })
      : [];
  let formatErrors = 0;
  for (const name of [
    'happy-path-v0.1',
    'happy-path-v0.3',
    'happy-path-intoto-in-dsse-v3',
    'rekor2-happy-path',
    'managed-key-happy-path',
  ]) {
    const original = bundleJson(name);
    const all = paths(original);
    for (let i = 0; i < 300; i++) {
      const b = clone(original);
      const path = all[rand(all.length)]!;
      let parent: any = b;
      for (const p of path.slice(0, -1)) parent = parent[p];
      const last = path[path.length - 1]!;
      if (rand(4) === 0) delete parent[last];
      else parent[last] = clone(replacements[rand(replacements.length)]);
      try {
        parseBundle(b);
      } catch (e) {
        assert.equal((e as { code?: string }).code, 'FORMAT_INVALID', `${name} ${path.join('.')}: ${String(e)}`);
        formatErrors++;
      }
    }
  }
  assert.ok(formatErrors > 1000, `most mutations must be refused (${formatErrors})`);
});
