import { base64Decode, base64Encode, hexDecode, hexEncode, pemEncode } from '../core/encoding.js';
import { asArray, asObject, asString } from '../core/json.js';
import { callService, joinUrl, jsonBody, serviceName, type CallPolicy, DEFAULT_CALL_POLICY } from './http.js';
import { ServiceError } from './errors.js';
import { EPHEMERAL_KEY_DETAILS } from './ephemeral-key.js';
import {
  parseTransparencyLogEntry,
  serializeCreateEntryRequestV2,
  serializeEnvelope,
  serializeRekorV1ProposedEntry,
  serializeTransparencyLogEntry,
} from '../formats/index.js';

/** A bundle `TransparencyLogEntry` in protobuf JSON, exactly as it goes into the bundle. */
export type TlogEntryJson = Record<string, unknown>;

/** What a log entry records: a message signature over a digest, or a DSSE envelope. */
export type LogContent =
  | { kind: 'message'; digest: Buffer; signature: Buffer }
  | { kind: 'dsse'; envelope: { payload: Buffer; payloadType: string; signature: Buffer }; paeDigest: Buffer };

export const REKOR_V1_POLICY: CallPolicy = { ...DEFAULT_CALL_POLICY, timeoutMs: 15_000 };
/** Rekor v2 answers only once a checkpoint covers the entry. */
export const REKOR_V2_POLICY: CallPolicy = { ...DEFAULT_CALL_POLICY, timeoutMs: 30_000 };

/**
 * Who signed, as the log records it: the leaf certificate's DER (keyless signing), or a
 * public key's SPKI DER (key-pair signing, `--key`).
 */
export type LogVerifier = Buffer | { publicKeyDer: Buffer };

function verifierPem(verifier: LogVerifier): Buffer {
  return Buffer.from(Buffer.isBuffer(verifier) ? pemEncode('CERTIFICATE', verifier) : pemEncode('PUBLIC KEY', verifier.publicKeyDer));
}

/** The Rekor v1 proposed entry: hashedrekord 0.0.1 for messages, dsse 0.0.1 for envelopes. */
export function rekorV1ProposedEntry(content: LogContent, verifier: LogVerifier): object {
  const verifierBytes = verifierPem(verifier);
  if (content.kind === 'message') {
    return serializeRekorV1ProposedEntry({
      kind: 'hashedrekord',
      apiVersion: '0.0.1',
      hash: { algorithm: 'sha256', value: hexEncode(content.digest) },
      signature: content.signature,
      publicKey: verifierBytes,
    });
  }
  const e = content.envelope;
  const envelope = { payload: e.payload, payloadType: e.payloadType, signatures: [{ sig: e.signature, keyid: '' }] };
  return serializeRekorV1ProposedEntry({
    kind: 'dsse',
    apiVersion: '0.0.1',
    envelopeText: JSON.stringify(serializeEnvelope(envelope)),
    envelope,
    verifiers: [verifierBytes],
  });
}

/**
 * The Rekor v2 request: always hashedrekord 0.0.2 — for DSSE over SHA-256 of the PAE, as
 * current rekor-tiles and sigstore-go expect — with the leaf certificate (or the public key)
 * as verifier, so the entry is exactly what a verifier rebuilds from the finished bundle.
 */
export function rekorV2Request(content: LogContent, verifier: LogVerifier): object {
  return serializeCreateEntryRequestV2({
    $case: 'hashedRekordRequestV002',
    hashedRekordRequestV002: {
      digest: content.kind === 'message' ? content.digest : content.paeDigest,
      signature: {
        content: content.kind === 'message' ? content.signature : content.envelope.signature,
        verifier: {
          verifier: Buffer.isBuffer(verifier)
            ? { $case: 'x509Certificate', x509Certificate: { rawBytes: verifier } }
            : { $case: 'publicKey', publicKey: { rawBytes: verifier.publicKeyDer } },
          keyDetails: EPHEMERAL_KEY_DETAILS,
        },
      },
    },
  });
}

/** `POST /api/v1/log/entries`; a 409 (already logged) follows `Location` to the existing entry. */
export async function submitRekorV1(
  baseUrl: string,
  content: LogContent,
  verifier: LogVerifier,
  policy: CallPolicy = REKOR_V1_POLICY,
): Promise<TlogEntryJson> {
  const service = serviceName('Rekor v1', baseUrl);
  const url = joinUrl(baseUrl, '/api/v1/log/entries');
  let res = await callService(
    {
      service,
      url,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(rekorV1ProposedEntry(content, verifier)),
      passThrough: [409],
    },
    policy,
  );
  if (res.status === 409) {
    const location = res.headers.get('location');
    if (!location) throw new ServiceError('SERVICE_REJECTED', service, 'answered 409 (duplicate entry) without a Location');
    res = await callService({ service, url: new URL(location, url).toString(), headers: { Accept: 'application/json' } }, policy);
  }
  return rekorV1ResponseToEntry(jsonBody(res, service), service);
}

/** Maps a Rekor v1 `{uuid: LogEntry}` answer to a bundle entry, field by field (protocols §5.7). */
export function rekorV1ResponseToEntry(json: unknown, service: string): TlogEntryJson {
  try {
    const map = asObject(json, 'response');
    const keys = Object.keys(map);
    if (keys.length !== 1) throw new Error(`expected one entry, got ${keys.length}`);
    const entry = asObject(map[keys[0] as string], 'entry');
    const bodyB64 = asString(entry.body, 'body');
    const body = base64Decode(bodyB64, 'body');
    const kindVersion = bodyKindVersion(body);
    const verification = asObject(entry.verification, 'verification');
    const proof = asObject(verification.inclusionProof, 'verification.inclusionProof');
    const set = asString(verification.signedEntryTimestamp, 'verification.signedEntryTimestamp');
    return {
      logIndex: intString(entry.logIndex, 'logIndex'),
      logId: { keyId: base64Encode(hexDecode(entry.logID, 'logID')) },
      kindVersion,
      integratedTime: intString(entry.integratedTime, 'integratedTime'),
      inclusionPromise: { signedEntryTimestamp: base64Encode(base64Decode(set, 'signedEntryTimestamp')) },
      inclusionProof: {
        logIndex: intString(proof.logIndex, 'inclusionProof.logIndex'),
        rootHash: base64Encode(hexDecode(proof.rootHash, 'inclusionProof.rootHash')),
        treeSize: intString(proof.treeSize, 'inclusionProof.treeSize'),
        hashes: asArray(proof.hashes ?? [], 'inclusionProof.hashes').map((h, i) =>
          base64Encode(hexDecode(h, `inclusionProof.hashes[${i}]`)),
        ),
        checkpoint: { envelope: asString(proof.checkpoint, 'inclusionProof.checkpoint') },
      },
      canonicalizedBody: base64Encode(body),
    };
  } catch (e) {
    if (e instanceof ServiceError) throw e;
    throw new ServiceError('SERVICE_BAD_RESPONSE', service, `log entry response is malformed (${(e as Error).message})`, { cause: e });
  }
}

/** `POST /api/v2/log/entries`: the answer already is a TransparencyLogEntry. */
export async function submitRekorV2(
  baseUrl: string,
  content: LogContent,
  verifier: LogVerifier,
  policy: CallPolicy = REKOR_V2_POLICY,
): Promise<TlogEntryJson> {
  const service = serviceName('Rekor v2', baseUrl);
  const res = await callService(
    {
      service,
      url: joinUrl(baseUrl, '/api/v2/log/entries'),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(rekorV2Request(content, verifier)),
      accept: (s) => s === 201 || s === 200,
    },
    policy,
  );
  return rekorV2ResponseToEntry(jsonBody(res, service), service);
}

/** Validates a Rekor v2 TLE (protobuf JSON, nulls allowed) and re-emits it in canonical protojson. */
export function rekorV2ResponseToEntry(json: unknown, service: string): TlogEntryJson {
  try {
    const tle = parseTransparencyLogEntry(json);
    const actual = bodyKindVersion(tle.canonicalizedBody);
    const kv = tle.kindVersion;
    if (!kv || actual.kind !== kv.kind || actual.version !== kv.version) {
      throw new Error(`kindVersion ${kv?.kind}/${kv?.version} does not match the body's ${actual.kind}/${actual.version}`);
    }
    if (!tle.inclusionProof?.checkpoint) throw new Error('inclusionProof with a checkpoint is missing');
    return serializeTransparencyLogEntry(tle);
  } catch (e) {
    throw new ServiceError('SERVICE_BAD_RESPONSE', service, `log entry response is malformed (${(e as Error).message})`, { cause: e });
  }
}

function bodyKindVersion(body: Buffer): { kind: string; version: string } {
  const parsed = asObject(JSON.parse(body.toString('utf8')), 'body');
  return { kind: asString(parsed.kind, 'body.kind'), version: asString(parsed.apiVersion, 'body.apiVersion') };
}

function intString(v: unknown, field: string): string {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^(0|[1-9][0-9]*)$/.test(v)) return v;
  throw new Error(`${field} is not a non-negative integer`);
}
