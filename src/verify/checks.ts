// Every verification step records what it checked, with the expected and actual
// values, so the `--json` report and the one-line failure come from the same data.
import { VerificationError, isKeylessError } from '../core/errors.js';
import type { ErrorCode } from '../core/error-codes.js';

/** Stable error codes of the verifier; each names the kind of check that failed. */
export const VerifyCode = {
  TRUSTED_ROOT_INVALID: 'TRUSTED_ROOT_INVALID',
  POLICY_INVALID: 'POLICY_INVALID',
  TIMESTAMP_INVALID: 'TIMESTAMP_INVALID',
  TIMESTAMP_MISSING: 'TIMESTAMP_MISSING',
  CERTIFICATE_INVALID: 'CERTIFICATE_INVALID',
  CERTIFICATE_ROOT_IN_BUNDLE: 'CERTIFICATE_ROOT_IN_BUNDLE',
  CERTIFICATE_UNTRUSTED: 'CERTIFICATE_UNTRUSTED',
  CERTIFICATE_NOT_VALID_AT_TIME: 'CERTIFICATE_NOT_VALID_AT_TIME',
  SCT_INVALID: 'SCT_INVALID',
  TLOG_UNKNOWN_LOG: 'TLOG_UNKNOWN_LOG',
  TLOG_SET_INVALID: 'TLOG_SET_INVALID',
  TLOG_CHECKPOINT_INVALID: 'TLOG_CHECKPOINT_INVALID',
  TLOG_INCLUSION_INVALID: 'TLOG_INCLUSION_INVALID',
  TLOG_INCLUSION_MISSING: 'TLOG_INCLUSION_MISSING',
  TLOG_BODY_MISMATCH: 'TLOG_BODY_MISMATCH',
  TLOG_DUPLICATE: 'TLOG_DUPLICATE',
  TLOG_THRESHOLD: 'TLOG_THRESHOLD',
  TLOG_KEY_NOT_VALID_AT_TIME: 'TLOG_KEY_NOT_VALID_AT_TIME',
  DIGEST_MISMATCH: 'DIGEST_MISMATCH',
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  SUBJECT_MISMATCH: 'SUBJECT_MISMATCH',
  KEY_REQUIRED: 'KEY_REQUIRED',
  KEY_MISMATCH: 'KEY_MISMATCH',
  POLICY_IDENTITY_MISMATCH: 'POLICY_IDENTITY_MISMATCH',
  POLICY_ISSUER_MISMATCH: 'POLICY_ISSUER_MISMATCH',
  POLICY_EXTENSION_MISMATCH: 'POLICY_EXTENSION_MISMATCH',
  PAYLOAD_TYPE_MISMATCH: 'PAYLOAD_TYPE_MISMATCH',
} as const satisfies Record<string, ErrorCode>;
export type VerifyCode = (typeof VerifyCode)[keyof typeof VerifyCode];

export interface CheckResult {
  /** Stable dotted name of the check, e.g. `certificate.chain`, `tlog[0].inclusion-proof`. */
  check: string;
  ok: boolean;
  expected?: unknown;
  actual?: unknown;
  detail?: string;
  code?: ErrorCode;
}

/** Collects the results of one verification run. */
export class CheckLog {
  readonly results: CheckResult[] = [];

  pass(check: string, expected?: unknown, actual?: unknown, detail?: string): void {
    this.results.push({ check, ok: true, expected, actual, detail });
  }

  /** Records the failure and throws it as a VerificationError. */
  fail(code: VerifyCode, check: string, message: string, expected?: unknown, actual?: unknown): never {
    this.results.push({ check, ok: false, expected, actual, detail: message, code });
    throw new VerificationError(code, `${check}: ${message}`, { check, expected: display(expected), actual: display(actual) });
  }

  /** Records an error thrown by a primitive (format or crypto) against the current check. */
  record(check: string, e: unknown): void {
    const code = isKeylessError(e) ? e.code : 'INTERNAL';
    this.results.push({
      check,
      ok: false,
      code,
      detail: (e as Error)?.message ?? String(e),
      expected: isKeylessError(e) ? e.expected : undefined,
      actual: isKeylessError(e) ? e.actual : undefined,
    });
  }
}

/** Values as they appear in reports: bytes as hex (shortened), dates as ISO strings. */
export function display(value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'invalid date' : value.toISOString();
  if (value instanceof Uint8Array) {
    const hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
    return hex.length > 132 ? `${hex.slice(0, 128)}…(${value.byteLength} bytes)` : hex;
  }
  if (Array.isArray(value)) return value.map(display);
  if (typeof value === 'string' && value.length > 300) return `${value.slice(0, 300)}…`;
  return value;
}

/** A failure as plain data, safe to post between threads (a structured clone keeps no class): its code, message, check, expected and actual. */
export interface ErrorRecord {
  code: ErrorCode;
  message: string;
  check?: string | undefined;
  expected?: unknown;
  actual?: unknown;
}

/** The ErrorRecord of any thrown value: a KeylessError keeps its code and details; anything else is INTERNAL. */
export function errorRecord(e: unknown): ErrorRecord {
  if (isKeylessError(e)) return { code: e.code, message: e.message, check: e.check, expected: e.expected, actual: e.actual };
  return { code: 'INTERNAL', message: String((e as Error)?.message ?? e) };
}

/**
 * Turns an error thrown by a primitive (FormatError, a crypto helper's VerificationError)
 * into the failure of `check`, with the verifier's stable code for that check.
 */
export function failWith(log: CheckLog, code: VerifyCode, check: string, e: unknown): never {
  if (e instanceof VerificationError && e.check === check) throw e;
  const inner = isKeylessError(e) ? e : undefined;
  const message = (e as Error)?.message ?? String(e);
  return log.fail(code, check, message, inner?.expected, inner?.actual);
}
