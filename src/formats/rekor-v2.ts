// Rekor v2 (rekor-tiles) entry types: hashedrekord 0.0.2 and the deprecated dsse 0.0.2,
// their canonical bodies (protojson of the Entry, then RFC 8785), and the
// CreateEntryRequest of POST /api/v2/log/entries (strict: unknown fields rejected).
import type { Verifier, Signature as RekorV2SignatureProto } from '@sigstore/protobuf-specs/rekor/v2';
import { FormatError } from '../core/errors.js';
import { canonicalBytes } from '../core/canonical-json.js';
import { digest as hashDigest } from '../core/hash.js';
import type { PublicKeyInfo } from '../core/keys.js';
import { parseJson } from '../core/json.js';
import { readHashOutput, writeHashOutput, type HashOutput } from './common.js';
import { preAuthEncoding, readEnvelope, serializeEnvelope, type Envelope } from './dsse.js';
import {
  HashAlgorithmValue,
  KeyDetailsValue,
  PUBLIC_KEY_DETAILS,
  hashAlgorithmName,
  nodeHashName,
  publicKeyDetailsName,
  type HashAlgorithm,
  type PublicKeyDetails,
} from './enums.js';
import { MessageReader, b64, compact, readList, type ReadOptions } from './protojson.js';

export type { Verifier };

/** A signature with its (required) verifier. */
export interface RekorV2Signature extends RekorV2SignatureProto {
  verifier: Verifier;
}

export interface HashedRekordV002 {
  kind: 'hashedrekord';
  apiVersion: '0.0.2';
  data: HashOutput;
  signature: RekorV2Signature;
}

export interface DsseV002 {
  kind: 'dsse';
  apiVersion: '0.0.2';
  payloadHash: HashOutput;
  signatures: RekorV2Signature[];
}

export type RekorV2Entry = HashedRekordV002 | DsseV002;

export interface HashedRekordRequestV002 {
  digest: Buffer;
  signature: RekorV2Signature;
}

export interface DsseRequestV002 {
  envelope: Envelope;
  verifiers: Verifier[];
}

export type CreateEntryRequestV2 =
  | { $case: 'hashedRekordRequestV002'; hashedRekordRequestV002: HashedRekordRequestV002 }
  | { $case: 'dsseRequestV002'; dsseRequestV002: DsseRequestV002 };

/** rekor-tiles' limits on DSSE requests. */
export const MAX_DSSE_V002_SIGNATURES = 10;
export const MAX_DSSE_V002_VERIFIERS = 10;

/** The hash a Rekor v2 log implies from a key's details (hashedrekord `data.algorithm`). */
export function hashAlgorithmForKeyDetails(kd: PublicKeyDetails): HashAlgorithm | undefined {
  switch (kd) {
    case KeyDetailsValue.PKIX_ECDSA_P256_SHA_256:
    case KeyDetailsValue.PKIX_RSA_PKCS1V15_2048_SHA256:
    case KeyDetailsValue.PKIX_RSA_PKCS1V15_3072_SHA256:
    case KeyDetailsValue.PKIX_RSA_PKCS1V15_4096_SHA256:
      return HashAlgorithmValue.SHA2_256;
    case KeyDetailsValue.PKIX_ECDSA_P384_SHA_384:
      return HashAlgorithmValue.SHA2_384;
    case KeyDetailsValue.PKIX_ECDSA_P521_SHA_512:
    case KeyDetailsValue.PKIX_ED25519_PH:
      return HashAlgorithmValue.SHA2_512;
    default:
      return undefined;
  }
}

/**
 * The PublicKeyDetails for a key. Ed25519 is `PKIX_ED25519_PH` where a digest is signed
 * (Rekor v2 entries) and `PKIX_ED25519` where the key signs messages itself (log keys
 * in a trusted root).
 */
export function keyDetailsForKey(info: PublicKeyInfo, ed25519: 'prehash' | 'pure'): PublicKeyDetails {
  switch (info.algorithm) {
    case 'ecdsa-p256':
      return KeyDetailsValue.PKIX_ECDSA_P256_SHA_256;
    case 'ecdsa-p384':
      return KeyDetailsValue.PKIX_ECDSA_P384_SHA_384;
    case 'ecdsa-p521':
      return KeyDetailsValue.PKIX_ECDSA_P521_SHA_512;
    case 'ed25519':
      return ed25519 === 'pure' ? KeyDetailsValue.PKIX_ED25519 : KeyDetailsValue.PKIX_ED25519_PH;
    case 'rsa': {
      const bits = info.key.asymmetricKeyDetails?.modulusLength;
      if (bits === 2048) return KeyDetailsValue.PKIX_RSA_PKCS1V15_2048_SHA256;
      if (bits === 3072) return KeyDetailsValue.PKIX_RSA_PKCS1V15_3072_SHA256;
      if (bits === 4096) return KeyDetailsValue.PKIX_RSA_PKCS1V15_4096_SHA256;
      throw new FormatError('publicKey', `RSA key of ${bits} bits has no Sigstore key details`, { check: 'key-type', actual: bits });
    }
  }
}

/** The key details sigstore-go rebuilds for a Rekor v2 entry (P-256 → PKIX_ECDSA_P256_SHA_256, Ed25519 → PKIX_ED25519_PH, ...). */
export function defaultKeyDetails(info: PublicKeyInfo): PublicKeyDetails {
  return keyDetailsForKey(info, 'prehash');
}

// ---------------------------------------------------------------------------
// Readers

function readVerifier(v: unknown, path: string, o: ReadOptions): Verifier {
  const m = new MessageReader(v, path, ['publicKey', 'x509Certificate', 'keyDetails'], o);
  const which = m.oneof(['publicKey', 'x509Certificate'] as const, 'verifier', true);
  const keyDetails = m.enumValue('keyDetails', PUBLIC_KEY_DETAILS, { required: true });
  const inner = m.requiredMessage(which!, ['rawBytes']);
  const rawBytes = inner.bytes('rawBytes', { required: true });
  return which === 'publicKey'
    ? { verifier: { $case: 'publicKey', publicKey: { rawBytes } }, keyDetails }
    : { verifier: { $case: 'x509Certificate', x509Certificate: { rawBytes } }, keyDetails };
}

function readSignature(v: unknown, path: string, o: ReadOptions): RekorV2Signature {
  const m = new MessageReader(v, path, ['content', 'verifier'], o);
  return { content: m.bytes('content', { required: true }), verifier: readVerifier(m.required('verifier'), m.at('verifier'), o) };
}

/** A canonical Rekor v2 body (already JSON-parsed), strictly. */
export function parseRekorV2Body(json: unknown, path = 'body', o: ReadOptions = {}): RekorV2Entry {
  const m = new MessageReader(json, path, ['kind', 'apiVersion', 'spec'], o);
  const kind = m.string('kind', { required: true });
  const apiVersion = m.string('apiVersion', { required: true });
  const spec = m.requiredMessage('spec', ['hashedRekordV002', 'dsseV002']);
  const which = spec.oneof(['hashedRekordV002', 'dsseV002'] as const, 'spec', true);
  if (kind === 'hashedrekord' && apiVersion === '0.0.2' && which === 'hashedRekordV002') {
    const h = spec.requiredMessage('hashedRekordV002', ['data', 'signature']);
    return {
      kind,
      apiVersion,
      data: readHashOutput(h.required('data'), h.at('data'), o),
      signature: readSignature(h.required('signature'), h.at('signature'), o),
    };
  }
  if (kind === 'dsse' && apiVersion === '0.0.2' && which === 'dsseV002') {
    const d = spec.requiredMessage('dsseV002', ['payloadHash', 'signatures']);
    const signatures = readList(d, 'signatures', (x, p) => readSignature(x, p, o));
    if (signatures.length === 0) throw new FormatError(d.at('signatures'), 'must not be empty', { check: 'required' });
    return { kind, apiVersion, payloadHash: readHashOutput(d.required('payloadHash'), d.at('payloadHash'), o), signatures };
  }
  throw new FormatError(m.at('kind'), `unsupported entry kind/version ${kind.slice(0, 40)} ${apiVersion.slice(0, 20)} with spec ${which}`, {
    check: 'entry-kind',
    actual: `${kind}/${apiVersion}`,
  });
}

/**
 * POST /api/v2/log/entries body. Unknown fields are rejected and both key spellings
 * are accepted, as rekor-tiles' protojson gateway does.
 */
export function parseCreateEntryRequestV2(input: unknown): CreateEntryRequestV2 {
  const json = typeof input === 'string' || input instanceof Uint8Array ? parseJson(input, 'request') : input;
  const o: ReadOptions = {};
  const m = new MessageReader(json, '', ['hashedRekordRequestV002', 'dsseRequestV002'], o);
  const which = m.oneof(['hashedRekordRequestV002', 'dsseRequestV002'] as const, 'spec', true);
  if (which === 'hashedRekordRequestV002') {
    const h = m.requiredMessage(which, ['digest', 'signature']);
    return {
      $case: which,
      hashedRekordRequestV002: {
        digest: h.bytes('digest', { required: true }),
        signature: readSignature(h.required('signature'), h.at('signature'), o),
      },
    };
  }
  const d = m.requiredMessage('dsseRequestV002', ['envelope', 'verifiers']);
  const envelope = readEnvelope(d.required('envelope'), d.at('envelope'), o);
  if (envelope.signatures.length > MAX_DSSE_V002_SIGNATURES) {
    throw new FormatError(`${d.at('envelope')}.signatures`, `at most ${MAX_DSSE_V002_SIGNATURES} signatures are allowed`, {
      check: 'limit',
    });
  }
  const verifiers = readList(d, 'verifiers', (x, p) => readVerifier(x, p, o));
  if (verifiers.length === 0) throw new FormatError(d.at('verifiers'), 'must not be empty', { check: 'required' });
  if (verifiers.length > MAX_DSSE_V002_VERIFIERS)
    throw new FormatError(d.at('verifiers'), `at most ${MAX_DSSE_V002_VERIFIERS} verifiers are allowed`, { check: 'limit' });
  return { $case: 'dsseRequestV002', dsseRequestV002: { envelope, verifiers } };
}

// ---------------------------------------------------------------------------
// Writers

function writeVerifier(v: Verifier): Record<string, unknown> {
  const key = v.verifier;
  return compact({
    publicKey: key?.$case === 'publicKey' ? compact({ rawBytes: b64(key.publicKey.rawBytes) }) : undefined,
    x509Certificate: key?.$case === 'x509Certificate' ? compact({ rawBytes: b64(key.x509Certificate.rawBytes) }) : undefined,
    keyDetails: v.keyDetails ? publicKeyDetailsName(v.keyDetails) : undefined,
  });
}

function writeSignature(s: RekorV2Signature): Record<string, unknown> {
  return compact({ content: b64(s.content), verifier: writeVerifier(s.verifier) });
}

/** The Entry as protojson (before canonicalization). */
export function serializeRekorV2Entry(e: RekorV2Entry): Record<string, unknown> {
  const spec =
    e.kind === 'hashedrekord'
      ? { hashedRekordV002: { data: writeHashOutput(e.data), signature: writeSignature(e.signature) } }
      : { dsseV002: compact({ payloadHash: writeHashOutput(e.payloadHash), signatures: e.signatures.map(writeSignature) }) };
  return { kind: e.kind, apiVersion: e.apiVersion, spec };
}

/**
 * JCS of a hashedrekord 0.0.2 entry written directly (every append's body): keys in JCS
 * order, base64 and enum names need no escaping. Undefined for anything unusual (a field
 * protojson would omit, a missing verifier), which takes the generic path; a test checks
 * both give the same bytes.
 */
function hashedRekordBodyText(e: HashedRekordV002): string | undefined {
  const { data, signature } = e;
  const v = signature.verifier;
  const key = v?.verifier;
  if (typeof e.apiVersion !== 'string' || !data.algorithm || data.digest.length === 0 || signature.content.length === 0) return undefined;
  if (!v.keyDetails || !key) return undefined;
  const raw = key.$case === 'publicKey' ? key.publicKey.rawBytes : key.x509Certificate.rawBytes;
  if (raw.length === 0) return undefined;
  return (
    `{"apiVersion":${JSON.stringify(e.apiVersion)},"kind":"hashedrekord","spec":{"hashedRekordV002":{` +
    `"data":{"algorithm":"${hashAlgorithmName(data.algorithm)}","digest":"${b64(data.digest)}"},` +
    `"signature":{"content":"${b64(signature.content)}","verifier":{"keyDetails":"${publicKeyDetailsName(v.keyDetails)}",` +
    `"${key.$case}":{"rawBytes":"${b64(raw)}"}}}}}}`
  );
}

/** The canonical body bytes: JCS of the protojson Entry, exactly as rekor-tiles logs it. */
export function canonicalRekorV2Body(e: RekorV2Entry): Buffer {
  const text = e.kind === 'hashedrekord' ? hashedRekordBodyText(e) : undefined;
  return text === undefined ? canonicalBytes(serializeRekorV2Entry(e)) : Buffer.from(text, 'utf8');
}

export function serializeCreateEntryRequestV2(r: CreateEntryRequestV2): Record<string, unknown> {
  if (r.$case === 'hashedRekordRequestV002') {
    const h = r.hashedRekordRequestV002;
    return { hashedRekordRequestV002: { digest: b64(h.digest), signature: writeSignature(h.signature) } };
  }
  const d = r.dsseRequestV002;
  return { dsseRequestV002: { envelope: serializeEnvelope(d.envelope), verifiers: d.verifiers.map(writeVerifier) } };
}

// ---------------------------------------------------------------------------
// Builders

/**
 * The hashedrekord 0.0.2 entry for a request: `data.algorithm` implied by keyDetails,
 * the digest length checked against it, the signature object kept as submitted.
 */
export function buildHashedRekordV002(req: HashedRekordRequestV002): HashedRekordV002 {
  const algorithm = hashAlgorithmForKeyDetails(req.signature.verifier.keyDetails);
  if (algorithm === undefined) {
    throw new FormatError(
      'hashedRekordRequestV002.signature.verifier.keyDetails',
      `${publicKeyDetailsName(req.signature.verifier.keyDetails)} is not supported`,
      {
        check: 'key-details',
      },
    );
  }
  const expected = algorithm === HashAlgorithmValue.SHA2_256 ? 32 : algorithm === HashAlgorithmValue.SHA2_384 ? 48 : 64;
  if (req.digest.length !== expected) {
    throw new FormatError(
      'hashedRekordRequestV002.digest',
      `must be ${expected} bytes for ${publicKeyDetailsName(req.signature.verifier.keyDetails)}, got ${req.digest.length}`,
      {
        check: 'digest-length',
        expected,
        actual: req.digest.length,
      },
    );
  }
  return { kind: 'hashedrekord', apiVersion: '0.0.2', data: { algorithm, digest: Buffer.from(req.digest) }, signature: req.signature };
}

/**
 * A DSSE request logged the way current rekor-tiles and sigstore-go expect: a
 * hashedrekord 0.0.2 over H(PAE) (H implied by the verifier's keyDetails), with the
 * envelope's first signature and the first verifier. Signature checks are the caller's.
 */
export function dsseRequestAsHashedRekordRequest(req: DsseRequestV002): HashedRekordRequestV002 {
  const verifier = req.verifiers[0];
  const sig = req.envelope.signatures[0];
  if (!verifier || !sig) throw new FormatError('dsseRequestV002', 'needs a signature and a verifier', { check: 'required' });
  const algorithm = hashAlgorithmForKeyDetails(verifier.keyDetails);
  const h = algorithm === undefined ? undefined : nodeHashName(algorithm);
  if (!h)
    throw new FormatError('dsseRequestV002.verifiers[0].keyDetails', `${publicKeyDetailsName(verifier.keyDetails)} is not supported`, {
      check: 'key-details',
    });
  const pae = preAuthEncoding(req.envelope.payloadType, req.envelope.payload);
  return { digest: hashDigest(h, pae), signature: { content: Buffer.from(sig.sig), verifier } };
}
