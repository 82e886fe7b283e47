import { randomBytes } from 'node:crypto';
import { base64Encode } from '../core/encoding.js';
import { sha256 } from '../core/hash.js';
import { callService, serviceName, type CallPolicy, DEFAULT_CALL_POLICY } from './http.js';
import { ServiceError } from './errors.js';
import { parseTimestampResponse, DIGEST_BY_OID } from '../x509/index.js';

/** The answer is granted, stamps our imprint, and echoes our nonce (no replayed or foreign token). */
export function checkTimestampResponse(der: Buffer, imprint: Buffer, nonce: number, service: string): void {
  let status: number;
  let token;
  try {
    ({ status, token } = parseTimestampResponse(der));
  } catch (e) {
    throw new ServiceError('SERVICE_BAD_RESPONSE', service, `answer is not a valid TimeStampResp (${(e as Error).message})`, { cause: e });
  }
  if ((status !== 0 && status !== 1) || !token)
    throw new ServiceError('TIMESTAMP_NOT_GRANTED', service, `refused the timestamp (status ${status})`);
  const info = token.tstInfo;
  if (DIGEST_BY_OID[info.hashAlgorithm] !== 'sha256' || !info.hashedMessage.equals(imprint)) {
    throw new ServiceError('TIMESTAMP_IMPRINT_MISMATCH', service, "stamped a different message imprint than the signature's SHA-256", {
      check: 'timestamp.imprint',
    });
  }
  if (!info.nonce || BigInt(`0x${info.nonce.toString('hex') || '0'}`) !== BigInt(nonce)) {
    throw new ServiceError('TIMESTAMP_NONCE_MISMATCH', service, 'answer does not echo the request nonce', { check: 'timestamp.nonce' });
  }
}

/**
 * RFC 3161 timestamp over the signature bytes (never the artifact), requested in the JSON
 * form Sigstore's TSA and ours accept, with a nonce. Returns the DER TimeStampResp, which
 * is what a bundle's `signedTimestamp` carries.
 */
export async function requestTimestamp(tsaUrl: string, signature: Uint8Array, policy: CallPolicy = DEFAULT_CALL_POLICY): Promise<Buffer> {
  const service = serviceName('TSA', tsaUrl);
  // A SigningConfig carries the full URL; a bare origin gets the standard path.
  const url = new URL(tsaUrl).pathname === '/' ? `${tsaUrl.replace(/\/+$/, '')}/api/v1/timestamp` : tsaUrl;
  const nonce = randomBytes(6).readUIntBE(0, 6);
  const imprint = sha256(signature);
  const res = await callService(
    {
      service,
      url,
      headers: { 'Content-Type': 'application/json', Accept: 'application/timestamp-reply' },
      body: JSON.stringify({ artifactHash: base64Encode(imprint), hashAlgorithm: 'sha256', nonce, certificates: false }),
    },
    policy,
  );
  checkTimestampResponse(res.body, imprint, nonce, service);
  return res.body;
}
