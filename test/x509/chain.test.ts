// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { softwareSigner } from '../../src/core/signer.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate as SigstoreX509 } from '@sigstore/core';
import { verifyCertificateChain as sigstoreVerifyChain } from '@sigstore/verify/dist/key/certificate.js';
import { VerificationError } from '../../src/core/errors.js';
import { loadTrustMaterial, verifyCertificateChain, OID, type TrustedCertificateAuthority } from '../../src/x509/index.js';
import {
  buildCertificate,
  createCaChain,
  createIntermediateCertificate,
  ext,
  generateKey,
  issueLeafCertificate,
  publicKeyOf,
} from '../../src/x509/build/index.js';
import { issueLeaf, makeStack, trustedRootFor } from './fixtures.js';

const code = (c: string) => (e: unknown) => e instanceof VerificationError && e.code === c;

test('a fresh leaf verifies at issuance and at both ends of its window, inclusive', () => {
  const stack = makeStack();
  const { leaf } = issueLeaf(stack);
  const tm = loadTrustMaterial(trustedRootFor(stack));
  const r = verifyCertificateChain(leaf, tm.certificateAuthorities, leaf.notBefore);
  assert.equal(r.path.length, 3);
  assert.equal(r.path[2], tm.certificateAuthorities[0]!.certChain[1]);
  verifyCertificateChain(leaf, tm.certificateAuthorities, leaf.notAfter);
  assert.throws(
    () => verifyCertificateChain(leaf, tm.certificateAuthorities, new Date(leaf.notAfter.getTime() + 1)),
    code('CERTIFICATE_EXPIRED'),
  );
  assert.throws(
    () => verifyCertificateChain(leaf, tm.certificateAuthorities, new Date(leaf.notBefore.getTime() - 1)),
    code('CERTIFICATE_NOT_YET_VALID'),
  );
});

test('sigstore-js accepts the chains we build', () => {
  const stack = makeStack();
  const { leaf } = issueLeaf(stack);
  const authorities = [
    {
      certChain: [stack.ca.intermediate.certificate, stack.ca.root.certificate].map((c) => SigstoreX509.parse(Buffer.from(c.der))),
      validFor: { start: new Date(0), end: new Date(8.64e15) },
    },
  ];
  const path = sigstoreVerifyChain(new Date(), SigstoreX509.parse(Buffer.from(leaf.der)), authorities);
  assert.equal(path.length, 3);
});

test('a leaf from another CA, or with a forged signature, is untrusted', () => {
  const stack = makeStack();
  const other = makeStack();
  const { leaf } = issueLeaf(other);
  const tm = loadTrustMaterial(trustedRootFor(stack));
  assert.throws(() => verifyCertificateChain(leaf, tm.certificateAuthorities, new Date()), code('CERTIFICATE_CHAIN_UNTRUSTED'));

  // Same issuer name and AKI, signed by a different key: the signature check catches it.
  const impostor = createCaChain({ intermediateKey: other.ca.intermediate.key });
  const forged = issueLeafCertificate(
    { publicKey: generateKey().publicKey, san: { type: 'email', value: 'x@y.z' } },
    {
      certificate: stack.ca.intermediate.certificate,
      key: impostor.intermediate.key,
    },
  );
  assert.throws(() => verifyCertificateChain(forged, tm.certificateAuthorities, new Date()), code('CERTIFICATE_SIGNATURE_INVALID'));
});

test('the CA entry must be valid in the trusted root at the given time (inclusive end)', () => {
  const stack = makeStack();
  const { leaf } = issueLeaf(stack);
  const end = leaf.notBefore.toISOString();
  const tm = loadTrustMaterial(trustedRootFor(stack, '2000-01-01T00:00:00Z', end));
  verifyCertificateChain(leaf, tm.certificateAuthorities, leaf.notBefore);
  assert.throws(
    () => verifyCertificateChain(leaf, tm.certificateAuthorities, new Date(leaf.notBefore.getTime() + 1000)),
    code('CERTIFICATE_AUTHORITY_NOT_VALID'),
  );
  // An authority with no start is malformed and never matches.
  const noStart: TrustedCertificateAuthority = { ...tm.certificateAuthorities[0]!, validFor: { start: undefined, end: undefined } };
  assert.throws(() => verifyCertificateChain(leaf, [noStart], leaf.notBefore), code('CERTIFICATE_AUTHORITY_NOT_VALID'));
});

test('an expired intermediate fails even if the leaf is in its window', () => {
  const t0 = Math.floor(Date.now() / 1000) * 1000 - 86_400_000;
  const stack = makeStack(new Date(t0 - 86_400_000));
  const intKey = generateKey();
  const shortInt = createIntermediateCertificate(
    stack.ca.root,
    publicKeyOf(intKey.privateKey),
    { organization: 'keyless', commonName: 'short' },
    new Date(t0),
    new Date(t0 + 3600_000),
  );
  // A leaf whose own window outlives its issuer's.
  const leaf = buildCertificate(
    {
      issuer: shortInt.subject.der,
      subject: Buffer.from([0x30, 0]),
      notBefore: new Date(t0 + 3000_000),
      notAfter: new Date(t0 + 4000_000),
      publicKey: generateKey().publicKey,
      extensions: [
        ext.keyUsage('digitalSignature'),
        ext.extKeyUsage(false, OID.codeSigning),
        ext.subjectAltName({ type: 'email', value: 'a@b.c' }),
      ],
    },
    intKey.privateKey,
  );
  const ca: TrustedCertificateAuthority = {
    certChain: [shortInt, stack.ca.root.certificate],
    validFor: { start: new Date(0), end: undefined },
  };
  verifyCertificateChain(leaf, [ca], new Date(t0 + 3600_000));
  assert.throws(() => verifyCertificateChain(leaf, [ca], new Date(t0 + 3601_000)), code('CERTIFICATE_EXPIRED'));
});

test('CA flags, path length and leaf EKU are enforced', () => {
  const stack = makeStack();
  const now = new Date();
  const nb = new Date(now.getTime() - 60_000);
  const na = new Date(now.getTime() + 3600_000);
  const anyTime: TrustedCertificateAuthority['validFor'] = { start: new Date(0), end: undefined };

  // An "intermediate" without CA:TRUE.
  const k1 = generateKey();
  const notCa = buildCertificate(
    {
      issuer: stack.ca.root.certificate.subject.der,
      subject: { commonName: 'not-ca' },
      notBefore: nb,
      notAfter: na,
      publicKey: k1.publicKey,
      extensions: [ext.keyUsage('keyCertSign'), ext.basicConstraints(false)],
    },
    stack.ca.root.key,
  );
  const leaf1 = issueLeafCertificate(
    { publicKey: generateKey().publicKey, san: { type: 'email', value: 'a@b.c' }, notBefore: nb },
    { certificate: notCa, key: softwareSigner(k1.privateKey) },
  );
  assert.throws(
    () => verifyCertificateChain(leaf1, [{ certChain: [notCa, stack.ca.root.certificate], validFor: anyTime }], now),
    code('CERTIFICATE_NOT_CA'),
  );

  // pathLen 0 on the intermediate, with a second intermediate below it.
  const k2 = generateKey();
  const sub = createIntermediateCertificate(stack.ca.intermediate, k2.publicKey, { commonName: 'sub' }, nb, na);
  const leaf2 = issueLeafCertificate(
    { publicKey: generateKey().publicKey, san: { type: 'email', value: 'a@b.c' }, notBefore: nb },
    { certificate: sub, key: softwareSigner(k2.privateKey) },
  );
  assert.throws(
    () =>
      verifyCertificateChain(
        leaf2,
        [{ certChain: [sub, stack.ca.intermediate.certificate, stack.ca.root.certificate], validFor: anyTime }],
        now,
      ),
    code('CERTIFICATE_PATH_LENGTH'),
  );

  // A leaf for timestamping only is not a code-signing certificate.
  const tsaLeaf = stack.tsa.signer.certificate;
  assert.throws(
    () => verifyCertificateChain(tsaLeaf, [{ certChain: [stack.tsa.root.certificate], validFor: anyTime }], now),
    code('CERTIFICATE_EKU_MISSING'),
  );
  verifyCertificateChain(tsaLeaf, [{ certChain: [stack.tsa.root.certificate], validFor: anyTime }], now, {
    extendedKeyUsage: OID.timeStamping,
  });

  // A precertificate (critical poison) is never accepted as a leaf.
  const { precert } = issueLeaf(stack);
  assert.throws(
    () => verifyCertificateChain(precert, loadTrustMaterial(trustedRootFor(stack)).certificateAuthorities, precert.notBefore),
    code('CERTIFICATE_UNHANDLED_CRITICAL_EXTENSION'),
  );
});

test('work is bounded by the trusted root: 1,000 candidate authorities are checked quickly', () => {
  const stack = makeStack();
  const { leaf } = issueLeaf(makeStack());
  const ca = loadTrustMaterial(trustedRootFor(stack)).certificateAuthorities[0]!;
  const many = Array.from({ length: 1000 }, () => ca);
  assert.throws(() => verifyCertificateChain(leaf, many, new Date()), code('CERTIFICATE_CHAIN_UNTRUSTED'));
});

test('OpenSSL accepts the CA chain and the Fulcio leaf profile', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { spawnSync } = await import('node:child_process');
  const stack = makeStack();
  const { leaf } = issueLeaf(stack);
  const dir = mkdtempSync(join(tmpdir(), 'keyless-x509-'));
  try {
    writeFileSync(join(dir, 'root.pem'), stack.ca.root.certificate.toPem());
    writeFileSync(join(dir, 'int.pem'), stack.ca.intermediate.certificate.toPem());
    writeFileSync(join(dir, 'leaf.pem'), leaf.toPem());
    const r = spawnSync(
      'openssl',
      [
        'verify',
        '-x509_strict',
        '-CAfile',
        join(dir, 'root.pem'),
        '-untrusted',
        join(dir, 'int.pem'),
        '-purpose',
        'any',
        join(dir, 'leaf.pem'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const wrong = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'int.pem'), '-partial_chain', join(dir, 'root.pem')], {
      encoding: 'utf8',
    });
    assert.notEqual(wrong.status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RSA CA chains verify (RSA root signing a leaf directly, as in bundle-with-sct-with-extensions)', async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  const { createRootCertificate } = await import('../../src/x509/build/index.js');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = new Date();
  const root = createRootCertificate(
    rsa.privateKey,
    { organization: 'rsa', commonName: 'rsa-root' },
    new Date(now.getTime() - 3600_000),
    new Date(now.getTime() + 3600_000),
  );
  assert.equal(root.signatureAlgorithm, '1.2.840.113549.1.1.11');
  const leaf = issueLeafCertificate(
    { publicKey: generateKey().publicKey, san: { type: 'email', value: 'a@b.c' }, notBefore: now },
    { certificate: root, key: softwareSigner(rsa.privateKey) },
  );
  const r = verifyCertificateChain(leaf, [{ certChain: [root], validFor: { start: new Date(0), end: undefined } }], now);
  assert.equal(r.path.length, 2);
  assert.ok(SigstoreX509.parse(Buffer.from(leaf.der)).verify(SigstoreX509.parse(Buffer.from(root.der))));
});
