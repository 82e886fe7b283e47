// Rekor v1 entry types (sigstore/rekor pkg/types): hashedrekord 0.0.1, dsse 0.0.1 and
// intoto 0.0.2. Canonical bodies are RFC 8785 JSON exactly as Rekor stores them;
// proposed entries are the bodies of POST /api/v1/log/entries.
import { FormatError } from '../core/errors.js';
import { base64Decode, base64Encode, describe, hexEncode } from '../core/encoding.js';
import { canonicalBytes } from '../core/canonical-json.js';
import { sha256 } from '../core/hash.js';
import { asArray, asObject, asString, parseJson } from '../core/json.js';
import { readEnvelope, type Envelope } from './dsse.js';

export type RekorHashAlgorithm = 'sha256' | 'sha384' | 'sha512';

export interface RekorHash {
  algorithm: RekorHashAlgorithm;
  /** Lower-case hex. */
  value: string;
}

export interface HashedRekordV001 {
  kind: 'hashedrekord';
  apiVersion: '0.0.1';
  hash: RekorHash;
  signature: Buffer;
  /** The PEM text (certificate or public key) as bytes: what `publicKey.content` encodes. */
  publicKey: Buffer;
}

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

export type RekorV1Entry = HashedRekordV001 | DsseV001 | IntotoV002;

const HEX_LENGTHS: Record<RekorHashAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };

function strictKeys(o: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new FormatError(`${path}.${k}`, 'unknown field', { check: 'unknown-field' });
  }
}

export function readRekorHash(v: unknown, path: string, opts: { defaultSha256?: boolean; strict?: boolean } = {}): RekorHash {
  const o = asObject(v, path);
  if (opts.strict) strictKeys(o, path, ['algorithm', 'value']);
  const alg = o.algorithm === undefined && opts.defaultSha256 ? 'sha256' : o.algorithm;
  if (alg !== 'sha256' && alg !== 'sha384' && alg !== 'sha512') {
    throw new FormatError(`${path}.algorithm`, `must be sha256, sha384 or sha512, got ${typeof alg === 'string' ? JSON.stringify(alg.slice(0, 20)) : describe(alg)}`, { check: 'hash-algorithm' });
  }
  const value = asString(o.value, `${path}.value`);
  if (!/^[0-9a-f]*$/.test(value) || value.length !== HEX_LENGTHS[alg]) {
    throw new FormatError(`${path}.value`, `must be ${HEX_LENGTHS[alg]} lower-case hex characters for ${alg}`, { check: 'hash-value' });
  }
  return { algorithm: alg, value };
}

function nonEmptyBase64(v: unknown, path: string): Buffer {
  const b = base64Decode(v, path);
  if (b.length === 0) throw new FormatError(path, 'must not be empty', { check: 'required' });
  return b;
}

// ---------------------------------------------------------------------------
// Canonical bodies

/** Parses a canonical Rekor v1 body of a supported kind (strict: unknown fields rejected). */
export function parseRekorV1Body(json: Record<string, unknown>, path = 'body'): RekorV1Entry {
  strictKeys(json, path, ['apiVersion', 'kind', 'spec']);
  const spec = asObject(json.spec, `${path}.spec`);
  const at = `${path}.spec`;
  if (json.kind === 'hashedrekord' && json.apiVersion === '0.0.1') {
    return { kind: 'hashedrekord', apiVersion: '0.0.1', ...readHashedRekordSpec(spec, at, true) };
  }
  if (json.kind === 'dsse' && json.apiVersion === '0.0.1') {
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
  if (json.kind === 'intoto' && json.apiVersion === '0.0.2') {
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
  throw unsupportedKind(json, path);
}

/**
 * The spec of a hashedrekord 0.0.1 body (`strict`: unknown keys rejected, algorithm
 * required) or proposed entry (unknown keys ignored, algorithm defaults to sha256).
 */
function readHashedRekordSpec(spec: Record<string, unknown>, at: string, strict: boolean): { hash: RekorHash; signature: Buffer; publicKey: Buffer } {
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

export function unsupportedKind(json: Record<string, unknown>, path: string): FormatError {
  const kind = typeof json.kind === 'string' ? json.kind.slice(0, 40) : describe(json.kind);
  const version = typeof json.apiVersion === 'string' ? json.apiVersion.slice(0, 20) : describe(json.apiVersion);
  return new FormatError(`${path}.kind`, `unsupported entry kind/version ${kind} ${version}`, { check: 'entry-kind', actual: `${kind}/${version}` });
}

function readIntotoSignatures(v: unknown, path: string): IntotoV002Signature[] {
  const list = asArray(v, path).map((s, i) => {
    const p = `${path}[${i}]`;
    const o = asObject(s, p);
    strictKeys(o, p, ['sig', 'publicKey', 'keyid']);
    const sig: IntotoV002Signature = { sig: doubleBase64Decode(o.sig, `${p}.sig`), publicKey: nonEmptyBase64(o.publicKey, `${p}.publicKey`) };
    if (o.keyid !== undefined && o.keyid !== '') sig.keyid = asString(o.keyid, `${p}.keyid`);
    return sig;
  });
  if (list.length === 0) throw new FormatError(path, 'must not be empty', { check: 'required' });
  return list;
}

/** intoto 0.0.2 treats the DSSE base64 strings as bytes, so they are base64 twice. */
function doubleBase64Decode(v: unknown, path: string): Buffer {
  const inner = nonEmptyBase64(v, path).toString('latin1');
  return nonEmptyBase64(inner, path);
}

/** The canonical body bytes of an entry (JCS), as Rekor stores and serves them. */
export function canonicalRekorV1Body(e: RekorV1Entry): Buffer {
  switch (e.kind) {
    case 'hashedrekord':
      return canonicalBytes(hashedRekordJson(e));
    case 'dsse':
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
    case 'intoto':
      return canonicalBytes({
        apiVersion: e.apiVersion,
        kind: e.kind,
        spec: {
          content: {
            envelope: {
              payloadType: e.payloadType,
              payload: e.payload === undefined ? undefined : doubleBase64(e.payload),
              signatures: e.signatures.map((s) => ({ sig: doubleBase64(s.sig), publicKey: base64Encode(s.publicKey), keyid: s.keyid || undefined })),
            },
            hash: e.hash,
            payloadHash: e.payloadHash,
          },
        },
      });
  }
}

/** hashedrekord 0.0.1: the proposed entry and the stored body have the same shape. */
function hashedRekordJson(e: { apiVersion: string; kind: string; hash: RekorHash; signature: Buffer; publicKey: Buffer }): Record<string, unknown> {
  return {
    apiVersion: e.apiVersion,
    kind: e.kind,
    spec: {
      data: { hash: { algorithm: e.hash.algorithm, value: e.hash.value } },
      signature: { content: base64Encode(e.signature), publicKey: { content: base64Encode(e.publicKey) } },
    },
  };
}

function doubleBase64(b: Uint8Array): string {
  return Buffer.from(base64Encode(b), 'latin1').toString('base64');
}

// ---------------------------------------------------------------------------
// Builders: what a Rekor v1 server stores after checking a proposed entry.

export function buildHashedRekordV001(input: { hash: RekorHash; signature: Uint8Array; publicKeyPem: string | Uint8Array }): HashedRekordV001 {
  return {
    kind: 'hashedrekord',
    apiVersion: '0.0.1',
    hash: { algorithm: input.hash.algorithm, value: input.hash.value.toLowerCase() },
    signature: Buffer.from(input.signature),
    publicKey: Buffer.from(input.publicKeyPem),
  };
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
    signatures: input.envelope.signatures.map((s, i) => ({ signature: base64Encode(s.sig), verifier: Buffer.from(input.verifierPems[i]!) })),
  };
}

/**
 * intoto 0.0.2 as current Rekor stores it (no payload in the body). `hash` is the
 * SHA-256 of the JCS of the envelope with base64 payload and signatures and PEM keys,
 * the recipe sigstore-js uses and real entries carry.
 */
export function buildIntotoV002(input: { envelope: Envelope; publicKeyPems: (string | Uint8Array)[]; includePayload?: boolean }): IntotoV002 {
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

// ---------------------------------------------------------------------------
// Proposed entries (request bodies of POST /api/v1/log/entries)

export type RekorV1ProposedEntry =
  | { kind: 'hashedrekord'; apiVersion: '0.0.1'; hash: RekorHash; signature: Buffer; publicKey: Buffer }
  | { kind: 'dsse'; apiVersion: '0.0.1'; envelopeText: string; envelope: Envelope; verifiers: Buffer[] }
  | { kind: 'intoto'; apiVersion: '0.0.2'; envelope: Envelope; publicKeys: Buffer[]; keyids: string[] };

/**
 * Validates a proposed entry. Like Rekor (go-swagger) unknown fields are ignored;
 * every field that is used is type-checked and decoded.
 */
export function parseRekorV1ProposedEntry(json: unknown): RekorV1ProposedEntry {
  const o = asObject(json, 'proposedEntry');
  const kind = asString(o.kind, 'kind');
  const apiVersion = asString(o.apiVersion, 'apiVersion');
  const spec = asObject(o.spec, 'spec');
  if (kind === 'hashedrekord' && apiVersion === '0.0.1') {
    return { kind, apiVersion, ...readHashedRekordSpec(spec, 'spec', false) };
  }
  if (kind === 'dsse' && apiVersion === '0.0.1') {
    const pc = asObject(spec.proposedContent, 'spec.proposedContent');
    const envelopeText = asString(pc.envelope, 'spec.proposedContent.envelope');
    const envelope = readEnvelope(parseJson(envelopeText, 'spec.proposedContent.envelope'), 'spec.proposedContent.envelope', { ignoreUnknownFields: true });
    const verifiers = asArray(pc.verifiers, 'spec.proposedContent.verifiers').map((v, i) => nonEmptyBase64(v, `spec.proposedContent.verifiers[${i}]`));
    if (verifiers.length === 0) throw new FormatError('spec.proposedContent.verifiers', 'must not be empty', { check: 'required' });
    return { kind, apiVersion, envelopeText, envelope, verifiers };
  }
  if (kind === 'intoto' && apiVersion === '0.0.2') {
    const content = asObject(spec.content, 'spec.content');
    const env = asObject(content.envelope, 'spec.content.envelope');
    const payloadType = asString(env.payloadType, 'spec.content.envelope.payloadType');
    const payload = doubleBase64Decode(env.payload, 'spec.content.envelope.payload');
    const sigs = readIntotoSignatures(env.signatures, 'spec.content.envelope.signatures');
    return {
      kind,
      apiVersion,
      envelope: { payloadType, payload, signatures: sigs.map((s) => ({ sig: s.sig, keyid: s.keyid ?? '' })) },
      publicKeys: sigs.map((s) => s.publicKey),
      keyids: sigs.map((s) => s.keyid ?? ''),
    };
  }
  throw new FormatError('kind', `unsupported entry kind/version ${kind.slice(0, 40)} ${apiVersion.slice(0, 20)}`, { check: 'entry-kind', actual: `${kind}/${apiVersion}` });
}

/** A proposed entry as JSON, as sigstore clients send it. */
export function serializeRekorV1ProposedEntry(e: RekorV1ProposedEntry): Record<string, unknown> {
  switch (e.kind) {
    case 'hashedrekord':
      return hashedRekordJson(e);
    case 'dsse':
      return { apiVersion: e.apiVersion, kind: e.kind, spec: { proposedContent: { envelope: e.envelopeText, verifiers: e.verifiers.map((v) => base64Encode(v)) } } };
    case 'intoto':
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
}
