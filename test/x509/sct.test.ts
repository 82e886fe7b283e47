import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { X509Certificate as SigstoreX509 } from '@sigstore/core';
import { verifySCTs as sigstoreVerifyScts } from '@sigstore/verify/dist/key/sct.js';
import { FormatError, VerificationError } from '../../src/core/errors.js';
import {
  loadTrustMaterial,
  parseCertificate,
  parseSctList,
  precertEntryFromCertificate,
  serializeSctList,
  signSct,
  verifyEmbeddedScts,
  OID,
  type Sct,
  type TrustedCtLog,
} from '../../src/x509/index.js';
import { embedScts, generateKey } from '../../src/x509/build/index.js';
import { conformanceCases, issueLeaf, leafOf, makeStack, trustedRootFor, type Stack } from './fixtures.js';

const code = (c: string) => (e: unknown) => e instanceof VerificationError && e.code === c;

function logsOf(stack: Stack): TrustedCtLog[] {
  return loadTrustMaterial(trustedRootFor(stack)).ctLogs;
}

/** Re-signs the precertificate into a final certificate carrying exactly `scts`. */
function withScts(stack: Stack, precert: ReturnType<typeof issueLeaf>['precert'], scts: Sct[]) {
  return embedScts(precert, scts, stack.ca.intermediate.key);
}

test('final TBS minus the SCT list is byte-identical to the precertificate TBS minus the poison', () => {
  const stack = makeStack();
  const { leaf, precert } = issueLeaf(stack);
  assert.deepEqual(leaf.tbsWithoutExtensions(OID.sctList), precert.tbsWithoutExtensions(OID.ctPoison));
  assert.equal(leaf.extensions.at(-1)!.oid, OID.sctList);
  assert.equal(leaf.extensions.at(-1)!.critical, false);
  assert.equal(precert.extension(OID.ctPoison)!.critical, true);
  assert.equal(leaf.serial, precert.serial);
  // Outer OCTET STRING wrapper, inner OCTET STRING, TLS list: `04 xx 04 yy 00 ..`.
  const value = leaf.extension(OID.sctList)!.value;
  assert.equal(value[0], 0x04);
});

test('embedded SCT verifies with the trusted log key; sigstore-js agrees', () => {
  const stack = makeStack();
  const { leaf } = issueLeaf(stack);
  const [v] = verifyEmbeddedScts(leaf, stack.ca.intermediate.certificate, logsOf(stack));
  assert.deepEqual(v!.sct.logId, stack.logId);
  const tlogAuthority = {
    baseURL: 'http://ct',
    logID: stack.logId,
    publicKey: stack.ctKey.publicKey,
    validFor: { start: new Date(0), end: new Date(8.64e15) },
  };
  const verified = sigstoreVerifyScts(
    SigstoreX509.parse(Buffer.from(leaf.der)),
    SigstoreX509.parse(Buffer.from(stack.ca.intermediate.certificate.der)),
    [tlogAuthority],
  );
  assert.equal(verified.length, 1);
});

test('tampered SCTs fail: signature, timestamp, extensions, log id, wrong issuer', () => {
  const stack = makeStack();
  const { leaf, precert } = issueLeaf(stack);
  const [sct] = parseSctList(leaf.embeddedSctList!);
  const logs = logsOf(stack);
  const issuer = stack.ca.intermediate.certificate;

  const badSig = { ...sct!, signature: Buffer.from(sct!.signature) };
  badSig.signature[badSig.signature.length - 1] = badSig.signature[badSig.signature.length - 1]! ^ 1;
  assert.throws(() => verifyEmbeddedScts(withScts(stack, precert, [badSig]), issuer, logs), code('SCT_SIGNATURE_INVALID'));

  const badTime = { ...sct!, timestamp: sct!.timestamp + 1n };
  assert.throws(() => verifyEmbeddedScts(withScts(stack, precert, [badTime]), issuer, logs), code('SCT_SIGNATURE_INVALID'));

  const badExt = { ...sct!, extensions: Buffer.from([0, 0, 5, 0, 0, 0, 0, 1]) };
  assert.throws(() => verifyEmbeddedScts(withScts(stack, precert, [badExt]), issuer, logs), code('SCT_SIGNATURE_INVALID'));

  // An unknown log is skipped, leaving no verified SCT.
  const otherLog = { ...sct!, logId: createHash('sha256').update('other').digest() };
  assert.throws(() => verifyEmbeddedScts(withScts(stack, precert, [otherLog]), issuer, logs), code('SCT_THRESHOLD'));

  // Verified against the wrong issuer: the issuer key hash differs.
  assert.throws(() => verifyEmbeddedScts(leaf, stack.ca.root.certificate, logs), code('SCT_SIGNATURE_INVALID'));

  // No SCT at all.
  assert.throws(() => verifyEmbeddedScts(withScts(stack, precert, []), issuer, logs), code('SCT_MISSING'));

  // A different key under the trusted log id.
  const wrongKey = logs.map((l) => ({ ...l, publicKey: generateKey().publicKey }));
  assert.throws(() => verifyEmbeddedScts(leaf, issuer, wrongKey), code('SCT_SIGNATURE_INVALID'));
});

test('the log key must be valid at the SCT time (inclusive ends)', () => {
  const stack = makeStack();
  const { leaf } = issueLeaf(stack);
  const [sct] = parseSctList(leaf.embeddedSctList!);
  const at = new Date(Number(sct!.timestamp));
  const logs = logsOf(stack).map((l) => ({ ...l, validFor: { start: new Date(0), end: at } }));
  verifyEmbeddedScts(leaf, stack.ca.intermediate.certificate, logs);
  const before = logsOf(stack).map((l) => ({ ...l, validFor: { start: new Date(0), end: new Date(at.getTime() - 1) } }));
  assert.throws(() => verifyEmbeddedScts(leaf, stack.ca.intermediate.certificate, before), code('SCT_THRESHOLD'));
  const after = logsOf(stack).map((l) => ({ ...l, validFor: { start: new Date(at.getTime() + 1), end: undefined } }));
  assert.throws(() => verifyEmbeddedScts(leaf, stack.ca.intermediate.certificate, after), code('SCT_THRESHOLD'));
});

test('SCTs with extensions (static CT leaf_index) are signed over and verify; duplicates count once', () => {
  const stack = makeStack();
  const { precert } = issueLeaf(stack);
  const entry = precertEntryFromCertificate(precert, stack.ca.intermediate.certificate);
  const leafIndex = Buffer.from([0, 0, 5, 0, 0, 0, 0, 0x70]);
  const sct = signSct(stack.ctKey.privateKey, stack.logId, BigInt(Date.now()), entry, leafIndex);
  const leaf = withScts(stack, precert, [sct, sct]);
  const v = verifyEmbeddedScts(leaf, stack.ca.intermediate.certificate, logsOf(stack));
  assert.equal(v.length, 1);
  assert.deepEqual(v[0]!.sct.extensions, leafIndex);
  assert.throws(() => verifyEmbeddedScts(leaf, stack.ca.intermediate.certificate, logsOf(stack), 2), code('SCT_THRESHOLD'));
});

test('SCT list parsing is strict about lengths', () => {
  const stack = makeStack();
  const { leaf } = issueLeaf(stack);
  const list = leaf.embeddedSctList!;
  assert.deepEqual(serializeSctList(parseSctList(list)), list);
  const bad = (b: Buffer) =>
    assert.throws(
      () => parseSctList(b),
      (e: unknown) => e instanceof FormatError,
    );
  bad(list.subarray(0, list.length - 1));
  bad(Buffer.concat([list, Buffer.from([0])]));
  const wrongTotal = Buffer.from(list);
  wrongTotal.writeUInt16BE(wrongTotal.readUInt16BE(0) + 1, 0);
  bad(wrongTotal);
  const wrongVersion = Buffer.from(list);
  wrongVersion[4] = 1;
  bad(wrongVersion);
  bad(Buffer.alloc(0));
});

test('every conformance leaf SCT verifies against its trusted root (production, staging, RSA-rooted)', () => {
  let count = 0;
  for (const c of conformanceCases()) {
    const der = leafOf(c.bundle);
    if (!der || c.name === 'bundle-from-wrong-instance_fail') continue;
    const leaf = parseCertificate(der);
    const tm = loadTrustMaterial(c.trustedRoot);
    // Some _fail cases carry leaves outside their CA's validity; the SCT only needs the issuer.
    const issuer = tm.certificateAuthorities.flatMap((a) => a.certChain).find((c) => leaf.verifySignedBy(c));
    assert.ok(issuer, c.name);
    const v = verifyEmbeddedScts(leaf, issuer, tm.ctLogs);
    assert.equal(v.length, 1, c.name);
    count++;
  }
  assert.ok(count >= 30);
});

test('RSA CT log keys load from SPKI or PKCS#1 and verify RSA-signed SCTs', async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  const stack = makeStack();
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const logId = createHash('sha256')
    .update(rsa.publicKey.export({ format: 'der', type: 'spki' }))
    .digest();
  const { precert } = issueLeaf(stack);
  const sct = signSct(rsa.privateKey, logId, BigInt(Date.now()), precertEntryFromCertificate(precert, stack.ca.intermediate.certificate));
  assert.equal(sct.signatureAlgorithm, 1);
  const leaf = withScts(stack, precert, [sct]);
  for (const [keyDetails, raw] of [
    ['PKCS1_RSA_PKCS1V5', rsa.publicKey.export({ format: 'der', type: 'pkcs1' })],
    ['PKIX_RSA_PKCS1V15_2048_SHA256', rsa.publicKey.export({ format: 'der', type: 'pkcs1' })],
    ['PKIX_RSA_PKCS1V15_2048_SHA256', rsa.publicKey.export({ format: 'der', type: 'spki' })],
  ] as const) {
    const root = {
      ctlogs: [
        {
          logId: { keyId: logId.toString('base64') },
          publicKey: { rawBytes: raw.toString('base64'), keyDetails, validFor: { start: '2000-01-01T00:00:00Z' } },
        },
      ],
    };
    assert.equal(verifyEmbeddedScts(leaf, stack.ca.intermediate.certificate, loadTrustMaterial(root).ctLogs).length, 1, keyDetails);
  }
});
