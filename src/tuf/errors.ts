import { KeylessError, type KeylessErrorDetails } from '../core/errors.js';

/** Every code the tuf component throws (to move into the error-code registry in one step). */
export const TUF_ERROR_CODES = [
  // Repository side.
  'TUF_DURATION_INVALID',
  'TUF_KEY_MISSING',
  'TUF_KEY_UNSUPPORTED',
  'TUF_REPOSITORY_INVALID',
  'TUF_REPOSITORY_MISSING',
  // Client side: what the mirror served, or what the cache holds.
  'TUF_NOT_INITIALIZED',
  'TUF_ROOT_INVALID',
  'TUF_MIRROR_INVALID',
  'TUF_MIRROR_UNREACHABLE',
  'TUF_HTTP_ERROR',
  'TUF_METADATA_MALFORMED',
  'TUF_METADATA_EXPIRED',
  'TUF_ROLLBACK',
  'TUF_VERSION_MISMATCH',
  'TUF_SIGNATURE_INVALID',
  'TUF_HASH_MISMATCH',
  'TUF_TOO_LARGE',
  'TUF_TARGET_MISSING',
  'TUF_CACHE_INVALID',
] as const;

export type TufErrorCode = (typeof TUF_ERROR_CODES)[number];

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
