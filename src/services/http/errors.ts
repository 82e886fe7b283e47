import { FormatError, KeylessError, VerificationError } from '../../core/errors.js';
import type { ErrorCode } from '../../core/error-codes.js';
import { HTTP_STATUS, httpStatusOf, type HttpStatusCode } from './status.js';

/** An error a service answers; its HTTP status comes from the one table (./status.ts). */
export class HttpError extends KeylessError {
  declare readonly code: HttpStatusCode;
  readonly status: number;
  constructor(code: HttpStatusCode, message: string, details: { check?: string; cause?: unknown } = {}) {
    super(code, message, details);
    this.name = 'HttpError';
    this.status = HTTP_STATUS[code];
  }
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** Fastify's own error codes for malformed requests, mapped to our stable codes. */
const FRAMEWORK_ERRORS: Record<string, HttpStatusCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST_INVALID',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'FORMAT_INVALID',
  FST_ERR_CTP_INVALID_JSON_BODY: 'FORMAT_INVALID',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'REQUEST_INVALID',
  FST_ERR_BAD_URL: 'REQUEST_INVALID',
  FST_ERR_ASYNC_CONSTRAINT: 'REQUEST_INVALID',
};

/**
 * Turns any thrown value into a status and a JSON body. Input problems are 4xx with
 * their own message; anything unexpected is a 500 whose message reveals nothing internal.
 */
export function toHttpError(e: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (e instanceof KeylessError) {
    const status = httpStatusOf(e.code) ?? (e instanceof FormatError || e instanceof VerificationError ? 400 : undefined);
    // A listed 5xx code (an upstream failure, an alarm) keeps its code; only INTERNAL hides the message.
    if (status !== undefined && e.code !== 'INTERNAL') return { status, body: { code: e.code, message: e.message }, internal: false };
  }
  const fe = e as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof fe?.code === 'string') {
    const known = FRAMEWORK_ERRORS[fe.code];
    if (known) return { status: HTTP_STATUS[known], body: { code: known, message: String(fe.message) }, internal: false };
  }
  // Errors fastify raised itself for a bad request (e.g. a body parser failure) carry a 4xx statusCode.
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { code: 'REQUEST_INVALID', message: String(fe.message) }, internal: false };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error' }, internal: true };
}
