// v0.1/v0.2 certificate chains: trusted intermediates may ride along; a root may not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCase, outcome, PRODUCTION_ROOT } from './helpers.js';

const fulcio = () => structuredClone(PRODUCTION_ROOT.certificateAuthorities.at(-1).certChain.certificates) as { rawBytes: string }[];

test('a v0.1 chain of leaf and its (trusted) intermediate verifies; the intermediate is never what makes it trusted', () => {
  const c = loadCase('happy-path-v0.1');
  c.bundle.verificationMaterial.x509CertificateChain.certificates.push(fulcio()[0]);
  assert.equal(outcome(c), 'OK');
});

test('a v0.1 chain that ends in the root, or puts a trusted CA first, is refused (sigstore-conformance #66)', () => {
  const c = loadCase('happy-path-v0.1');
  c.bundle.verificationMaterial.x509CertificateChain.certificates.push(...fulcio());
  assert.equal(outcome(c), 'CERTIFICATE_ROOT_IN_BUNDLE');
  const d = loadCase('happy-path-v0.1');
  d.bundle.verificationMaterial.x509CertificateChain.certificates = [fulcio()[0]];
  assert.equal(outcome(d), 'CERTIFICATE_ROOT_IN_BUNDLE');
});

test('a duplicated leaf in the chain changes nothing (bundle intermediates are not used for trust)', () => {
  const c = loadCase('happy-path-v0.1');
  const certs = c.bundle.verificationMaterial.x509CertificateChain.certificates;
  certs.push(certs[0]);
  assert.equal(outcome(c), 'OK');
});
