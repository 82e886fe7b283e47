import { VerificationError } from '../core/errors.js';
import type { OidcErrorCode } from '../core/error-codes.js';

/**
 * Stable codes for every way an identity token can be refused (registered in
 * core/error-codes.ts). Each names the failed check; the message names the claim and
 * the values compared.
 */
export type TokenErrorCode = Exclude<OidcErrorCode, 'TOKEN_MISSING'>;

/** A token was refused; a VerificationError so that services answer it with a 4xx. */
export class TokenError extends VerificationError {
  constructor(
    code: TokenErrorCode,
    message: string,
    details: { check?: string; expected?: unknown; actual?: unknown; cause?: unknown } = {},
  ) {
    super(code, message, { check: details.check ?? code.toLowerCase().replace(/_/g, '-'), ...details });
    this.name = 'TokenError';
  }
}
