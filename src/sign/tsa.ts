import { randomBytes } from 'node:crypto';
import { base64Encode } from '../core/encoding.js';
import { sha256 } from '../core/hash.js';
import { callService, serviceName, type CallPolicy, DEFAULT_CALL_POLICY } from './http.js';
import { ServiceError } from './errors.js';

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
  const res = await callService({
    service,
    url,
    headers: { 'Content-Type': 'application/json', Accept: 'application/timestamp-reply' },
    body: JSON.stringify({ artifactHash: base64Encode(sha256(signature)), hashAlgorithm: 'sha256', nonce, certificates: false }),
  }, policy);
  if (res.body.length < 8 || res.body[0] !== 0x30) {
    throw new ServiceError('SERVICE_BAD_RESPONSE', service, 'answer is not a DER TimeStampResp');
  }
  return res.body;
}
