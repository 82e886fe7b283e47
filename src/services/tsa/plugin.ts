// RFC 3161 timestamp authority, wire-compatible with sigstore/timestamp-authority:
// POST /api/v1/timestamp (DER `application/timestamp-query` or the JSON form) and
// GET /api/v1/timestamp/certchain.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { KeylessError } from '../../core/errors.js';
import { pemEncode } from '../../core/encoding.js';
import type { Certificate } from '../../x509/index.js';
import { OID } from '../../x509/index.js';
import {
  createTimestampResponse,
  parseTimestampRequest,
  timestampRequestFromJson,
  TimestampRequestError,
  type TimestampRequest,
  type TimestampSigner,
} from '../../x509/build/index.js';
import { HttpError, type HttpStatusCode } from '../http/index.js';

export interface TsaServiceOptions {
  /** The timestamp signing certificate and its key. */
  signer: TimestampSigner;
  /** Signing certificate first, root last (served by /certchain and listed in trusted_root.json). */
  chain: readonly Certificate[];
  /** Policy OID put in tokens when the request names none (default 1.3.6.1.4.1.57264.2). */
  defaultPolicy?: string;
  /** Policies a request may ask for (default: only the default policy). */
  acceptedPolicies?: readonly string[];
  /** Embed the issuing chain after the leaf when certReq is set (default false, as Sigstore's TSA). */
  includeChainInResponse?: boolean;
  /** HTTP status of a granted timestamp (the Sigstore TSA answers 200 unless `--use-http-201`). */
  successStatus?: 200 | 201;
  /** Clock, for tests. */
  now?: () => Date;
}

/** Largest request accepted; the Sigstore TSA caps JSON requests near 1 KiB. */
export const TSA_MAX_REQUEST_BYTES = 10 * 1024;

const QUERY_TYPE = 'application/timestamp-query';
const REPLY_TYPE = 'application/timestamp-reply';

function badRequest(code: HttpStatusCode, message: string): HttpError {
  return new HttpError(code, message);
}

/**
 * Validates the JSON form: `{artifactHash, hashAlgorithm, nonce?, certificates?, tsaPolicyOID?}`.
 * Unknown fields are ignored, as the Go server's JSON decoding does.
 */
function requestFromJsonBody(body: unknown): TimestampRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('REQUEST_INVALID', 'body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.artifactHash !== 'string' || b.artifactHash === '')
    throw badRequest('REQUEST_INVALID', 'artifactHash must be a base64 string');
  if (typeof b.hashAlgorithm !== 'string') throw badRequest('REQUEST_INVALID', 'hashAlgorithm must be a string');
  if (b.certificates !== undefined && typeof b.certificates !== 'boolean')
    throw badRequest('REQUEST_INVALID', 'certificates must be a boolean');
  if (b.tsaPolicyOID !== undefined && (typeof b.tsaPolicyOID !== 'string' || !/^\d+(\.\d+)+$/.test(b.tsaPolicyOID))) {
    throw badRequest('REQUEST_INVALID', 'tsaPolicyOID must be a dotted OID');
  }
  let nonce: bigint | undefined;
  if (b.nonce !== undefined && b.nonce !== null) {
    if (typeof b.nonce === 'number' && Number.isInteger(b.nonce) && b.nonce >= 0) nonce = BigInt(b.nonce);
    else if (typeof b.nonce === 'string' && /^\d{1,40}$/.test(b.nonce)) nonce = BigInt(b.nonce);
    else throw badRequest('REQUEST_INVALID', 'nonce must be a non-negative integer');
  }
  const req: Parameters<typeof timestampRequestFromJson>[0] = { artifactHash: b.artifactHash, hashAlgorithm: b.hashAlgorithm };
  if (nonce !== undefined) req.nonce = nonce;
  if (typeof b.certificates === 'boolean') req.certificates = b.certificates;
  if (typeof b.tsaPolicyOID === 'string') req.tsaPolicyOID = b.tsaPolicyOID;
  return timestampRequestFromJson(req);
}

export function tsaService(options: TsaServiceOptions): FastifyPluginAsync {
  const defaultPolicy = options.defaultPolicy ?? OID.sigstoreTsaPolicy;
  const accepted = new Set(options.acceptedPolicies ?? [defaultPolicy]);
  const chainPem = options.chain.map((c) => pemEncode('CERTIFICATE', c.der)).join('');
  const now = options.now ?? (() => new Date());
  const status = options.successStatus ?? 200;

  return async (app) => {
    app.addContentTypeParser(QUERY_TYPE, { parseAs: 'buffer', bodyLimit: TSA_MAX_REQUEST_BYTES }, (_req, body, done) => done(null, body));

    app.post('/api/v1/timestamp', { bodyLimit: TSA_MAX_REQUEST_BYTES }, async (request, reply: FastifyReply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== QUERY_TYPE && type !== 'application/json') {
        throw new HttpError('UNSUPPORTED_MEDIA_TYPE', `content type must be ${QUERY_TYPE} or application/json`);
      }
      let tsReq: TimestampRequest;
      try {
        tsReq = Buffer.isBuffer(request.body) ? parseTimestampRequest(request.body) : requestFromJsonBody(request.body);
      } catch (e) {
        if (e instanceof HttpError) throw e;
        if (e instanceof TimestampRequestError) throw badRequest(e.code, e.message);
        if (e instanceof KeylessError) throw badRequest('REQUEST_INVALID', e.message);
        throw e;
      }
      if (tsReq.hasExtensions) throw badRequest('TSA_EXTENSIONS_UNSUPPORTED', 'request extensions are not supported');
      if (tsReq.policy !== undefined && !accepted.has(tsReq.policy)) {
        throw badRequest('TSA_POLICY_UNSUPPORTED', `policy ${tsReq.policy} is not accepted`);
      }
      const der = createTimestampResponse(tsReq, options.signer, {
        now: now(),
        policy: tsReq.policy ?? defaultPolicy,
        includeChain: options.includeChainInResponse ?? false,
      });
      return reply.code(status).type(REPLY_TYPE).send(der);
    });

    app.get('/api/v1/timestamp/certchain', async (_request, reply) => reply.type('application/pem-certificate-chain').send(chainPem));
  };
}
