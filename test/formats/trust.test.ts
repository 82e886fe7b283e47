import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SigningConfig as ProtoSigningConfig, TrustedRoot as ProtoTrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import {
  parseSigningConfig,
  parseTrustedRoot,
  serializeSigningConfig,
  serializeTrustedRoot,
  SIGNING_CONFIG_MEDIA_TYPE,
} from '../../src/formats/index.js';
import { assertFormatError, clone, snakeCaseKeys, trustedRootFiles } from './fixtures.js';

function root(file = trustedRootFiles()[0]!): Record<string, any> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
}

test('every conformance trusted root (and production) parses, round-trips and loads in sigstore-js', () => {
  const files = trustedRootFiles();
  assert.ok(files.length > 10);
  for (const f of files) {
    const parsed = parseTrustedRoot(readFileSync(f));
    const out = serializeTrustedRoot(parsed);
    assert.deepEqual(parseTrustedRoot(out), parsed, f);
    assert.deepEqual(parseTrustedRoot(JSON.stringify(out)), parsed, f);
    // Same content as the protobuf-specs reading of the original file.
    assert.deepEqual(ProtoTrustedRoot.toJSON(parsed), ProtoTrustedRoot.toJSON(ProtoTrustedRoot.fromJSON(root(f))), f);
    const material = toTrustMaterial(ProtoTrustedRoot.fromJSON(out));
    assert.equal(material.tlogs.length, parsed.tlogs.length);
    assert.equal(material.certificateAuthorities.length, parsed.certificateAuthorities.length);
  }
});

test('timestamps are emitted the protojson way', () => {
  const out = serializeTrustedRoot(parseTrustedRoot(root())) as any;
  assert.equal(out.tlogs[0].publicKey.validFor.start, '2021-01-12T11:53:27Z');
  assert.equal(out.ctlogs[0].publicKey.validFor.end, '2022-10-31T23:59:59.999Z');
  assert.equal(out.tlogs[0].hashAlgorithm, 'SHA2_256');
});

test('explicit nulls that real roots contain are read as absent', () => {
  const r = root();
  r.tlogs[0].checkpointKeyId = null;
  r.tlogs[0].operator = null;
  r.tlogs[0].publicKey.validFor.end = null;
  r.certificateAuthorities[1].operator = null;
  const parsed = parseTrustedRoot(r);
  assert.equal(parsed.tlogs[0]!.checkpointKeyId, undefined);
  assert.equal(parsed.tlogs[0]!.operator, '');
  assert.equal(parsed.tlogs[0]!.publicKey!.validFor!.end, undefined);
});

test('a validity window without start is malformed; so are other broken entries', () => {
  const cases: [string, (r: Record<string, any>) => void][] = [
    ['tlogs[0].publicKey.validFor.start', (r) => delete r.tlogs[0].publicKey.validFor.start],
    ['tlogs[0].publicKey.validFor.start', (r) => (r.tlogs[0].publicKey.validFor.start = null)],
    ['tlogs[0].publicKey.validFor.start', (r) => (r.tlogs[0].publicKey.validFor.start = '2021-01-12')],
    ['tlogs[0].publicKey.validFor.start', (r) => (r.tlogs[0].publicKey.validFor.start = '2021-13-12T00:00:00Z')],
    ['tlogs[0].publicKey.validFor', (r) => delete r.tlogs[0].publicKey.validFor],
    ['ctlogs[1].publicKey.validFor.start', (r) => (r.ctlogs[1].publicKey.validFor = {})],
    ['ctlogs[0].publicKey.validFor.end', (r) => (r.ctlogs[0].publicKey.validFor.end = '2000-01-01T00:00:00Z')],
    ['certificateAuthorities[0].validFor.start', (r) => delete r.certificateAuthorities[0].validFor.start],
    ['timestampAuthorities[0].validFor', (r) => delete r.timestampAuthorities[0].validFor],
    ['certificateAuthorities[1].certChain.certificates', (r) => (r.certificateAuthorities[1].certChain.certificates = [])],
    [
      'certificateAuthorities[1].certChain.certificates[1].rawBytes',
      (r) => (r.certificateAuthorities[1].certChain.certificates[1].rawBytes = '%%'),
    ],
    ['tlogs[0].publicKey.keyDetails', (r) => (r.tlogs[0].publicKey.keyDetails = 'PKIX_ECDSA_P256')],
    ['tlogs[0].logId', (r) => delete r.tlogs[0].logId],
    ['tlogs[0].baseUrl', (r) => delete r.tlogs[0].baseUrl],
    ['tlogs[1].hashAlgorithm', (r) => (r.tlogs[1].hashAlgorithm = 7)],
    ['mediaType', (r) => (r.mediaType = 'application/vnd.dev.sigstore.trustedroot+json;version=0.9')],
    ['tlogs', (r) => (r.tlogs = {})],
    ['tlogs[0].publicKey.unknown', (r) => (r.tlogs[0].publicKey.unknown = 1)],
  ];
  for (const [field, mutate] of cases) {
    const r = root();
    mutate(r);
    assertFormatError(() => parseTrustedRoot(r), field);
  }
});

test('trusted root: snake_case keys, all three media types', () => {
  const expected = parseTrustedRoot(root());
  assert.deepEqual(parseTrustedRoot(snakeCaseKeys(root())), expected);
  for (const mt of ['application/vnd.dev.sigstore.trustedroot.v0.1+json', 'application/vnd.dev.sigstore.trustedroot.v0.2+json']) {
    assert.equal(parseTrustedRoot({ ...root(), mediaType: mt }).mediaType, mt);
  }
});

/** The public-good signing config as published in sigstore/root-signing (protocols §10.2). */
const PUBLIC_SIGNING_CONFIG = {
  mediaType: SIGNING_CONFIG_MEDIA_TYPE,
  caUrls: [
    { url: 'https://fulcio.sigstore.dev', majorApiVersion: 1, validFor: { start: '2022-04-13T20:06:15.000Z' }, operator: 'sigstore.dev' },
  ],
  oidcUrls: [
    { url: 'https://oauth2.sigstore.dev/auth', majorApiVersion: 1, validFor: { start: '2025-04-16T00:00:00Z' }, operator: 'sigstore.dev' },
  ],
  rekorTlogUrls: [
    {
      url: 'https://log2025-1.rekor.sigstore.dev',
      majorApiVersion: 2,
      validFor: { start: '2025-10-06T00:00:00Z' },
      operator: 'sigstore.dev',
    },
    { url: 'https://rekor.sigstore.dev', majorApiVersion: 1, validFor: { start: '2021-01-12T11:53:27.000Z' }, operator: 'sigstore.dev' },
  ],
  tsaUrls: [
    {
      url: 'https://timestamp.sigstore.dev/api/v1/timestamp',
      majorApiVersion: 1,
      validFor: { start: '2025-07-04T00:00:00Z' },
      operator: 'sigstore.dev',
    },
  ],
  rekorTlogConfig: { selector: 'ANY' },
  tsaConfig: { selector: 'ANY' },
};

test('signing config v0.2: parses, round-trips, matches protobuf-specs', () => {
  const parsed = parseSigningConfig(PUBLIC_SIGNING_CONFIG);
  assert.equal(parsed.rekorTlogUrls[0]!.majorApiVersion, 2);
  const out = serializeSigningConfig(parsed) as any;
  assert.deepEqual(parseSigningConfig(out), parsed);
  assert.equal(out.caUrls[0].validFor.start, '2022-04-13T20:06:15Z');
  assert.deepEqual(out.rekorTlogConfig, { selector: 'ANY' });
  assert.deepEqual(ProtoSigningConfig.toJSON(ProtoSigningConfig.fromJSON(out)), ProtoSigningConfig.toJSON(parsed));
  assert.deepEqual(parseSigningConfig(snakeCaseKeys(PUBLIC_SIGNING_CONFIG)), parsed);
  // int32 as a numeric string is valid protojson.
  const s = clone(PUBLIC_SIGNING_CONFIG) as any;
  s.caUrls[0].majorApiVersion = '1';
  assert.equal(parseSigningConfig(s).caUrls[0]!.majorApiVersion, 1);
  // EXACT with a count.
  const exact = { ...clone(PUBLIC_SIGNING_CONFIG), rekorTlogConfig: { selector: 'EXACT', count: 2 } };
  assert.deepEqual(serializeSigningConfig(parseSigningConfig(exact)).rekorTlogConfig, { selector: 'EXACT', count: 2 });
});

test('signing config: malformed values name the field', () => {
  const cases: [string, (c: Record<string, any>) => void][] = [
    ['mediaType', (c) => (c.mediaType = 'application/vnd.dev.sigstore.signingconfig.v0.1+json')],
    ['caUrls[0].url', (c) => (c.caUrls[0].url = 'fulcio.sigstore.dev')],
    ['caUrls[0].url', (c) => (c.caUrls[0].url = 'ftp://fulcio.sigstore.dev')],
    ['caUrls[0].url', (c) => delete c.caUrls[0].url],
    ['caUrls[0].majorApiVersion', (c) => (c.caUrls[0].majorApiVersion = 1.5)],
    ['caUrls[0].majorApiVersion', (c) => (c.caUrls[0].majorApiVersion = -1)],
    ['caUrls[0].majorApiVersion', (c) => (c.caUrls[0].majorApiVersion = 'v1')],
    ['tsaUrls[0].validFor', (c) => delete c.tsaUrls[0].validFor],
    ['tsaUrls[0].validFor.start', (c) => (c.tsaUrls[0].validFor = { end: '2030-01-01T00:00:00Z' })],
    ['rekorTlogConfig.selector', (c) => (c.rekorTlogConfig = { selector: 'SOME' })],
    ['rekorTlogConfig.selector', (c) => (c.rekorTlogConfig = { selector: 'SERVICE_SELECTOR_UNDEFINED' })],
    ['rekorTlogConfig.selector', (c) => (c.rekorTlogConfig = {})],
    ['rekorTlogConfig.count', (c) => (c.rekorTlogConfig = { selector: 'EXACT' })],
    ['rekorTlogConfig.count', (c) => (c.rekorTlogConfig = { selector: 'EXACT', count: 3 })],
    ['tsaConfig.count', (c) => (c.tsaConfig = { selector: 'EXACT', count: 0 })],
    ['oidcUrls[0].operator', (c) => (c.oidcUrls[0].operator = 5)],
    ['caUrl', (c) => (c.caUrl = 'https://fulcio.sigstore.dev')],
  ];
  for (const [field, mutate] of cases) {
    const c = clone(PUBLIC_SIGNING_CONFIG) as Record<string, any>;
    mutate(c);
    assertFormatError(() => parseSigningConfig(c), field);
  }
});
