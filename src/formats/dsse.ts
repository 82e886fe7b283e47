// DSSE envelopes (secure-systems-lab/dsse; envelope.proto) and the pre-authentication
// encoding that DSSE signatures cover.
import type { Envelope, Signature as EnvelopeSignature } from '@sigstore/protobuf-specs';
import { FormatError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import { MessageReader, b64, readList, type ReadOptions } from './protojson.js';

export type { Envelope, EnvelopeSignature };

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN in bytes. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const head = Buffer.from(`DSSEv1 ${type.length} `, 'utf8');
  const mid = Buffer.from(` ${payload.byteLength} `, 'utf8');
  return Buffer.concat([head, type, mid, payload]);
}

export interface EnvelopeReadOptions extends ReadOptions {
  /** Bundles carry exactly one signature; a bare envelope may carry several. */
  exactlyOneSignature?: boolean;
}

export function readEnvelope(v: unknown, path: string, o: EnvelopeReadOptions = {}): Envelope {
  const m = new MessageReader(v, path, ['payload', 'payloadType', 'signatures'], o);
  const payload = m.bytes('payload', { required: true });
  const payloadType = m.string('payloadType', { required: true });
  const signatures = readList(m, 'signatures', (x, p) => {
    const s = new MessageReader(x, p, ['sig', 'keyid'], o);
    return { sig: s.bytes('sig', { required: true }), keyid: s.string('keyid') };
  });
  if (signatures.length === 0) throw new FormatError(m.at('signatures'), 'must contain a signature', { check: 'required' });
  if (o.exactlyOneSignature && signatures.length !== 1) {
    throw new FormatError(m.at('signatures'), `must contain exactly one signature, got ${signatures.length}`, { check: 'count' });
  }
  return { payload, payloadType, signatures };
}

/** Parses a DSSE envelope from JSON text, bytes or an already parsed value. */
export function parseEnvelope(input: string | Uint8Array | unknown, o: EnvelopeReadOptions = {}): Envelope {
  const v = typeof input === 'string' || input instanceof Uint8Array ? parseJson(input, 'envelope') : input;
  return readEnvelope(v, '', o);
}

/** The envelope as JSON (protojson field order; `keyid` only when non-empty). */
export function serializeEnvelope(e: Envelope): Record<string, unknown> {
  return {
    payload: b64(e.payload),
    payloadType: e.payloadType,
    signatures: e.signatures.map((s) => (s.keyid ? { sig: b64(s.sig), keyid: s.keyid } : { sig: b64(s.sig) })),
  };
}
