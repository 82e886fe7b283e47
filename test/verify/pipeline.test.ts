// Pipeline checks beyond the conformance cases, built from their real bundles with one
// change each, so every failure below is caused by exactly that change.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verify, VerifyCode } from '../../src/index.js';
import { parseDer } from '../../src/x509/index.js';
import { CONFORMANCE_DIR, DEFAULT_IDENTITY, DEFAULT_ISSUER } from '../conformance/helpers.js';

const policy = { certificateIdentity: DEFAULT_IDENTITY, certificateOidcIssuer: DEFAULT_ISSUER };
const artifact = readFileSync(join(CONFORMANCE_DIR, 'a.txt'));
const json = (p: string) => JSON.parse(readFileSync(join(CONFORMANCE_DIR, p), 'utf8'));
const production = json('trusted_root.production.json');
const v01 = json('happy-path-v0.1/bundle.sigstore.json');
const v03 = json('happy-path-v0.3/bundle.sigstore.json');
const rekor2 = json('rekor2-happy-path/bundle.sigstore.json');
const rekor2Root = json('rekor2-happy-path/trusted_root.json');

const clone = <T>(v: T): T => structuredClone(v);
const rejectsWith = (p: Promise<unknown>, code: string) => assert.rejects(p, (e: { code?: string }) => (assert.equal(e.code, code), true));

describe('verification pipeline', () => {
  it('verifies the happy paths and reports verified times', async () => {
    const r = await verify(v03, artifact, policy);
    assert.equal(r.verifiedTimes.length, 1);
    assert.equal(r.verifiedTimes[0]!.source, 'transparency-log');
    const r2 = await verify(rekor2, artifact, policy, rekor2Root);
    assert.equal(r2.verifiedTimes[0]!.source, 'timestamp-authority');
    assert.equal(r2.tlogEntries[0]!.kindVersion, 'hashedrekord/0.0.2');
  });

  it('refuses a bundle chain that carries the root certificate', async () => {
    const b = clone(v01);
    const fulcio = production.certificateAuthorities.at(-1).certChain.certificates;
    b.verificationMaterial.x509CertificateChain.certificates.push(...fulcio);
    await rejectsWith(verify(b, artifact, policy), VerifyCode.CERTIFICATE_ROOT_IN_BUNDLE);
  });

  it('refuses a leaf that is not from a trusted CA', async () => {
    // The Rekor v2 bundle's staging leaf against the production root.
    const b = clone(v03);
    b.verificationMaterial.certificate = rekor2.verificationMaterial.certificate;
    await assert.rejects(verify(b, artifact, policy));
  });

  it('refuses two entries with the same log and index', async () => {
    const b = clone(v03);
    b.verificationMaterial.tlogEntries.push(b.verificationMaterial.tlogEntries[0]);
    await rejectsWith(verify(b, artifact, policy), VerifyCode.TLOG_DUPLICATE);
  });

  it('one Rekor v1 entry copied under another, unsigned log index does not meet tlogThreshold 2', async () => {
    const b = clone(v03);
    const copy = clone(b.verificationMaterial.tlogEntries[0]);
    // Without its SET the entry's logIndex is signed by nothing; the proof still verifies.
    delete copy.inclusionPromise;
    copy.logIndex = String(BigInt(copy.logIndex) + 1n);
    b.verificationMaterial.tlogEntries.push(copy);
    const withCopyAlone = clone(v03);
    withCopyAlone.verificationMaterial.tlogEntries = [copy, clone(v03).verificationMaterial.tlogEntries[0]];
    await rejectsWith(verify(b, artifact, { ...policy, tlogThreshold: 2 }), VerifyCode.TLOG_DUPLICATE);
    await rejectsWith(verify(withCopyAlone, artifact, { ...policy, tlogThreshold: 2 }), VerifyCode.TLOG_DUPLICATE);
  });

  it('one TSA token given twice in different encodings does not meet timestampThreshold 2', async () => {
    const b = clone(rekor2);
    const stamps = b.verificationMaterial.timestampVerificationData.rfc3161Timestamps;
    const response = Buffer.from(stamps[0].signedTimestamp, 'base64');
    // The same token as a bare ContentInfo instead of inside the TimeStampResp: other bytes, one TSTInfo.
    const [, token] = parseDer(response, 'tsr').children('tsr');
    const bare = clone(rekor2);
    bare.verificationMaterial.timestampVerificationData.rfc3161Timestamps = [{ signedTimestamp: token!.bytes.toString('base64') }];
    assert.equal((await verify(bare, artifact, policy, rekor2Root)).verifiedTimes.length, 1, 'the bare token verifies on its own');
    stamps.push({ signedTimestamp: token!.bytes.toString('base64') });
    await rejectsWith(verify(b, artifact, { ...policy, timestampThreshold: 2 }, rekor2Root), VerifyCode.TIMESTAMP_INVALID);
  });

  it('a changed Rekor v2 body breaks the inclusion proof', async () => {
    const b = clone(rekor2);
    const body = Buffer.from(b.verificationMaterial.tlogEntries[0].canonicalizedBody, 'base64').toString('utf8');
    b.verificationMaterial.tlogEntries[0].canonicalizedBody = Buffer.from(body.replace('"SHA2_256"', '"SHA2_256" ')).toString('base64');
    await rejectsWith(verify(b, artifact, policy, rekor2Root), VerifyCode.TLOG_INCLUSION_INVALID);
  });

  it('a Rekor v2 entry index must be the proven index', async () => {
    const b = clone(rekor2);
    b.verificationMaterial.tlogEntries[0].logIndex = '734';
    await rejectsWith(verify(b, artifact, policy, rekor2Root), VerifyCode.TLOG_INCLUSION_INVALID);
  });

  it('a Rekor v2 log key must be valid at the verified time', async () => {
    const root = clone(rekor2Root);
    const logId = rekor2.verificationMaterial.tlogEntries[0].logId.keyId;
    const log = root.tlogs.find((t: { logId: { keyId: string } }) => t.logId.keyId === logId);
    log.publicKey.validFor.end = '2025-04-17T00:00:00Z';
    await rejectsWith(verify(rekor2, artifact, policy, root), VerifyCode.TLOG_KEY_NOT_VALID_AT_TIME);
  });

  it('a Rekor v1 key whose validity ended one second before the integrated time fails', async () => {
    const root = json('trust-root-tlog-validity-end-inclusive/trusted_root.json');
    const b = json('trust-root-tlog-validity-end-inclusive/bundle.sigstore.json');
    await verify(b, artifact, policy, root);
    const before = clone(root);
    for (const t of before.tlogs)
      if (t.publicKey.validFor.end === '2023-07-12T15:56:36Z') t.publicKey.validFor.end = '2023-07-12T15:56:35Z';
    await rejectsWith(verify(b, artifact, policy, before), VerifyCode.TLOG_KEY_NOT_VALID_AT_TIME);
  });

  it('an untrusted log fails, also when the checkpoint would verify', async () => {
    const root = clone(production);
    root.tlogs = [];
    await rejectsWith(verify(v03, artifact, policy, root), VerifyCode.TLOG_UNKNOWN_LOG);
  });

  it('the CT log must be trusted', async () => {
    const root = clone(production);
    root.ctlogs = [];
    await rejectsWith(verify(v03, artifact, policy, root), VerifyCode.SCT_INVALID);
  });

  it('a wrong digest fails in digest mode', async () => {
    await rejectsWith(verify(v03, `sha256:${'00'.repeat(32)}`, policy), VerifyCode.DIGEST_MISMATCH);
  });

  it('in-toto subjects must contain the artifact', async () => {
    const b = json('happy-path-intoto-in-dsse-v3/bundle.sigstore.json');
    const r = await verify(b, artifact, policy);
    assert.equal(r.payloadType, 'application/vnd.in-toto+json');
    await rejectsWith(verify(b, Buffer.from('another artifact'), policy), VerifyCode.SUBJECT_MISMATCH);
    await rejectsWith(verify(b, `sha256:${'ab'.repeat(32)}`, policy), VerifyCode.SUBJECT_MISMATCH);
  });

  it('a managed-key bundle needs the right key', async () => {
    const dir = 'managed-key-happy-path';
    const b = json(`${dir}/bundle.sigstore.json`);
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }) as string;
    await rejectsWith(verify(b, artifact, {}), VerifyCode.KEY_REQUIRED);
    await rejectsWith(verify(b, artifact, { publicKey: other }), VerifyCode.SIGNATURE_INVALID);
    await verify(b, artifact, { publicKey: readFileSync(join(CONFORMANCE_DIR, dir, 'key.pub'), 'utf8') });
  });

  it('a v0.1 bundle may rest on the SET alone, but the SET must carry a time', async () => {
    const b = clone(v01);
    delete b.verificationMaterial.tlogEntries[0].inclusionProof;
    const r = await verify(b, artifact, policy);
    assert.ok(r.checks.some((c) => c.check === 'tlog[0].signed-entry-timestamp' && c.ok));
    const noTime = clone(b);
    noTime.verificationMaterial.tlogEntries[0].integratedTime = '0';
    await rejectsWith(verify(noTime, artifact, policy), VerifyCode.TLOG_SET_INVALID);
  });

  it('a key given for a certificate bundle must be the certificate key', async () => {
    const { X509Certificate, generateKeyPairSync } = await import('node:crypto');
    const leaf = new X509Certificate(Buffer.from(v03.verificationMaterial.certificate.rawBytes, 'base64'));
    const pem = leaf.publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const r = await verify(v03, artifact, { publicKey: pem });
    assert.equal(r.identity, DEFAULT_IDENTITY);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }) as string;
    await rejectsWith(verify(v03, artifact, { publicKey: other }), VerifyCode.KEY_MISMATCH);
  });

  it('an identically named decoy intermediate with another key does not confuse chain or SCT', async () => {
    const { buildCertificate, generateKey, ext } = await import('../../src/x509/build/index.js');
    const { parseCertificate } = await import('../../src/x509/index.js');
    const genuine = parseCertificate(Buffer.from(v03.verificationMaterial.certificate.rawBytes, 'base64'));
    const key = generateKey('ecdsa-p384');
    // Same subject bytes as the leaf's issuer, no key identifier, so only the signature can tell.
    const decoy = buildCertificate(
      {
        issuer: genuine.issuer.der,
        subject: genuine.issuer.der,
        notBefore: new Date('2020-01-01T00:00:00Z'),
        notAfter: new Date('2100-01-01T00:00:00Z'),
        publicKey: key.publicKey,
        extensions: [ext.basicConstraints(true, 0), ext.keyUsage('keyCertSign', 'cRLSign')],
      },
      key.privateKey,
    );
    const root = clone(production);
    root.certificateAuthorities.unshift({
      subject: { organization: 'sigstore.dev', commonName: 'sigstore-intermediate' },
      uri: 'https://decoy.example',
      certChain: { certificates: [{ rawBytes: decoy.der.toString('base64') }] },
      validFor: { start: '2020-01-01T00:00:00Z' },
    });
    const r = await verify(v03, artifact, policy, root);
    assert.equal(r.identity, DEFAULT_IDENTITY);
  });

  it('a trusted root without a validity start is malformed', async () => {
    const root = clone(production);
    delete root.certificateAuthorities[0].validFor.start;
    await assert.rejects(verify(v03, artifact, policy, root));
  });
});

describe('bundle inputs', () => {
  it('accepts JSON text, bytes, the JSON value and a parsed Bundle; a JSON value shaped like a parsed Bundle is validated', async () => {
    const { parseBundle } = await import('../../src/formats/index.js');
    const text = JSON.stringify(v03);
    for (const input of [text, Buffer.from(text), v03, parseBundle(v03)]) await verify(input, artifact, policy);
    await assert.rejects(verify({ content: { $case: 'messageSignature', messageSignature: { signature: 'AAAA' } } }, artifact, policy), {
      code: 'FORMAT_INVALID',
    });
  });
});
