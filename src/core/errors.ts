import type { ErrorCode } from './error-codes.js';

/**
 * One error base for the whole project. `code` is stable and machine-readable;
 * `check` names the verification step or validation that failed; `expected` and
 * `actual` are filled where a comparison failed, so messages and JSON reports
 * come from the same data.
 */
export interface KeylessErrorDetails {
  check?: string;
  expected?: unknown;
  actual?: unknown;
  cause?: unknown;
}

export class KeylessError extends Error {
  readonly code: ErrorCode;
  readonly check: string | undefined;
  readonly expected: unknown;
  readonly actual: unknown;

  constructor(code: ErrorCode, message: string, details: KeylessErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'KeylessError';
    this.code = code;
    this.check = details.check;
    this.expected = details.expected;
    this.actual = details.actual;
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.check !== undefined) out.check = this.check;
    if (this.expected !== undefined) out.expected = this.expected;
    if (this.actual !== undefined) out.actual = this.actual;
    return out;
  }
}

/** Malformed input: a field is missing, has the wrong type, or cannot be decoded. */
export class FormatError extends KeylessError {
  readonly field: string;
  constructor(field: string, message: string, details: KeylessErrorDetails = {}) {
    super('FORMAT_INVALID', `${field}: ${message}`, { check: details.check ?? 'format', ...details });
    this.name = 'FormatError';
    this.field = field;
  }
}

/** A cryptographic or policy check failed on well-formed input. */
export class VerificationError extends KeylessError {
  constructor(code: ErrorCode, message: string, details: KeylessErrorDetails = {}) {
    super(code, message, details);
    this.name = 'VerificationError';
  }
}

export function isKeylessError(e: unknown): e is KeylessError {
  return e instanceof KeylessError;
}
