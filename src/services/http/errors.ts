import { FormatError, KeylessError, VerificationError } from '../../core/errors.js';

/** An error a service answers with a chosen HTTP status; `code` is stable, `message` names the problem. */
export class HttpError extends KeylessError {
  readonly status: number;
  constructor(status: number, code: string, message: string, details: { check?: string; cause?: unknown } = {}) {
    super(code, message, details);
    this.name = 'HttpError';
    this.status = status;
  }
}

export interface ErrorBody {
  code: string;
  message: string;
}

/** Fastify's own error codes for malformed requests, mapped to our stable codes. */
const FRAMEWORK_ERRORS: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'BODY_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_CONTENT_LENGTH' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'EMPTY_BODY' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'INVALID_JSON' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_VALIDATION: { status: 400, code: 'INVALID_REQUEST' },
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_URL' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'BAD_REQUEST' },
};

/**
 * Turns any thrown value into a status and a JSON body. Input problems are 4xx with
 * their own message; anything unexpected is a 500 whose message reveals nothing internal.
 */
export function toHttpError(e: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (e instanceof HttpError) return { status: e.status, body: { code: e.code, message: e.message }, internal: false };
  if (e instanceof FormatError || e instanceof VerificationError) {
    return { status: 400, body: { code: e.code, message: e.message }, internal: false };
  }
  if (e instanceof KeylessError && e.code === 'KEY_UNSUPPORTED') {
    return { status: 400, body: { code: e.code, message: e.message }, internal: false };
  }
  const fe = e as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof fe?.code === 'string') {
    const known = FRAMEWORK_ERRORS[fe.code];
    if (known) return { status: known.status, body: { code: known.code, message: String(fe.message) }, internal: false };
  }
  // Errors fastify raised itself for a bad request (e.g. a body parser failure) carry a 4xx statusCode.
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { code: 'BAD_REQUEST', message: String(fe.message) }, internal: false };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error' }, internal: true };
}
