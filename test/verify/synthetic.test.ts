// Bundles built here from scratch (a one-leaf log with its own key, a managed signing key),
// for the combinations the conformance snapshot lacks: a DSSE envelope logged as a
// Rekor v1 hashedrekord over its PAE, and a managed-key bundle resting on the inclusion
// proof alone (no SET, no timestamp).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalize } from '../../src/core/canonical-json.js';
import { sha256 } from '../../src/core/hash.js';
import { buildHashedRekordV001, canonicalRekorV1Body, preAuthEncoding } from '../../src/formats/index.js';
import { leafHash, signCheckpoint } from '../../src/merkle/index.js';
import { verify, VerifyCode } from '../../src/index.js';
import { CONFORMANCE_DIR } from '../conformance/helpers.js';
import { pem, spki, synthLog, synthLogId, synthTrustedRoot } from '../audit/synth.js';

const artifact = readFileSync(join(CONFORMANCE_DIR, 'a.txt'));
const log = synthLog;
const logId = synthLogId;
const trustedRoot = synthTrustedRoot;
const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A DSSE bundle whose one log entry is a hashedrekord 0.0.1 over SHA-256(PAE), in a one-leaf log. */
function dsseBundle(opts: { withSet?: boolean; loggedPae?: Buffer } = {}) {
  const payload = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'a.txt', digest: { sha256: sha256(artifact).toString('hex') } }],
      predicateType: 'https://example.com/test',
      predicate: {},
    }),
  );
  const payloadType = 'application/vnd.in-toto+json';
  const pae = preAuthEncoding(payloadType, payload);
  const sig = nodeSign('sha256', pae, signer.privateKey);
  const body = canonicalRekorV1Body(
    buildHashedRekordV001({
      hash: { algorithm: 'sha256', value: sha256(opts.loggedPae ?? pae).toString('hex') },
      signature: sig,
      publicKeyPem: pem(signer.publicKey),
    }),
  );
  const root = leafHash(body);
  const checkpoint = signCheckpoint({ origin: 'rekor.test', size: 1, rootHash: root }, 'rekor.test', log.privateKey);
  const integratedTime = 1_700_000_000;
  const entry: Record<string, unknown> = {
    logIndex: '0',
    logId: { keyId: logId.toString('base64') },
    kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
    integratedTime: opts.withSet ? String(integratedTime) : '0',
    inclusionProof: { logIndex: '0', rootHash: root.toString('base64'), treeSize: '1', hashes: [], checkpoint: { envelope: checkpoint } },
    canonicalizedBody: body.toString('base64'),
  };
  if (opts.withSet) {
    const set = nodeSign(
      'sha256',
      Buffer.from(canonicalize({ body: body.toString('base64'), integratedTime, logID: logId.toString('hex'), logIndex: 0 })),
      log.privateKey,
    );
    entry.inclusionPromise = { signedEntryTimestamp: set.toString('base64') };
  }
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: sha256(spki(signer.publicKey)).toString('base64') }, tlogEntries: [entry] },
    dsseEnvelope: { payload: payload.toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64') }] },
  };
}

describe('synthetic bundles', () => {
  it('a DSSE envelope logged as a hashedrekord 0.0.1 over its PAE verifies, on the inclusion proof alone', async () => {
    const r = await verify(dsseBundle(), artifact, { publicKey: pem(signer.publicKey) }, trustedRoot);
    assert.equal(r.signingTime, undefined);
    assert.equal(r.tlogEntries[0]!.kindVersion, 'hashedrekord/0.0.1');
  });

  it('with a SET the integrated time becomes the signing time', async () => {
    const r = await verify(dsseBundle({ withSet: true }), artifact, { publicKey: pem(signer.publicKey) }, trustedRoot);
    assert.equal(r.signingTime?.getTime(), 1_700_000_000_000);
  });

  it('a logged digest of another PAE fails', async () => {
    await assert.rejects(
      verify(dsseBundle({ loggedPae: Buffer.from('other') }), artifact, { publicKey: pem(signer.publicKey) }, trustedRoot),
      { code: VerifyCode.TLOG_BODY_MISMATCH },
    );
  });

  it('another key fails', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    await assert.rejects(verify(dsseBundle(), artifact, { publicKey: pem(other) }, trustedRoot), { code: VerifyCode.SIGNATURE_INVALID });
  });

  it('a checkpoint signed by another key fails', async () => {
    const b = dsseBundle();
    const rogue = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const proof = (b.verificationMaterial.tlogEntries[0] as { inclusionProof: { rootHash: string; checkpoint: { envelope: string } } })
      .inclusionProof;
    proof.checkpoint.envelope = signCheckpoint(
      { origin: 'rekor.test', size: 1, rootHash: Buffer.from(proof.rootHash, 'base64') },
      'rekor.test',
      rogue.privateKey,
    );
    await assert.rejects(verify(b, artifact, { publicKey: pem(signer.publicKey) }, trustedRoot), {
      code: VerifyCode.TLOG_CHECKPOINT_INVALID,
    });
  });

  it('a key and an identity together are refused', async () => {
    await assert.rejects(
      verify(
        dsseBundle(),
        artifact,
        { publicKey: pem(signer.publicKey), certificateIdentity: 'x', certificateOidcIssuer: 'y' },
        trustedRoot,
      ),
      { code: VerifyCode.POLICY_INVALID },
    );
  });
});

describe('synthetic keyless bundles (own CA and log, no CT log)', () => {
  const ISSUER = 'https://issuer.example';
  const EMAIL = 'signer@example.com';
  const integratedTime = Math.floor(Date.now() / 1000);

  async function keylessBundle(opts: { logKeyInsteadOfCert?: boolean; leafNotBefore?: Date } = {}) {
    const { createCaChain, issueLeafCertificate } = await import('../../src/x509/build/index.js');
    const ca = createCaChain({ now: new Date(Date.now() - 3600_000) });
    const leafKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const leaf = issueLeafCertificate(
      {
        publicKey: leafKey.publicKey,
        san: { type: 'email', value: EMAIL },
        sigstoreExtensions: { '1.3.6.1.4.1.57264.1.8': ISSUER },
        notBefore: opts.leafNotBefore ?? new Date((integratedTime - 60) * 1000),
      },
      ca.intermediate,
    );
    const digest = sha256(artifact);
    const sig = nodeSign('sha256', artifact, leafKey.privateKey);
    const body = canonicalRekorV1Body(
      buildHashedRekordV001({
        hash: { algorithm: 'sha256', value: digest.toString('hex') },
        signature: sig,
        publicKeyPem: opts.logKeyInsteadOfCert ? pem(leafKey.publicKey) : leaf.toPem(),
      }),
    );
    const root = leafHash(body);
    const checkpoint = signCheckpoint({ origin: 'rekor.test - 1', size: 1, rootHash: root }, 'rekor.test', log.privateKey);
    const set = nodeSign(
      'sha256',
      Buffer.from(canonicalize({ body: body.toString('base64'), integratedTime, logID: logId.toString('hex'), logIndex: 0 })),
      log.privateKey,
    );
    const trusted: Omit<typeof trustedRoot, 'certificateAuthorities'> & { certificateAuthorities: unknown[] } =
      structuredClone(trustedRoot);
    trusted.certificateAuthorities = [
      {
        subject: { organization: 'keyless', commonName: 'keyless-root' },
        uri: 'https://ca.test',
        certChain: {
          certificates: [ca.intermediate.certificate, ca.root.certificate].map((c) => ({ rawBytes: c.der.toString('base64') })),
        },
        validFor: { start: '2020-01-01T00:00:00Z' },
      },
    ];
    const bundle = {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        certificate: { rawBytes: leaf.der.toString('base64') },
        tlogEntries: [
          {
            logIndex: '0',
            logId: { keyId: logId.toString('base64') },
            kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
            integratedTime: String(integratedTime),
            inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
            inclusionProof: {
              logIndex: '0',
              rootHash: root.toString('base64'),
              treeSize: '1',
              hashes: [],
              checkpoint: { envelope: checkpoint },
            },
            canonicalizedBody: body.toString('base64'),
          },
        ],
      },
      messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') }, signature: sig.toString('base64') },
    };
    return { bundle, trusted };
  }
  const policy = { certificateIdentity: EMAIL, certificateOidcIssuer: ISSUER, ctlogThreshold: 0 };

  it('verifies: chain to the trusted CA at the SET time, v1 checkpoint, identity and issuer', async () => {
    const { bundle, trusted } = await keylessBundle();
    const r = await verify(bundle, artifact, policy, trusted);
    assert.equal(r.identity, EMAIL);
    assert.equal(r.issuer, ISSUER);
    assert.equal(r.signingTime?.getTime(), integratedTime * 1000);
  });

  it('a log entry that records the certificate key instead of the certificate verifies', async () => {
    const { bundle, trusted } = await keylessBundle({ logKeyInsteadOfCert: true });
    await verify(bundle, artifact, policy, trusted);
  });

  it('without an SCT the default CT threshold fails', async () => {
    const { bundle, trusted } = await keylessBundle();
    await assert.rejects(verify(bundle, artifact, { certificateIdentity: EMAIL, certificateOidcIssuer: ISSUER }, trusted), {
      code: VerifyCode.SCT_INVALID,
    });
  });

  it('a leaf not yet valid at the integrated time fails', async () => {
    const { bundle, trusted } = await keylessBundle({ leafNotBefore: new Date((integratedTime + 5) * 1000) });
    await assert.rejects(verify(bundle, artifact, policy, trusted), { code: VerifyCode.CERTIFICATE_NOT_VALID_AT_TIME });
  });

  it('one proof-only entry copied under another log index counts once (tlogThreshold 2 fails)', async () => {
    const b = dsseBundle();
    const copy = structuredClone(b.verificationMaterial.tlogEntries[0]!);
    copy.logIndex = '5';
    b.verificationMaterial.tlogEntries.push(copy);
    await assert.rejects(verify(b, artifact, { publicKey: pem(signer.publicKey), tlogThreshold: 2 }, trustedRoot), {
      code: VerifyCode.TLOG_DUPLICATE,
    });
    // The same bundle without the copy meets threshold 1.
    b.verificationMaterial.tlogEntries.pop();
    assert.equal((await verify(b, artifact, { publicKey: pem(signer.publicKey), tlogThreshold: 1 }, trustedRoot)).tlogEntries.length, 1);
  });
});
