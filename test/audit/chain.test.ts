import { softwareSigner } from '../../src/core/signer.js';
// Certificate paths: EKU nesting through CAs, and same-named intermediates (issuer by key, not by name).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerificationError } from '../../src/core/errors.js';
import { OID, loadTrustMaterial, verifyCertificateChain, verifyEmbeddedScts } from '../../src/x509/index.js';
import {
  createCaChain,
  createIntermediateCertificate,
  generateKey,
  issueLeafCertificate,
  publicKeyOf,
} from '../../src/x509/build/index.js';
import { issueLeaf, makeStack, trustedRootFor } from '../x509/fixtures.js';

const code = (c: string) => (e: unknown) => e instanceof VerificationError && e.code === c;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

test('an intermediate whose EKU excludes codeSigning cannot issue a code-signing leaf (Go x509 and OpenSSL check EKU nesting)', () => {
  const ca = createCaChain({ now: new Date(Date.now() - 3600_000) });
  const key = generateKey().privateKey;
  const intermediate = {
    key: softwareSigner(key),
    certificate: createIntermediateCertificate(
      ca.root,
      publicKeyOf(key),
      { organization: 'keyless', commonName: 'tls-only' },
      ca.root.certificate.notBefore,
      ca.root.certificate.notAfter,
      SERVER_AUTH,
    ),
  };
  const leaf = issueLeafCertificate({ publicKey: generateKey().publicKey, san: { type: 'email', value: 'a@b.c' } }, intermediate);
  const b64 = (c: { der: Buffer }) => ({ rawBytes: c.der.toString('base64') });
  const tm = loadTrustMaterial({
    certificateAuthorities: [
      {
        certChain: { certificates: [b64(intermediate.certificate), b64(ca.root.certificate)] },
        validFor: { start: '2000-01-01T00:00:00Z' },
      },
    ],
  });
  assert.throws(() => verifyCertificateChain(leaf, tm.certificateAuthorities, new Date()), code('CERTIFICATE_EKU_MISSING'));
  // The same path with a code-signing intermediate is fine.
  const ok = issueLeafCertificate({ publicKey: generateKey().publicKey, san: { type: 'email', value: 'a@b.c' } }, ca.intermediate);
  const tm2 = loadTrustMaterial({
    certificateAuthorities: [
      {
        certChain: { certificates: [b64(ca.intermediate.certificate), b64(ca.root.certificate)] },
        validFor: { start: '2000-01-01T00:00:00Z' },
      },
    ],
  });
  assert.equal(verifyCertificateChain(ok, tm2.certificateAuthorities, new Date()).path.length, 3);
  assert.equal(OID.codeSigning, '1.3.6.1.5.5.7.3.3');
});

test('a decoy CA with a same-named intermediate listed first: the chain and the SCT issuer come from the real key (upstream PR 393 case)', () => {
  const stack = makeStack();
  const { leaf } = issueLeaf(stack);
  const decoy = createCaChain({ now: new Date(Date.now() - 3600_000) }); // same default names, other keys
  assert.ok(decoy.intermediate.certificate.subject.equals(stack.ca.intermediate.certificate.subject));
  const root = trustedRootFor(stack) as { certificateAuthorities: unknown[] };
  const b64 = (c: { der: Buffer }) => ({ rawBytes: c.der.toString('base64') });
  root.certificateAuthorities.unshift({
    certChain: { certificates: [b64(decoy.intermediate.certificate), b64(decoy.root.certificate)] },
    validFor: { start: '2000-01-01T00:00:00Z' },
  });
  const tm = loadTrustMaterial(root as never);
  const chain = verifyCertificateChain(leaf, tm.certificateAuthorities, new Date());
  assert.ok(chain.path[1]!.der.equals(stack.ca.intermediate.certificate.der));
  assert.equal(verifyEmbeddedScts(leaf, chain.path[1]!, tm.ctLogs, 1).length, 1);
});
