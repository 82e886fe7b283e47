import { VerificationError } from '../core/errors.js';

/**
 * Stable codes for every way an identity token can be refused. Each names the failed
 * check; the message names the claim and the values compared.
 */
export type TokenErrorCode =
  | 'TOKEN_MALFORMED'
  | 'TOKEN_ISSUER_UNKNOWN'
  | 'TOKEN_ISSUER_MISMATCH'
  | 'TOKEN_DISCOVERY_FAILED'
  | 'TOKEN_ALG_NONE'
  | 'TOKEN_ALG_NOT_ALLOWED'
  | 'TOKEN_UNKNOWN_KEY'
  | 'TOKEN_SIGNATURE_INVALID'
  | 'TOKEN_AUDIENCE_MISMATCH'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'TOKEN_CLAIM_MISSING'
  | 'TOKEN_CLAIM_INVALID'
  | 'TOKEN_EMAIL_NOT_VERIFIED'
  | 'TOKEN_SUBJECT_INVALID';

/** A token was refused; a VerificationError so that services answer it with a 4xx. */
export class TokenError extends VerificationError {
  constructor(code: TokenErrorCode, message: string, details: { check?: string; expected?: unknown; actual?: unknown; cause?: unknown } = {}) {
    super(code, message, { check: details.check ?? code.toLowerCase().replace(/_/g, '-'), ...details });
    this.name = 'TokenError';
  }
}
