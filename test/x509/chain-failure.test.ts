import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError, VerificationError } from '../../src/core/errors.js';
import { chainFailureKind } from '../../src/x509/index.js';

test('chainFailureKind tells time, trust and other chain failures apart by x509 code', () => {
  assert.equal(chainFailureKind(new VerificationError('CERTIFICATE_EXPIRED', 'x')), 'time');
  assert.equal(chainFailureKind(new VerificationError('CERTIFICATE_NOT_YET_VALID', 'x')), 'time');
  assert.equal(chainFailureKind(new VerificationError('CERTIFICATE_AUTHORITY_NOT_VALID', 'x')), 'time');
  assert.equal(chainFailureKind(new VerificationError('CERTIFICATE_CHAIN_UNTRUSTED', 'x')), 'untrusted');
  assert.equal(chainFailureKind(new VerificationError('CERTIFICATE_SIGNATURE_INVALID', 'x')), 'invalid');
  assert.equal(chainFailureKind(new FormatError('certificate', 'bad DER')), 'invalid');
  assert.equal(chainFailureKind(new Error('boom')), 'invalid');
});
