// intoto 0.0.2 (sigstore/rekor pkg/types/intoto/v0.0.2): a DSSE envelope whose base64
// strings the body holds as bytes (so base64 twice), with the public key of each signature.
import { FormatError } from '../../core/errors.js';
import { base64Encode, hexEncode } from '../../core/encoding.js';
import { canonicalBytes } from '../../core/canonical-json.js';
import { sha256 } from '../../core/hash.js';
import { asArray, asObject, asString } from '../../core/json.js';
import type { Envelope } from '../dsse.js';
import {
  MAX_REKOR_V1_DSSE_SIGNATURES,
  doubleBase64,
  doubleBase64Decode,
  nonEmptyBase64,
  readRekorHash,
  requireAtMost,
  strictKeys,
  type RekorHash,
} from './common.js';

export interface IntotoV002Signature {
  /** The raw signature bytes (the body holds base64 of their base64). */
  sig: Buffer;
  /** PEM bytes of the certificate or key. */
  publicKey: Buffer;
  keyid?: string;
}

export interface IntotoV002 {
  kind: 'intoto';
  apiVersion: '0.0.2';
  payloadType: string;
  /** The raw payload; older Rekor versions stored it in the body, current ones do not. */
  payload?: Buffer;
  signatures: IntotoV002Signature[];
  hash: RekorHash;
  payloadHash: RekorHash;
}

export interface IntotoV002Proposed {
  kind: 'intoto';
  apiVersion: '0.0.2';
  envelope: Envelope;
  publicKeys: Buffer[];
  keyids: string[];
}

/** The spec of a canonical intoto 0.0.2 body. */
export function parseIntotoV002Body(spec: Record<string, unknown>, at: string): IntotoV002 {
  strictKeys(spec, at, ['content']);
  const content = asObject(spec.content, `${at}.content`);
  strictKeys(content, `${at}.content`, ['envelope', 'hash', 'payloadHash']);
  const env = asObject(content.envelope, `${at}.content.envelope`);
  strictKeys(env, `${at}.content.envelope`, ['payloadType', 'payload', 'signatures']);
  const entry: IntotoV002 = {
    kind: 'intoto',
    apiVersion: '0.0.2',
    payloadType: asString(env.payloadType, `${at}.content.envelope.payloadType`),
    signatures: readIntotoSignatures(env.signatures, `${at}.content.envelope.signatures`),
    hash: readRekorHash(content.hash, `${at}.content.hash`, { strict: true }),
    payloadHash: readRekorHash(content.payloadHash, `${at}.content.payloadHash`, { strict: true }),
  };
  if (env.payload !== undefined) entry.payload = doubleBase64Decode(env.payload, `${at}.content.envelope.payload`);
  return entry;
}

function readIntotoSignatures(v: unknown, path: string): IntotoV002Signature[] {
  const list = asArray(v, path).map((s, i) => {
    const p = `${path}[${i}]`;
    const o = asObject(s, p);
    strictKeys(o, p, ['sig', 'publicKey', 'keyid']);
    const sig: IntotoV002Signature = {
      sig: doubleBase64Decode(o.sig, `${p}.sig`),
      publicKey: nonEmptyBase64(o.publicKey, `${p}.publicKey`),
    };
    if (o.keyid !== undefined && o.keyid !== '') sig.keyid = asString(o.keyid, `${p}.keyid`);
    return sig;
  });
  if (list.length === 0) throw new FormatError(path, 'must not be empty', { check: 'required' });
  return list;
}

export function canonicalIntotoV002Body(e: IntotoV002): Buffer {
  return canonicalBytes({
    apiVersion: e.apiVersion,
    kind: e.kind,
    spec: {
      content: {
        envelope: {
          payloadType: e.payloadType,
          payload: e.payload === undefined ? undefined : doubleBase64(e.payload),
          signatures: e.signatures.map((s) => ({
            sig: doubleBase64(s.sig),
            publicKey: base64Encode(s.publicKey),
            keyid: s.keyid || undefined,
          })),
        },
        hash: e.hash,
        payloadHash: e.payloadHash,
      },
    },
  });
}

/**
 * intoto 0.0.2 as current Rekor stores it (no payload in the body). `hash` is the
 * SHA-256 of the JCS of the envelope with base64 payload and signatures and PEM keys,
 * the recipe sigstore-js uses and real entries carry.
 */
export function buildIntotoV002(input: {
  envelope: Envelope;
  publicKeyPems: (string | Uint8Array)[];
  includePayload?: boolean;
}): IntotoV002 {
  const { envelope } = input;
  if (input.publicKeyPems.length !== envelope.signatures.length) {
    throw new FormatError('spec.content.envelope.signatures', 'one public key per envelope signature is needed', { check: 'count' });
  }
  const signatures = envelope.signatures.map((s, i) => {
    const sig: IntotoV002Signature = { sig: Buffer.from(s.sig), publicKey: Buffer.from(input.publicKeyPems[i]!) };
    if (s.keyid) sig.keyid = s.keyid;
    return sig;
  });
  const hashInput = {
    payloadType: envelope.payloadType,
    payload: base64Encode(envelope.payload),
    signatures: signatures.map((s) => ({ sig: base64Encode(s.sig), publicKey: s.publicKey.toString('utf8'), keyid: s.keyid })),
  };
  const entry: IntotoV002 = {
    kind: 'intoto',
    apiVersion: '0.0.2',
    payloadType: envelope.payloadType,
    signatures,
    hash: { algorithm: 'sha256', value: hexEncode(sha256(canonicalBytes(hashInput))) },
    payloadHash: { algorithm: 'sha256', value: hexEncode(sha256(envelope.payload)) },
  };
  if (input.includePayload) entry.payload = Buffer.from(envelope.payload);
  return entry;
}

/** The spec of a proposed intoto 0.0.2 entry (unknown fields ignored). */
export function parseIntotoV002Proposed(spec: Record<string, unknown>): IntotoV002Proposed {
  const content = asObject(spec.content, 'spec.content');
  const env = asObject(content.envelope, 'spec.content.envelope');
  const payloadType = asString(env.payloadType, 'spec.content.envelope.payloadType');
  const payload = doubleBase64Decode(env.payload, 'spec.content.envelope.payload');
  if (Array.isArray(env.signatures)) requireAtMost(env.signatures, MAX_REKOR_V1_DSSE_SIGNATURES, 'spec.content.envelope.signatures');
  const sigs = readIntotoSignatures(env.signatures, 'spec.content.envelope.signatures');
  return {
    kind: 'intoto',
    apiVersion: '0.0.2',
    envelope: { payloadType, payload, signatures: sigs.map((s) => ({ sig: s.sig, keyid: s.keyid ?? '' })) },
    publicKeys: sigs.map((s) => s.publicKey),
    keyids: sigs.map((s) => s.keyid ?? ''),
  };
}

export function serializeIntotoV002Proposed(e: IntotoV002Proposed): Record<string, unknown> {
  return {
    apiVersion: e.apiVersion,
    kind: e.kind,
    spec: {
      content: {
        envelope: {
          payloadType: e.envelope.payloadType,
          payload: doubleBase64(e.envelope.payload),
          signatures: e.envelope.signatures.map((s, i) => ({
            sig: doubleBase64(s.sig),
            publicKey: base64Encode(e.publicKeys[i] ?? Buffer.alloc(0)),
            ...(s.keyid ? { keyid: s.keyid } : {}),
          })),
        },
      },
    },
  };
}
