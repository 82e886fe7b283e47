import type { ErrorCode } from '../../core/error-codes.js';

/**
 * The one table from error code to HTTP status, used by every service's error handler
 * (via toHttpError). A code a service can answer is listed here; an unlisted code is a
 * genuine internal error and answers 500 (an unlisted FormatError/VerificationError is
 * still about the input and answers 400). test/core/error-codes.test.ts checks that
 * every code of the input-checking components is listed with a 4xx.
 */
export const HTTP_STATUS = {
  // core
  FORMAT_INVALID: 400,
  KEY_UNSUPPORTED: 400,
  PUBLIC_KEY_INVALID: 400,
  SIGNATURE_INVALID: 400,
  INTERNAL: 500,

  // merkle: proofs and notes a request carries or asks for
  INCLUSION_PROOF_INVALID: 400,
  CONSISTENCY_PROOF_INVALID: 400,
  PROOF_PARAMETER_INVALID: 400,
  NOTE_SIGNATURE_MISSING: 400,
  NOTE_SIGNATURE_INVALID: 400,

  // x509: submitted certificates, chains and timestamp requests
  CERTIFICATE_AUTHORITY_NOT_VALID: 400,
  CERTIFICATE_CHAIN_UNTRUSTED: 400,
  CERTIFICATE_EKU_MISSING: 400,
  CERTIFICATE_EXPIRED: 400,
  CERTIFICATE_NOT_YET_VALID: 400,
  CERTIFICATE_KEY_USAGE: 400,
  CERTIFICATE_LEAF_IS_CA: 400,
  CERTIFICATE_NOT_CA: 400,
  CERTIFICATE_PATH_LENGTH: 400,
  CERTIFICATE_SIGNATURE_INVALID: 400,
  CERTIFICATE_UNHANDLED_CRITICAL_EXTENSION: 400,
  SIGNATURE_ALGORITHM_UNSUPPORTED: 400,
  SCT_MISSING: 400,
  SCT_SIGNATURE_INVALID: 400,
  SCT_THRESHOLD: 400,
  TIMESTAMP_ATTRIBUTE_INVALID: 400,
  TIMESTAMP_AUTHORITY_UNTRUSTED: 400,
  TIMESTAMP_EKU_MISSING: 400,
  TIMESTAMP_HASH_UNSUPPORTED: 400,
  TIMESTAMP_IMPRINT_MISMATCH: 400,
  TIMESTAMP_MESSAGE_DIGEST_MISMATCH: 400,
  TIMESTAMP_NOT_GRANTED: 400,
  TIMESTAMP_OUTSIDE_AUTHORITY_VALIDITY: 400,
  TIMESTAMP_SIGNATURE_INVALID: 400,
  TIMESTAMP_SIGNING_CERTIFICATE_MISMATCH: 400,
  TIMESTAMP_SIGNING_CERTIFICATE_MISSING: 400,
  TSA_DIGEST_LENGTH: 400,
  TSA_WEAK_HASH: 400,

  // oidc: identity tokens presented to the CA
  TOKEN_MISSING: 401,
  TOKEN_MALFORMED: 400,
  TOKEN_ISSUER_UNKNOWN: 400,
  TOKEN_ISSUER_MISMATCH: 400,
  TOKEN_DISCOVERY_FAILED: 502, // the issuer's discovery document or key set could not be fetched: upstream, not the client
  TOKEN_DISCOVERY_TIMEOUT: 504, // the issuer did not answer in time
  TOKEN_ALG_NONE: 400,
  TOKEN_ALG_NOT_ALLOWED: 400,
  TOKEN_UNKNOWN_KEY: 400,
  TOKEN_SIGNATURE_INVALID: 400,
  TOKEN_AUDIENCE_MISMATCH: 400,
  TOKEN_EXPIRED: 400,
  TOKEN_NOT_YET_VALID: 400,
  TOKEN_CLAIM_MISSING: 400,
  TOKEN_CLAIM_INVALID: 400,
  TOKEN_EMAIL_NOT_VERIFIED: 400,
  TOKEN_SUBJECT_INVALID: 400,

  // log: back-pressure and out-of-range reads (other log codes are internal)
  LOG_CLOSED: 503,
  LOG_OVERLOADED: 503,
  LOG_STORAGE_UNAVAILABLE: 503,
  TLOG_VERIFY_WORKER_FAILED: 503,
  LOG_INDEX_OUT_OF_RANGE: 400,
  LOG_SIZE_OUT_OF_RANGE: 400,

  // http
  REQUEST_INVALID: 400,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_FOUND: 404,

  // ca
  CA_NOT_VALID: 503,
  CSR_INVALID: 400,
  CSR_SIGNATURE_INVALID: 400,
  POP_MISSING: 400,
  POP_INVALID: 400,
  CT_LOG_UNAVAILABLE: 502,
  CT_LOG_TIMEOUT: 504,
  CT_LOG_REFUSED: 502,
  CT_LOG_BAD_RESPONSE: 502,

  // ctlog
  CT_CHAIN_EMPTY: 400,
  CT_CHAIN_TOO_LONG: 400,
  CT_CERTIFICATE_INVALID: 400,
  CT_CERTIFICATE_EXPIRED: 400,
  CT_CHAIN_INVALID: 400,
  CT_CHAIN_UNTRUSTED: 400,
  CT_IS_PRECERTIFICATE: 400,
  CT_NOT_PRECERTIFICATE: 400,
  CT_PRECERT_SIGNING_CERT_UNSUPPORTED: 400,
  CT_HASH_INVALID: 400,
  CT_LEAF_NOT_FOUND: 404,
  CT_TREE_SIZE_INVALID: 400,
  CT_RANGE_INVALID: 400,

  // tlog
  ENTRY_EXISTS: 409,
  LOG_SHARD_RETIRED: 403,
  ENTRY_NOT_FOUND: 404,
  TREE_NOT_FOUND: 404,
  TILE_NOT_FOUND: 404,
  HASH_ALGORITHM_UNSUPPORTED: 400,
  KEY_DETAILS_MISMATCH: 400,
  TLOG_ENTRY_TOO_LARGE: 400,
  TLOG_TILE_UNAVAILABLE: 503, // an alarm: the published tree has an entry no bundle can hold

  // tsa
  TSA_EXTENSIONS_UNSUPPORTED: 400,
  TSA_POLICY_UNSUPPORTED: 400,

  // tuf: the repository is read-only files
  TUF_NOT_FOUND: 404,

  // idp (OAuth errors are 400, RFC 6749 §5.2)
  TOO_MANY_PENDING_CODES: 429,
  invalid_request: 400,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  authorization_pending: 400,
  expired_token: 400,
} as const satisfies Partial<Record<ErrorCode, number>>;

export type HttpStatusCode = keyof typeof HTTP_STATUS;

/** The status a service answers for `code`, or undefined for codes no service answers. */
export function httpStatusOf(code: ErrorCode): number | undefined {
  return (HTTP_STATUS as Partial<Record<ErrorCode, number>>)[code];
}
