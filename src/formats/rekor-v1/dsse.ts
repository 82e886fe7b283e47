// dsse 0.0.1 (sigstore/rekor pkg/types/dsse/v0.0.1): a DSSE envelope recorded by the
// hashes of the envelope and its payload, with the verifier of each signature.
import { FormatError } from '../../core/errors.js';
import { base64Encode, hexEncode } from '../../core/encoding.js';
import { canonicalBytes } from '../../core/canonical-json.js';
import { sha256 } from '../../core/hash.js';
import { asArray, asObject, asString, parseJson } from '../../core/json.js';
import { readEnvelope, type Envelope } from '../dsse.js';
import {
  MAX_REKOR_V1_DSSE_SIGNATURES,
  MAX_REKOR_V1_DSSE_VERIFIERS,
  nonEmptyBase64,
  readRekorHash,
  requireAtMost,
  strictKeys,
  type RekorHash,
} from './common.js';

export interface DsseV001Signature {
  /** The base64 signature string exactly as in the envelope. */
  signature: string;
  /** PEM bytes of the certificate or key that verified it. */
  verifier: Buffer;
}

export interface DsseV001 {
  kind: 'dsse';
  apiVersion: '0.0.1';
  envelopeHash: RekorHash;
  payloadHash: RekorHash;
  signatures: DsseV001Signature[];
}

export interface DsseV001Proposed {
  kind: 'dsse';
  apiVersion: '0.0.1';
  envelopeText: string;
  envelope: Envelope;
  verifiers: Buffer[];
}

/** The spec of a canonical dsse 0.0.1 body. */
export function parseDsseV001Body(spec: Record<string, unknown>, at: string): DsseV001 {
  strictKeys(spec, at, ['envelopeHash', 'payloadHash', 'signatures']);
  const signatures = asArray(spec.signatures, `${at}.signatures`).map((s, i) => {
    const p = `${at}.signatures[${i}]`;
    const o = asObject(s, p);
    strictKeys(o, p, ['signature', 'verifier']);
    const signature = asString(o.signature, `${p}.signature`);
    nonEmptyBase64(signature, `${p}.signature`);
    return { signature, verifier: nonEmptyBase64(o.verifier, `${p}.verifier`) };
  });
  if (signatures.length === 0) throw new FormatError(`${at}.signatures`, 'must not be empty', { check: 'required' });
  return {
    kind: 'dsse',
    apiVersion: '0.0.1',
    envelopeHash: readRekorHash(spec.envelopeHash, `${at}.envelopeHash`, { strict: true }),
    payloadHash: readRekorHash(spec.payloadHash, `${at}.payloadHash`, { strict: true }),
    signatures,
  };
}

export function canonicalDsseV001Body(e: DsseV001): Buffer {
  return canonicalBytes({
    apiVersion: e.apiVersion,
    kind: e.kind,
    spec: {
      envelopeHash: e.envelopeHash,
      payloadHash: e.payloadHash,
      signatures: [...e.signatures]
        .sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0))
        .map((s) => ({ signature: s.signature, verifier: base64Encode(s.verifier) })),
    },
  });
}

/**
 * dsse 0.0.1 as Rekor records it: hashes of the envelope text exactly as submitted
 * and of the payload, one {signature, verifier} per envelope signature (sorted when
 * serialized). `verifiers[i]` is the PEM that verified `envelope.signatures[i]`.
 */
export function buildDsseV001(input: { envelopeText: string; envelope: Envelope; verifierPems: (string | Uint8Array)[] }): DsseV001 {
  if (input.verifierPems.length !== input.envelope.signatures.length) {
    throw new FormatError('spec.proposedContent.verifiers', 'one verifier per envelope signature is needed', { check: 'count' });
  }
  return {
    kind: 'dsse',
    apiVersion: '0.0.1',
    envelopeHash: { algorithm: 'sha256', value: hexEncode(sha256(Buffer.from(input.envelopeText, 'utf8'))) },
    payloadHash: { algorithm: 'sha256', value: hexEncode(sha256(input.envelope.payload)) },
    signatures: input.envelope.signatures.map((s, i) => ({
      signature: base64Encode(s.sig),
      verifier: Buffer.from(input.verifierPems[i]!),
    })),
  };
}

/** The spec of a proposed dsse 0.0.1 entry (unknown fields ignored). */
export function parseDsseV001Proposed(spec: Record<string, unknown>): DsseV001Proposed {
  const pc = asObject(spec.proposedContent, 'spec.proposedContent');
  const envelopeText = asString(pc.envelope, 'spec.proposedContent.envelope');
  const envelopeJson = parseJson(envelopeText, 'spec.proposedContent.envelope');
  const rawSignatures = (envelopeJson as { signatures?: unknown } | null)?.signatures;
  if (Array.isArray(rawSignatures)) requireAtMost(rawSignatures, MAX_REKOR_V1_DSSE_SIGNATURES, 'spec.proposedContent.envelope.signatures');
  const envelope = readEnvelope(envelopeJson, 'spec.proposedContent.envelope', { ignoreUnknownFields: true });
  const verifierList = asArray(pc.verifiers, 'spec.proposedContent.verifiers');
  requireAtMost(verifierList, MAX_REKOR_V1_DSSE_VERIFIERS, 'spec.proposedContent.verifiers');
  const verifiers = verifierList.map((v, i) => nonEmptyBase64(v, `spec.proposedContent.verifiers[${i}]`));
  if (verifiers.length === 0) throw new FormatError('spec.proposedContent.verifiers', 'must not be empty', { check: 'required' });
  return { kind: 'dsse', apiVersion: '0.0.1', envelopeText, envelope, verifiers };
}

export function serializeDsseV001Proposed(e: DsseV001Proposed): Record<string, unknown> {
  return {
    apiVersion: e.apiVersion,
    kind: e.kind,
    spec: { proposedContent: { envelope: e.envelopeText, verifiers: e.verifiers.map((v) => base64Encode(v)) } },
  };
}
