import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate as NodeX509 } from 'node:crypto';
import { X509Certificate as SigstoreX509 } from '@sigstore/core';
import { FormatError } from '../../src/core/errors.js';
import { parseCertificate, parseCertificatesPem, parseDer, OID, der } from '../../src/x509/index.js';
import { readOid } from '../../src/x509/der.js';
import { generateKey, issueLeafCertificate } from '../../src/x509/build/index.js';
import { conformanceCases, leafOf, makeStack } from './fixtures.js';

const isFormat = (e: unknown) => e instanceof FormatError && e.code === 'FORMAT_INVALID';

test('every conformance leaf parses; identity, issuer and Sigstore extensions agree with sigstore-js', () => {
  let count = 0;
  for (const c of conformanceCases()) {
    const der = leafOf(c.bundle);
    if (!der) continue;
    const ours = parseCertificate(der);
    const peer = SigstoreX509.parse(Buffer.from(der));
    count++;
    assert.equal(ours.serialNumber, BigInt('0x' + peer.serialNumber.toString('hex')), c.name);
    assert.equal(ours.notBefore.getTime(), peer.notBefore.getTime(), c.name);
    assert.equal(ours.notAfter.getTime(), peer.notAfter.getTime(), c.name);
    assert.deepEqual(ours.tbsDer, peer.tbsCertificate.toDER(), c.name);
    const peerSan = peer.extSubjectAltName;
    assert.equal(ours.sigstoreIdentity, peerSan?.uri ?? peerSan?.rfc822Name ?? peerSan?.otherName('1.3.6.1.4.1.57264.1.7'), c.name);
    // Every Sigstore extension: raw value bytes as sigstore-js sees them, decoded text as we see it.
    for (const e of ours.extensions.filter((x) => x.oid.startsWith('1.3.6.1.4.1.57264.1.'))) {
      const peerExt = peer.extension(e.oid);
      assert.ok(peerExt, `${c.name} ${e.oid}`);
      assert.deepEqual(peerExt.value, e.value);
      const text = ours.sigstoreExtensions[e.oid];
      const arc = Number(e.oid.split('.').pop());
      assert.equal(
        text,
        arc <= 6 ? e.value.toString('utf8') : e.value.subarray(e.value[1]! & 0x80 ? 2 + (e.value[1]! & 0x7f) : 2).toString('utf8'),
      );
    }
    assert.equal(ours.oidcIssuer !== undefined, true, c.name);
    assert.equal(ours.isCA, false);
    assert.deepEqual(ours.extKeyUsage, [OID.codeSigning]);
    assert.ok(ours.keyUsage?.includes('digitalSignature'));
    assert.ok(ours.embeddedSctList && ours.embeddedSctList.length > 0, c.name);
  }
  assert.ok(count >= 30, `only ${count} conformance leaves`);
});

test('Fulcio leaf profile: empty subject, critical SAN, KU/EKU, SKI/AKI, raw .1.1 and DER .1.8, 10 minutes', () => {
  const stack = makeStack();
  const key = generateKey();
  const leaf = issueLeafCertificate(
    {
      publicKey: key.publicKey,
      san: { type: 'uri', value: 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main' },
      sigstoreExtensions: {
        '1.3.6.1.4.1.57264.1.8': 'https://token.actions.githubusercontent.com',
        '1.3.6.1.4.1.57264.1.1': 'https://token.actions.githubusercontent.com',
        '1.3.6.1.4.1.57264.1.21': 'x'.repeat(200),
        '1.3.6.1.4.1.57264.1.23': '',
      },
    },
    stack.ca.intermediate,
  );
  assert.deepEqual(leaf.subject.der, Buffer.from([0x30, 0x00]));
  assert.equal(leaf.notAfter.getTime() - leaf.notBefore.getTime(), 600_000);
  assert.equal(leaf.notBefore.getUTCMilliseconds(), 0);
  assert.deepEqual(
    leaf.extensions.map((e) => [e.oid, e.critical]),
    [
      [OID.keyUsage, true],
      [OID.extKeyUsage, false],
      [OID.subjectKeyIdentifier, false],
      [OID.authorityKeyIdentifier, false],
      [OID.subjectAltName, true],
      ['1.3.6.1.4.1.57264.1.1', false],
      ['1.3.6.1.4.1.57264.1.8', false],
      ['1.3.6.1.4.1.57264.1.21', false],
    ],
  );
  assert.deepEqual(leaf.extension('1.3.6.1.4.1.57264.1.1')!.value, Buffer.from('https://token.actions.githubusercontent.com'));
  assert.equal(leaf.extension('1.3.6.1.4.1.57264.1.8')!.value[0], 0x0c);
  assert.deepEqual(leaf.extension('1.3.6.1.4.1.57264.1.21')!.value.subarray(0, 3), Buffer.from([0x0c, 0x81, 200]));
  assert.equal(leaf.sigstoreExtensionsByName.runInvocationURI, 'x'.repeat(200));
  assert.deepEqual(leaf.keyUsage, ['digitalSignature']);
  assert.deepEqual(leaf.subjectKeyIdentifier, leaf.computedKeyIdentifier);
  assert.deepEqual(leaf.authorityKeyIdentifier, stack.ca.intermediate.certificate.subjectKeyIdentifier);
  assert.ok(leaf.serialBytes.length <= 20 && (leaf.serialBytes[0]! & 0x80) === 0);
  assert.ok(leaf.verifySignedBy(stack.ca.intermediate.certificate));
  assert.ok(!leaf.verifySignedBy(stack.ca.root.certificate));
  // Node's own X.509 parser agrees.
  const node = new NodeX509(leaf.der);
  assert.ok(node.verify(stack.ca.intermediate.certificate.publicKey));
  assert.equal(node.subjectAltName, 'URI:https://github.com/o/r/.github/workflows/x.yml@refs/heads/main');
});

test('username SAN is an otherName with type-id .1.7 and a UTF8String; email SAN is rfc822Name', () => {
  const stack = makeStack();
  const key = generateKey();
  const u = issueLeafCertificate({ publicKey: key.publicKey, san: { type: 'otherName', value: 'bob!example.com' } }, stack.ca.intermediate);
  assert.deepEqual(u.subjectAltNames, [{ type: 'otherName', oid: '1.3.6.1.4.1.57264.1.7', value: 'bob!example.com' }]);
  assert.equal(u.sigstoreIdentity, 'bob!example.com');
  const peer = SigstoreX509.parse(Buffer.from(u.der));
  assert.equal(peer.extSubjectAltName?.otherName('1.3.6.1.4.1.57264.1.7'), 'bob!example.com');
  const e = issueLeafCertificate({ publicKey: key.publicKey, san: { type: 'email', value: 'a@b.example' } }, stack.ca.intermediate);
  assert.deepEqual(e.subjectAltNames, [{ type: 'email', value: 'a@b.example' }]);
});

test('CA chain: root and intermediate carry the CA profile', () => {
  const { ca } = makeStack();
  const root = ca.root.certificate;
  const int = ca.intermediate.certificate;
  assert.ok(root.isSelfSigned);
  assert.equal(root.isCA, true);
  assert.deepEqual(root.keyUsage, ['keyCertSign', 'cRLSign']);
  assert.equal(int.isCA, true);
  assert.equal(int.pathLen, 0);
  assert.deepEqual(int.extKeyUsage, [OID.codeSigning]);
  assert.ok(int.verifySignedBy(root));
  assert.equal(int.issuer.toString(), 'O=keyless, CN=keyless-root');
  assert.equal(parseCertificatesPem(int.toPem() + root.toPem()).length, 2);
});

test('garbage, truncated and oversized DER fail fast with FORMAT_INVALID', () => {
  const { ca } = makeStack();
  const good = ca.root.certificate.der;
  const inputs: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from([0x30]),
    Buffer.from([0x30, 0x80, 0x00, 0x00]), // indefinite length
    Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from([0x30, 0x81, 0x05, 1, 2, 3, 4, 5]), // non-minimal length
    good.subarray(0, good.length - 1),
    Buffer.concat([good, Buffer.from([0])]),
    Buffer.from('not a certificate at all'),
    Buffer.alloc(100_000, 0x30),
    Buffer.concat(Array.from({ length: 1000 }, () => good)), // "a chain of 1,000 certificates" as one blob
  ];
  for (let i = 0; i < 200; i++) {
    const b = Buffer.from(good);
    const at = (i * 7919) % b.length;
    b[at] = b[at]! ^ 0xff;
    inputs.push(b);
  }
  for (const input of inputs) {
    try {
      const c = parseCertificate(input);
      // A flipped byte inside a value may still parse; it must then fail its signature.
      assert.equal(c.verifySignedBy(ca.root.certificate) && c.der.equals(good), false);
    } catch (e) {
      assert.ok(isFormat(e), `unexpected ${String(e)}`);
    }
  }
});

test('DER writer and reader round trip OIDs, integers and times', () => {
  for (const oid of ['1.2.840.10045.4.3.2', '2.5.29.37.0', '1.3.6.1.4.1.57264.1.24', '2.999.1']) {
    assert.equal(readOid(parseDer(der.oid(oid), 'oid'), 'oid'), oid);
  }
  assert.deepEqual(der.integer(0), Buffer.from([2, 1, 0]));
  assert.deepEqual(der.integer(128), Buffer.from([2, 2, 0, 128]));
  assert.deepEqual(der.integer(Buffer.from([0, 0, 1])), Buffer.from([2, 1, 1]));
  assert.equal(der.time(new Date('2049-12-31T23:59:59Z'))[0], 0x17);
  assert.equal(der.time(new Date('2050-01-01T00:00:00Z'))[0], 0x18);
});

test('spkiDer (JWK fast path) equals Node DER export for every key type; leaves accept DER keys', async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  const { spkiDer } = await import('../../src/x509/build/index.js');
  const keys = [
    generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    generateKeyPairSync('ec', { namedCurve: 'P-521' }),
    generateKeyPairSync('ed25519'),
    generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ];
  for (const k of keys) {
    const expected = k.publicKey.export({ format: 'der', type: 'spki' });
    assert.deepEqual(spkiDer(k.publicKey), expected);
    assert.deepEqual(spkiDer(k.privateKey), expected);
  }
  const stack = makeStack();
  const der = keys[0]!.publicKey.export({ format: 'der', type: 'spki' });
  const leaf = issueLeafCertificate({ publicKey: der, san: { type: 'email', value: 'a@b.c' } }, stack.ca.intermediate);
  assert.deepEqual(leaf.spkiDer, der);
  assert.ok(leaf.publicKey.equals(keys[0]!.publicKey));
});

test('importSpki gives the same key as Node for every key type and refuses bad points', async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  const { importSpki } = await import('../../src/x509/index.js');
  for (const k of [
    generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    generateKeyPairSync('ec', { namedCurve: 'P-521' }),
    generateKeyPairSync('ed25519'),
    generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ]) {
    const der = k.publicKey.export({ format: 'der', type: 'spki' });
    assert.ok(importSpki(der).equals(k.publicKey));
  }
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });
  const offCurve = Buffer.from(p256);
  offCurve[offCurve.length - 1] = offCurve[offCurve.length - 1]! ^ 1;
  assert.throws(() => importSpki(offCurve));
});
