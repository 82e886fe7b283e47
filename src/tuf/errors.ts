import { KeylessError, type KeylessErrorDetails } from '../core/errors.js';
import type { TufErrorCode } from '../core/error-codes.js';

export type { TufErrorCode } from '../core/error-codes.js';

export class TufError extends KeylessError {
  declare readonly code: TufErrorCode;
  /** The TUF role (root, timestamp, snapshot, targets) or target the problem is about. */
  readonly role: string | undefined;
  constructor(code: TufErrorCode, message: string, details: KeylessErrorDetails & { role?: string } = {}) {
    super(code, message, { check: details.check ?? (details.role ? `tuf-${details.role}` : 'tuf'), ...details });
    this.name = 'TufError';
    this.role = details.role;
  }
}
