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
  c.bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.push(...late.bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps);
  assert.equal(outcome(c), 'CERTIFICATE_NOT_VALID_AT_TIME');
});
