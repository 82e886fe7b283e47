// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { softwareSigner } from '../../src/core/signer.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { X509Certificate as SigstoreX509 } from '@sigstore/core';
import { verifySCTs as sigstoreVerifyScts } from '@sigstore/verify/dist/key/sct.js';
import { leafHash } from '../../src/merkle/index.js';
import { CtLog, MemoryCtLogStore, merkleTreeLeaf } from '../../src/services/ctlog/index.js';
import { CertificateAuthority, inProcessCtSubmitter, type CtSubmitter } from '../../src/services/ca/index.js';
import {
  buildCertificate,
  createCaChain,
  embedScts,
  ext,
  generateKey,
  issueLeafCertificate,
  issuePrecertificate,
  leafExtensions,
  PreparedLeaf,
  spkiDer,
  type ExtensionSpec,
  type LeafProfile,
} from '../../src/x509/build/index.js';
import {
  loadTrustMaterial,
  OID,
  parseCertificate,
  parseCertificatesPem,
  verifyEmbeddedScts,
  type Certificate,
} from '../../src/x509/index.js';
import { ecKey, emailClaims, publicKeyRequest, startStack, token } from './helpers.js';

const ca = createCaChain({ now: new Date(Date.now() - 3600_000) });

function profile(keyAsDer: boolean): LeafProfile {
  const key = generateKey().publicKey;
  return {
    publicKey: keyAsDer ? spkiDer(key) : key,
    san: { type: 'email', value: 'leaf@example.com' },
    sigstoreExtensions: {
      '1.3.6.1.4.1.57264.1.8': 'https://issuer.example',
      '1.3.6.1.4.1.57264.1.1': 'https://issuer.example',
      '1.3.6.1.4.1.57264.1.9': '',
    },
    notBefore: new Date(Date.now() - 1234),
    serial: Buffer.from('0123456789abcdef0123', 'hex'),
  };
}

/** Certificates are signed with randomized ECDSA: compare everything but the signature. */
function tbsOf(der: Buffer): Buffer {
  return parseCertificate(der).tbsDer;
}

/** The Fulcio leaf through the generic certificate builder, independent of PreparedLeaf's encoding. */
function referenceLeaf(p: LeafProfile, last: ExtensionSpec[]) {
  const notBefore = new Date(Math.floor(p.notBefore!.getTime() / 1000) * 1000);
  return buildCertificate(
    {
      serial: p.serial!,
      issuer: ca.intermediate.certificate.subject.der,
      subject: Buffer.from([0x30, 0x00]),
      notBefore,
      notAfter: new Date(notBefore.getTime() + 10 * 60 * 1000),
      publicKey: p.publicKey,
      extensions: [...leafExtensions(p, ca.intermediate.certificate), ...last],
    },
    ca.intermediate.key,
  );
}

test('PreparedLeaf: precertificate, CT entry TBS and final certificate are byte for byte those of the generic builder + embedScts', async () => {
  for (const keyAsDer of [true, false]) {
    const p = profile(keyAsDer);
    const leaf = new PreparedLeaf(p, ca.intermediate);
    const reference = referenceLeaf(p, [ext.ctPoison()]);
    assert.ok(issuePrecertificate(p, ca.intermediate).tbsDer.equals(reference.tbsDer));

    const precert = leaf.precertificate();
    assert.ok(precert.tbsDer.equals(reference.tbsDer));
    assert.ok(precert.isPrecertificate);
    assert.ok(precert.verifySignedBy(ca.intermediate.certificate));
    assert.ok(leaf.entryTbs().equals(reference.tbsWithoutExtensions(OID.ctPoison)));

    const log = new CtLog({ signer: softwareSigner(generateKey().privateKey), roots: [ca.root.certificate] });
    const sct = await log.addTrustedPrecertificate(reference, ca.intermediate.certificate);
    const final = parseCertificate(leaf.finalDer([sct]));
    assert.ok(final.tbsDer.equals(embedScts(reference, [sct], ca.intermediate.key).tbsDer));
    assert.ok(final.verifySignedBy(ca.intermediate.certificate));
    assert.equal(final.isPrecertificate, false);

    assert.ok(issueLeafCertificate(p, ca.intermediate, { scts: [sct] }).tbsDer.equals(final.tbsDer));

    // No SCT: the plain leaf.
    const plain = referenceLeaf(p, []);
    assert.ok(tbsOf(leaf.finalDer([])).equals(plain.tbsDer));
    assert.ok(issueLeafCertificate(p, ca.intermediate).tbsDer.equals(plain.tbsDer));
  }
});

test('addTrustedPrecertificateTbs: logs the same MerkleTreeLeaf as addTrustedPrecertificate; the embedded SCT verifies (Keyless and sigstore-js)', async () => {
  const store = new MemoryCtLogStore();
  const log = new CtLog({ signer: softwareSigner(generateKey().privateKey), roots: [ca.root.certificate], store });
  const leaf = new PreparedLeaf(profile(true), ca.intermediate);
  const submit = inProcessCtSubmitter(log);
  assert.equal(typeof submit.submitTrustedTbs, 'function');
  const precertificate = leaf.precertificateDer();
  const sct = await submit.submitTrustedTbs!(leaf.entryTbs(), ca.intermediate.certificate, precertificate);
  const final = parseCertificate(leaf.finalDer([sct]));

  const tm = loadTrustMaterial({
    ctlogs: [
      {
        baseUrl: 'http://ct.example',
        logId: { keyId: log.logId.toString('base64') },
        publicKey: {
          rawBytes: log.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: '2020-01-01T00:00:00Z' },
        },
      },
    ],
  });
  assert.equal(verifyEmbeddedScts(final, ca.intermediate.certificate, tm.ctLogs).length, 1);
  const peerLog = {
    baseURL: 'http://ct.example',
    logID: log.logId,
    publicKey: log.publicKey,
    validFor: { start: new Date(0), end: new Date(8.64e15) },
  };
  assert.equal(
    sigstoreVerifyScts(SigstoreX509.parse(Buffer.from(final.der)), SigstoreX509.parse(Buffer.from(ca.intermediate.certificate.der)), [
      peerLog,
    ]).length,
    1,
  );

  // The log holds exactly the RFC 6962 precert leaf of that certificate.
  assert.equal(store.leaves.length, 1);
  const issuerKeyHash = createHash('sha256').update(ca.intermediate.certificate.spkiDer).digest();
  const expected = merkleTreeLeaf(sct.timestamp, { type: 'precert', issuerKeyHash, tbs: final.tbsWithoutExtensions(OID.sctList) });
  assert.ok(store.leaves[0]!.equals(expected));
  assert.equal(await store.findLeaf(leafHash(expected), 1), 0);
  // get-entries extra_data: the PrecertChainEntry, i.e. the signed precertificate, then the issuer.
  const extraData = (await store.readEntries(0, 1))[0]?.extraData;
  const u24 = (b: Buffer, at: number) => b.readUIntBE(at, 3);
  assert.ok(extraData);
  assert.equal(u24(extraData, 0), precertificate.length);
  assert.ok(extraData.subarray(3, 3 + precertificate.length).equals(precertificate));
  const rest = extraData.subarray(3 + precertificate.length);
  const issuerDer = ca.intermediate.certificate.der;
  assert.equal(u24(rest, 0), 3 + issuerDer.length);
  assert.equal(u24(rest, 3), issuerDer.length);
  assert.ok(rest.subarray(6).equals(issuerDer));
  const precert = parseCertificate(precertificate);
  assert.ok(precert.isPrecertificate && precert.verifySignedBy(ca.intermediate.certificate));
  assert.ok(precert.tbsWithoutExtensions(OID.ctPoison).equals(leaf.entryTbs()));
});

test('the CA issues through the TBS path when its in-process log offers it, through a signed precertificate otherwise; both SCTs verify', async () => {
  const stack = await startStack();
  try {
    const calls: string[] = [];
    const viaTbs = inProcessCtSubmitter(stack.ctLog);
    const both: CtSubmitter = Object.assign((chain: Parameters<CtSubmitter>[0]) => (calls.push('chain'), viaTbs(chain)), {
      submitTrustedTbs: (tbs: Buffer, issuer: Certificate, precertificate: Buffer) => (
        calls.push('tbs'),
        viaTbs.submitTrustedTbs!(tbs, issuer, precertificate)
      ),
    });
    const chainOnly: CtSubmitter = (chain) => (calls.push('chain'), stack.ctLog.addPreChain(chain));
    const tm = loadTrustMaterial({
      ctlogs: [
        {
          baseUrl: 'http://ct.example',
          logId: { keyId: stack.ctLog.logId.toString('base64') },
          publicKey: {
            rawBytes: stack.ctLog.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
            keyDetails: 'PKIX_ECDSA_P256_SHA_256',
            validFor: { start: '2020-01-01T00:00:00Z' },
          },
        },
      ],
    });
    for (const [submitToCtLog, path] of [
      [both, 'tbs'],
      [chainOnly, 'chain'],
    ] as const) {
      calls.length = 0;
      const authority = new CertificateAuthority({
        issuers: stack.issuers,
        issuer: stack.chain.intermediate,
        parents: [stack.chain.root.certificate],
        submitToCtLog,
      });
      const body = publicKeyRequest(await token(stack, emailClaims(stack)), ecKey(), 'dev@example.com');
      const issued = await authority.signingCertificate(body, undefined);
      assert.deepEqual(calls, [path]);
      assert.equal(issued.embeddedSct, true);
      assert.ok(issued.certificate.der.equals(issued.der));
      assert.ok(parseCertificatesPem(issued.chainPem[0]!)[0]!.der.equals(issued.der));
      assert.equal(verifyEmbeddedScts(issued.certificate, stack.chain.intermediate.certificate, tm.ctLogs).length, 1);
      assert.ok(issued.certificate.verifySignedBy(stack.chain.intermediate.certificate));
    }
  } finally {
    await stack.close();
  }
});
