import { KeylessError, type KeylessErrorDetails } from '../core/errors.js';
import type { ErrorCode } from '../core/error-codes.js';

/**
 * A remote service (CA, transparency log, TSA, identity provider) failed or refused.
 * `service` names it (`Fulcio at https://…`), so the one-line CLI error says which.
 */
export class ServiceError extends KeylessError {
  readonly service: string;
  readonly status: number | undefined;
  constructor(code: ErrorCode, service: string, message: string, details: KeylessErrorDetails & { status?: number } = {}) {
    super(code, `${service}: ${message}`, { check: details.check ?? 'service', ...details });
    this.name = 'ServiceError';
    this.service = service;
    this.status = details.status;
  }
}

/** No identity token could be obtained (sources, logins, files). */
export class IdentityError extends KeylessError {
  constructor(code: ErrorCode, message: string, details: KeylessErrorDetails = {}) {
    super(code, message, { check: details.check ?? 'identity-token', ...details });
    this.name = 'IdentityError';
  }
}

/** Signing could not be set up (configuration, inputs, service selection). */
export class SignError extends KeylessError {
  constructor(code: ErrorCode, message: string, details: KeylessErrorDetails = {}) {
    super(code, message, details);
    this.name = 'SignError';
  }
}
