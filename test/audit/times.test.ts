// Times a bundle claims must agree with its certificate, signed or not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCase, outcome } from './helpers.js';

test('baseline: the Rekor v2 happy path verifies', () => {
  assert.equal(outcome(loadCase('rekor2-happy-path')), 'OK');
});

test('a Rekor v2 entry whose (unsigned) integrated time lies outside the certificate validity is rejected (sigstore-go: ValidAtTime(integratedTime))', () => {
  const c = loadCase('rekor2-happy-path');
  c.bundle.verificationMaterial.tlogEntries[0].integratedTime = '1';
  assert.equal(outcome(c), 'CERTIFICATE_NOT_VALID_AT_TIME');
});

test('an integrated time inside the certificate validity, without a promise, is accepted as before (it is not a verified time)', () => {
  const c = loadCase('rekor2-happy-path');
  // The leaf is valid 2025-06-12T12:02:16Z .. 12:12:16Z.
  c.bundle.verificationMaterial.tlogEntries[0].integratedTime = String(Math.floor(Date.parse('2025-06-12T12:02:20Z') / 1000));
  assert.equal(outcome(c), 'OK');
});

test('a second timestamp outside the certificate validity fails even when the first is inside (upstream PR 404 case)', () => {
  const c = loadCase('rekor2-happy-path');
  const late = loadCase('rekor2-timestamp-with-incorrect-time_fail');
  c.bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.push(
    ...late.bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps,
  );
  assert.equal(outcome(c), 'CERTIFICATE_NOT_VALID_AT_TIME');
});

test('a Rekor v2 entry carrying an inclusion promise is rejected (v2 logs sign none; sigstore-go drops such entries)', () => {
  const c = loadCase('rekor2-happy-path');
  c.bundle.verificationMaterial.tlogEntries[0].inclusionPromise = { signedEntryTimestamp: Buffer.alloc(64, 1).toString('base64') };
  assert.equal(outcome(c), 'TLOG_SET_INVALID');
});

test('a log listed twice with the same key: a window of either entry may cover the verified time', () => {
  const c = loadCase('rekor2-happy-path');
  const v2 = c.trustedRoot.tlogs.find((l: { baseUrl: string }) => l.baseUrl.includes('log2025'));
  const expired = structuredClone(v2);
  expired.publicKey.validFor = { start: '2025-01-01T00:00:00Z', end: '2025-02-01T00:00:00Z' };
  c.trustedRoot.tlogs.unshift(expired);
  assert.equal(outcome(c), 'OK');
  // With only the expired listing, the entry is refused.
  const d = loadCase('rekor2-happy-path');
  const only = d.trustedRoot.tlogs.find((l: { baseUrl: string }) => l.baseUrl.includes('log2025'));
  only.publicKey.validFor = { start: '2025-01-01T00:00:00Z', end: '2025-02-01T00:00:00Z' };
  assert.equal(outcome(d), 'TLOG_KEY_NOT_VALID_AT_TIME');
});
