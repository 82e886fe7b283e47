import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseBundle,
  preAuthEncoding,
  parseEnvelope,
  serializeEnvelope,
  parseStatement,
  serializeStatement,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_V1,
  IN_TOTO_STATEMENT_V01,
  type Bundle,
} from '../../src/formats/index.js';
import { CONFORMANCE_DIR, assertFormatError, bundleText } from './fixtures.js';

function dsseOf(name: string): { bundle: Bundle; envelope: ReturnType<typeof parseEnvelope> } {
  const bundle = parseBundle(bundleText(name));
  if (bundle.content?.$case !== 'dsseEnvelope') throw new Error('not DSSE');
  return { bundle, envelope: bundle.content.dsseEnvelope };
}

test('PAE: the DSSE specification example and byte lengths', () => {
  assert.equal(
    preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world')).toString(),
    'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
  );
  assert.equal(preAuthEncoding('', new Uint8Array()).toString(), 'DSSEv1 0  0 ');
  // Lengths count UTF-8 bytes, not characters.
  assert.equal(preAuthEncoding('é', Buffer.from('ü')).toString(), 'DSSEv1 2 é 2 ü');
});

test('PAE over a real envelope is what its signature covers (sigstore-signed conformance bundle)', () => {
  for (const name of ['happy-path-intoto-in-dsse-v3', 'rekor2-dsse-happy-path']) {
    const { bundle, envelope } = dsseOf(name);
    const vm = bundle.verificationMaterial!.content!;
    const der =
      vm.$case === 'certificate'
        ? vm.certificate.rawBytes
        : vm.$case === 'x509CertificateChain'
          ? vm.x509CertificateChain.certificates[0]!.rawBytes
          : assert.fail();
    const key = new X509Certificate(der).publicKey;
    const pae = preAuthEncoding(envelope.payloadType, envelope.payload);
    assert.ok(verify('sha256', pae, key, envelope.signatures[0]!.sig), name);
    assert.ok(!verify('sha256', Buffer.concat([pae, Buffer.from(' ')]), key, envelope.signatures[0]!.sig));
  }
});

test('envelopes: parse and serialize, several signatures, keyid only when set', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = Buffer.from('{"a":1}');
  const sig = sign('sha256', preAuthEncoding('application/json', payload), privateKey);
  const json = {
    payload: payload.toString('base64'),
    payloadType: 'application/json',
    signatures: [{ sig: sig.toString('base64'), keyid: 'k1' }, { sig: sig.toString('base64') }],
  };
  const env = parseEnvelope(JSON.stringify(json));
  assert.equal(env.signatures.length, 2);
  assert.equal(env.signatures[1]!.keyid, '');
  assert.deepEqual(serializeEnvelope(env), json);
  assert.deepEqual(
    parseEnvelope(Buffer.from(JSON.stringify({ ...json, signatures: [{ sig: json.signatures[0]!.sig, keyid: '' }] }))).signatures[0]!.keyid,
    '',
  );
  assertFormatError(() => parseEnvelope({ ...json, signatures: [] }), 'signatures');
  assertFormatError(() => parseEnvelope({ ...json, payload: 'a?' }), 'payload');
  assertFormatError(() => parseEnvelope({ ...json, payloadType: 1 }), 'payloadType');
  assertFormatError(() => parseEnvelope({ ...json, signatures: [{ keyid: 'x' }] }), 'signatures[0].sig');
  assertFormatError(() => parseEnvelope({ ...json, other: 1 }), 'other');
  assertFormatError(() => parseEnvelope('{'), 'envelope');
  assert.equal(parseEnvelope({ ...json, other: 1 }, { ignoreUnknownFields: true }).payloadType, 'application/json');
});

test('in-toto statements: real v1 statement, v0.1, subjects and digests', () => {
  const { envelope } = dsseOf('happy-path-intoto-in-dsse-v3');
  assert.equal(envelope.payloadType, IN_TOTO_PAYLOAD_TYPE);
  const st = parseStatement(envelope.payload);
  assert.equal(st.type, IN_TOTO_STATEMENT_V1);
  assert.ok(st.subjects.length >= 1);
  const artifact = readFileSync(join(CONFORMANCE_DIR, 'a.txt'));
  const hex = createHash('sha256').update(artifact).digest('hex');
  assert.ok(
    st.subjects.some((s) => s.digest.sha256 === hex),
    'the statement names the default artifact',
  );
  assert.ok(st.predicateType.length > 0);

  const v01 = parseStatement(
    JSON.stringify({ _type: IN_TOTO_STATEMENT_V01, subject: [{ name: 'x', digest: { sha256: 'AB'.repeat(32) } }], predicateType: 'p' }),
  );
  assert.equal(v01.type, IN_TOTO_STATEMENT_V01);
  assert.equal(v01.subjects[0]!.digest.sha256, 'ab'.repeat(32));
  assert.equal(v01.predicate, undefined);

  const built = serializeStatement({
    subjects: [{ name: 'f', digest: { sha256: hex } }],
    predicateType: 'https://example.com/p',
    predicate: { k: 'v' },
  });
  assert.deepEqual(parseStatement(built).subjects, [{ name: 'f', digest: { sha256: hex } }]);

  const ok = { _type: IN_TOTO_STATEMENT_V1, subject: [{ name: 'x', digest: { sha256: hex } }], predicateType: 'p', predicate: {} };
  assertFormatError(() => parseStatement({ ...ok, _type: 'https://in-toto.io/Statement/v2' }), 'statement._type');
  assertFormatError(() => parseStatement({ ...ok, subject: [] }), 'statement.subject');
  assertFormatError(() => parseStatement({ ...ok, subject: [{ name: 'x', digest: {} }] }), 'statement.subject[0].digest');
  assertFormatError(
    () => parseStatement({ ...ok, subject: [{ name: 'x', digest: { sha256: 'abc' } }] }),
    'statement.subject[0].digest.sha256',
  );
  assertFormatError(
    () => parseStatement({ ...ok, subject: [{ name: 'x', digest: { sha256: 'zz'.repeat(32) } }] }),
    'statement.subject[0].digest.sha256',
  );
  assertFormatError(() => parseStatement({ ...ok, subject: [{ name: 3, digest: { sha256: hex } }] }), 'statement.subject[0].name');
  assertFormatError(() => parseStatement({ ...ok, predicateType: '' }), 'statement.predicateType');
  assertFormatError(() => parseStatement({ ...ok, predicate: [1] }), 'statement.predicate');
  assertFormatError(() => parseStatement(Buffer.from('not json')), 'statement');
});
