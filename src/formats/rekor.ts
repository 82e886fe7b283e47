// Rekor entry bodies of both API generations behind one parser: the body's kind and
// apiVersion select the type (Rekor v1: hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2;
// Rekor v2: hashedrekord 0.0.2, dsse 0.0.2).
import { FormatError } from '../core/errors.js';
import { asObject, parseJson } from '../core/json.js';
import { canonicalRekorV1Body, parseRekorV1Body, unsupportedKind, type RekorV1Entry } from './rekor-v1/index.js';
import { canonicalRekorV2Body, parseRekorV2Body, type RekorV2Entry } from './rekor-v2.js';

export type RekorEntry = RekorV1Entry | RekorV2Entry;

/** Parses a canonicalized body (bytes, as in a bundle's `canonicalizedBody`). */
export function parseRekorEntryBody(body: Uint8Array | string, field = 'canonicalizedBody'): RekorEntry {
  const json = asObject(parseJson(body, field), field);
  const key = `${String(json.kind)}/${String(json.apiVersion)}`;
  switch (key) {
    case 'hashedrekord/0.0.1':
    case 'dsse/0.0.1':
    case 'intoto/0.0.2':
      return parseRekorV1Body(json, field);
    case 'hashedrekord/0.0.2':
    case 'dsse/0.0.2':
      return parseRekorV2Body(json, field);
    default:
      throw unsupportedKind(json, field);
  }
}

/** The canonical body bytes of an entry of either generation. */
export function canonicalRekorBody(e: RekorEntry): Buffer {
  return e.apiVersion === '0.0.2' && (e.kind === 'hashedrekord' || e.kind === 'dsse')
    ? canonicalRekorV2Body(e as RekorV2Entry)
    : canonicalRekorV1Body(e as RekorV1Entry);
}

/** True when the body bytes are exactly the canonical form of what they describe. */
export function isCanonicalRekorBody(body: Uint8Array): boolean {
  try {
    return Buffer.from(body).equals(canonicalRekorBody(parseRekorEntryBody(body)));
  } catch (e) {
    if (e instanceof FormatError) return false;
    throw e;
  }
}
