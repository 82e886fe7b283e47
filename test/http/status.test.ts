// The one code → HTTP status table (src/services/http/status.ts) and how every
// service's error handler applies it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, type ErrorCode, type ErrorComponent } from '../../src/core/error-codes.js';
import { FormatError, KeylessError, VerificationError } from '../../src/core/errors.js';
import { HTTP_STATUS, HttpError, httpStatusOf, toHttpError } from '../../src/services/http/index.js';

/** Components whose codes describe input a service receives: every one must answer 4xx. */
const INPUT_COMPONENTS: ErrorComponent[] = ['merkle', 'x509', 'oidc', 'http'];
/** Service components: every code must have a status (the dev IdP's client codes are the CLI's). */
const SERVICE_COMPONENTS: ErrorComponent[] = ['ca', 'ctlog', 'tlog', 'tsa', 'idp'];
const CLIENT_SIDE: ErrorCode[] = ['DEV_IDP_UNREACHABLE', 'DEV_IDP_REFUSED', 'DEV_IDP_BAD_RESPONSE'];
/** Input-component codes that report an upstream failure (a gateway error), not the request's fault. */
const UPSTREAM: Partial<Record<ErrorCode, number>> = { TOKEN_DISCOVERY_FAILED: 502, TOKEN_DISCOVERY_TIMEOUT: 504 };

test('every input and service code has an HTTP status; malformed input is 4xx; only INTERNAL is 500', () => {
  for (const [code, { component }] of Object.entries(ERROR_CODES) as Array<[ErrorCode, { component: ErrorComponent }]>) {
    const status = httpStatusOf(code);
    if (UPSTREAM[code] !== undefined) assert.equal(status, UPSTREAM[code], code);
    else if (INPUT_COMPONENTS.includes(component)) {
      assert.ok(status !== undefined && status >= 400 && status < 500, `${code} (${component}) must be 4xx, is ${status}`);
    }
    if (SERVICE_COMPONENTS.includes(component) && !CLIENT_SIDE.includes(code))
      assert.ok(status !== undefined, `${code} (${component}) has no HTTP status`);
  }
  for (const code of ['FORMAT_INVALID', 'KEY_UNSUPPORTED', 'PUBLIC_KEY_INVALID', 'SIGNATURE_INVALID', 'REQUEST_INVALID'] as const) {
    assert.equal(HTTP_STATUS[code], 400, code);
  }
  for (const [code, status] of Object.entries(HTTP_STATUS)) {
    assert.ok(Number.isInteger(status) && status >= 400 && status < 600, `${code}: ${status}`);
    if (status === 500) assert.equal(code, 'INTERNAL');
  }
});

test('toHttpError takes every status from the table', () => {
  const cases: Array<[unknown, number, string, boolean]> = [
    [new HttpError('ENTRY_EXISTS', 'exists'), 409, 'ENTRY_EXISTS', false],
    [new HttpError('TOKEN_MISSING', 'no token'), 401, 'TOKEN_MISSING', false],
    [new KeylessError('LOG_OVERLOADED', 'busy'), 503, 'LOG_OVERLOADED', false],
    [new KeylessError('KEY_UNSUPPORTED', 'dsa'), 400, 'KEY_UNSUPPORTED', false],
    [new VerificationError('CERTIFICATE_EXPIRED', 'expired'), 400, 'CERTIFICATE_EXPIRED', false],
    [new FormatError('body', 'bad'), 400, 'FORMAT_INVALID', false],
    // Not in the table, but a VerificationError is about the input: still 4xx.
    [new VerificationError('TLOG_SET_INVALID', 'bad set'), 400, 'TLOG_SET_INVALID', false],
    // A code no service answers is an internal error; its message is not revealed.
    [new KeylessError('LOG_WRITE_FAILED', 'disk gone'), 500, 'INTERNAL', true],
    [new KeylessError('INTERNAL', 'secret'), 500, 'INTERNAL', true],
    [new Error('boom'), 500, 'INTERNAL', true],
    [Object.assign(new Error('bad url'), { code: 'FST_ERR_BAD_URL', statusCode: 400 }), 400, 'REQUEST_INVALID', false],
    [Object.assign(new Error('too big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), 413, 'BODY_TOO_LARGE', false],
  ];
  for (const [error, status, code, internal] of cases) {
    const r = toHttpError(error);
    assert.deepEqual([r.status, r.body.code, r.internal], [status, code, internal], String((error as Error).message));
    if (internal) assert.equal(r.body.message, 'internal error');
  }
});
