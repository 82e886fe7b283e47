// hashedrekord 0.0.1 (sigstore/rekor pkg/types/hashedrekord/v0.0.1): a signature over
// an artifact digest, with the certificate or key that made it.
import { base64Encode } from '../../core/encoding.js';
import { canonicalBytes } from '../../core/canonical-json.js';
import { asObject } from '../../core/json.js';
import { nonEmptyBase64, readRekorHash, strictKeys, type RekorHash } from './common.js';

export interface HashedRekordV001 {
  kind: 'hashedrekord';
  apiVersion: '0.0.1';
  hash: RekorHash;
  signature: Buffer;
  /** The PEM text (certificate or public key) as bytes: what `publicKey.content` encodes. */
  publicKey: Buffer;
}

/** The proposed entry carries what the stored body does. */
export type HashedRekordV001Proposed = HashedRekordV001;

/** The spec of a canonical hashedrekord 0.0.1 body. */
export function parseHashedRekordV001Body(spec: Record<string, unknown>, at: string): HashedRekordV001 {
  return { kind: 'hashedrekord', apiVersion: '0.0.1', ...readHashedRekordSpec(spec, at, true) };
}

/** The spec of a proposed hashedrekord 0.0.1 entry. */
export function parseHashedRekordV001Proposed(spec: Record<string, unknown>): HashedRekordV001Proposed {
  return { kind: 'hashedrekord', apiVersion: '0.0.1', ...readHashedRekordSpec(spec, 'spec', false) };
}

/**
 * The spec of a hashedrekord 0.0.1 body (`strict`: unknown keys rejected, algorithm
 * required) or proposed entry (unknown keys ignored, algorithm defaults to sha256).
 */
function readHashedRekordSpec(
  spec: Record<string, unknown>,
  at: string,
  strict: boolean,
): { hash: RekorHash; signature: Buffer; publicKey: Buffer } {
  const data = asObject(spec.data, `${at}.data`);
  const sig = asObject(spec.signature, `${at}.signature`);
  const pk = asObject(sig.publicKey, `${at}.signature.publicKey`);
  if (strict) {
    strictKeys(spec, at, ['data', 'signature']);
    strictKeys(data, `${at}.data`, ['hash']);
    strictKeys(sig, `${at}.signature`, ['content', 'publicKey']);
    strictKeys(pk, `${at}.signature.publicKey`, ['content']);
  }
  return {
    hash: readRekorHash(data.hash, `${at}.data.hash`, strict ? { strict: true } : { defaultSha256: true }),
    signature: nonEmptyBase64(sig.content, `${at}.signature.content`),
    publicKey: nonEmptyBase64(pk.content, `${at}.signature.publicKey.content`),
  };
}

export function canonicalHashedRekordV001Body(e: HashedRekordV001): Buffer {
  return canonicalBytes(hashedRekordJson(e));
}

export function serializeHashedRekordV001Proposed(e: HashedRekordV001Proposed): Record<string, unknown> {
  return hashedRekordJson(e);
}

/** hashedrekord 0.0.1: the proposed entry and the stored body have the same shape. */
function hashedRekordJson(e: {
  apiVersion: string;
  kind: string;
  hash: RekorHash;
  signature: Buffer;
  publicKey: Buffer;
}): Record<string, unknown> {
  return {
    apiVersion: e.apiVersion,
    kind: e.kind,
    spec: {
      data: { hash: { algorithm: e.hash.algorithm, value: e.hash.value } },
      signature: { content: base64Encode(e.signature), publicKey: { content: base64Encode(e.publicKey) } },
    },
  };
}

export function buildHashedRekordV001(input: {
  hash: RekorHash;
  signature: Uint8Array;
  publicKeyPem: string | Uint8Array;
}): HashedRekordV001 {
  return {
    kind: 'hashedrekord',
    apiVersion: '0.0.1',
    hash: { algorithm: input.hash.algorithm, value: input.hash.value.toLowerCase() },
    signature: Buffer.from(input.signature),
    publicKey: Buffer.from(input.publicKeyPem),
  };
}
