// The per-root memos: a batch's bundles share one certificate (and often a checkpoint),
// whose checks are done once; everything that depends on the bundle is still checked every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verify, verifySync, trustMaterialFor } from '../../src/verify/index.js';
import { CONFORMANCE_DIR } from '../support/conformance.js';

const C = CONFORMANCE_DIR;
const IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const policy = { certificateIdentity: IDENTITY, certificateOidcIssuer: ISSUER };
const artifact = readFileSync(join(C, 'a.txt'));
const v2Bundle = () => JSON.parse(readFileSync(join(C, 'rekor2-happy-path/bundle.sigstore.json'), 'utf8'));
const v2Root = () => JSON.parse(readFileSync(join(C, 'rekor2-happy-path/trusted_root.json'), 'utf8'));
const leafDer = (b: { verificationMaterial: { certificate: { rawBytes: string } } }) =>
  Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64');

test('one Certificate per leaf DER and root, matched by the bytes', () => {
  const root = v2Root();
  const trust = trustMaterialFor(root);
  const der = leafDer(v2Bundle());
  const a = trust.leafCertificate(der);
  assert.equal(trust.leafCertificate(Buffer.from(der)), a);
  // Another root object has its own memo.
  assert.notEqual(trustMaterialFor(v2Root()).leafCertificate(der), a);
  // Different bytes, different certificate (or a parse error), never the cached one.
  const changed = Buffer.from(der);
  changed[changed.length - 1]! ^= 1;
  let other: unknown;
  try {
    other = trust.leafCertificate(changed);
  } catch (e) {
    other = e;
  }
  assert.notEqual(other, a);
});

test('after a cached success, the artifact, the signature and each verified time are still checked', async () => {
  const root = v2Root();
  assert.equal(verifySync(v2Bundle(), artifact, policy, root).identity, IDENTITY);
  assert.equal((await verify(v2Bundle(), artifact, policy, root)).identity, IDENTITY);

  assert.throws(() => verifySync(v2Bundle(), Buffer.from('another artifact'), policy, root), { code: 'DIGEST_MISMATCH' });
  await assert.rejects(verify(v2Bundle(), Buffer.from('another artifact'), policy, root), { code: 'DIGEST_MISMATCH' });

  const badSig = v2Bundle();
  const sig = Buffer.from(badSig.messageSignature.signature, 'base64');
  sig[sig.length - 1]! ^= 1;
  badSig.messageSignature.signature = sig.toString('base64');
  assert.throws(
    () => verifySync(badSig, artifact, policy, root),
    (e: { code?: string }) => e.code !== undefined,
  );

  // The same certificate at a time outside its validity (an integrated time in 1970).
  const early = v2Bundle();
  early.verificationMaterial.tlogEntries[0].integratedTime = '1';
  assert.throws(() => verifySync(early, artifact, policy, root), { code: 'CERTIFICATE_NOT_VALID_AT_TIME' });
  await assert.rejects(verify(early, artifact, policy, root), { code: 'CERTIFICATE_NOT_VALID_AT_TIME' });

  // The identity policy is per call, not per certificate.
  assert.throws(() => verifySync(v2Bundle(), artifact, { ...policy, certificateIdentity: 'someone-else' }, root), {
    code: 'POLICY_IDENTITY_MISMATCH',
  });
});

test('a cached leaf is still refused by a root that does not trust its CA', () => {
  const bundle = readFileSync(join(C, 'rekor2-happy-path/bundle.sigstore.json'));
  const trusted = v2Root();
  verifySync(bundle, artifact, policy, trusted);
  const production = JSON.parse(readFileSync(join(C, 'trusted_root.production.json'), 'utf8'));
  assert.throws(
    () => verifySync(bundle, artifact, policy, production),
    (e: { code?: string }) => typeof e.code === 'string',
  );
});

test('a remembered checkpoint still needs a valid inclusion proof, and another checkpoint text is verified afresh', () => {
  const root = v2Root();
  verifySync(v2Bundle(), artifact, policy, root);

  // Same (remembered) checkpoint, a broken proof: refused.
  const badProof = v2Bundle();
  const hashes: string[] = badProof.verificationMaterial.tlogEntries[0].inclusionProof.hashes;
  const h = Buffer.from(hashes[0]!, 'base64');
  h[0]! ^= 1;
  hashes[0] = h.toString('base64');
  assert.throws(() => verifySync(badProof, artifact, policy, root), { code: 'TLOG_INCLUSION_INVALID' });

  // A checkpoint whose signature line was altered is a new text: its signature is checked and fails.
  const badNote = v2Bundle();
  const cp = badNote.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
  const lines: string[] = cp.envelope.split('\n');
  const sigLine = lines.findIndex((l) => l.startsWith('\u2014 '));
  const [dash, name, sig] = lines[sigLine]!.split(' ');
  const raw = Buffer.from(sig!, 'base64');
  raw[raw.length - 1]! ^= 1;
  lines[sigLine] = `${dash} ${name} ${raw.toString('base64')}`;
  cp.envelope = lines.join('\n');
  assert.throws(() => verifySync(badNote, artifact, policy, root), { code: 'TLOG_CHECKPOINT_INVALID' });
});

test('memoizeBundles: false re-checks the certificate and checkpoint of every bundle, and still verifies', async () => {
  const root = v2Root();
  const trust = trustMaterialFor(root);
  const view = trust.withoutBundleMemo();
  const der = leafDer(v2Bundle());
  // A fresh parse each time: nothing carried over from an earlier bundle.
  assert.notEqual(view.leafCertificate(der), view.leafCertificate(der));
  assert.equal(view.checkpointVerified('any note', trust.tlogs[0]!, 'name'), false);
  for (let i = 0; i < 2; i++) {
    assert.equal((await verify(v2Bundle(), artifact, policy, root, { memoizeBundles: false })).identity, IDENTITY);
    assert.equal(verifySync(v2Bundle(), artifact, policy, root, { memoizeBundles: false }).identity, IDENTITY);
  }
  await assert.rejects(
    verify(v2Bundle(), Buffer.from('another artifact'), policy, root, { memoizeBundles: false }),
    (e: { code?: string }) => typeof e.code === 'string',
  );
});
