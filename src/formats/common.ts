// Messages shared by bundles, trusted roots and the Rekor v2 API
// (sigstore_common.proto, sigstore_rekor.proto): strict readers and protojson writers.
import type {
  HashOutput,
  LogId,
  PublicKey,
  TimeRange,
  X509Certificate,
  X509CertificateChain,
  TransparencyLogEntry,
  InclusionProof,
  DistinguishedName,
} from '@sigstore/protobuf-specs';
import { FormatError } from '../core/errors.js';
import { HASH_ALGORITHMS, PUBLIC_KEY_DETAILS, hashAlgorithmName, publicKeyDetailsName } from './enums.js';
import { base64Decode } from '../core/encoding.js';
import { MessageReader, b64, checkBytes, compact, formatTimestamp, readList, type ReadOptions } from './protojson.js';

export type {
  HashOutput,
  LogId,
  PublicKey,
  TimeRange,
  X509Certificate,
  X509CertificateChain,
  TransparencyLogEntry,
  InclusionProof,
  DistinguishedName,
};

export function readHashOutput(v: unknown, path: string, o: ReadOptions): HashOutput {
  const m = new MessageReader(v, path, ['algorithm', 'digest'], o);
  return {
    algorithm: m.enumValue('algorithm', HASH_ALGORITHMS, { required: true }),
    digest: m.bytes('digest', { required: true }),
  };
}

export function writeHashOutput(h: HashOutput): Record<string, unknown> {
  return compact({ algorithm: h.algorithm ? hashAlgorithmName(h.algorithm) : undefined, digest: b64(h.digest) });
}

export function readLogId(v: unknown, path: string, o: ReadOptions): LogId {
  const m = new MessageReader(v, path, ['keyId'], o);
  return { keyId: m.bytes('keyId', { required: true }) };
}

/** A validity window; `start` is required wherever Sigstore uses one (a window without start is malformed). */
export function readTimeRange(v: unknown, path: string, o: ReadOptions): TimeRange {
  const m = new MessageReader(v, path, ['start', 'end'], o);
  const start = m.timestamp('start', { required: true });
  const end = m.timestamp('end');
  if (start && end && end.getTime() < start.getTime()) {
    throw new FormatError(m.at('end'), 'is before start', { check: 'time-range' });
  }
  return end === undefined ? { start } : { start, end };
}

export function writeTimeRange(t: TimeRange): Record<string, unknown> {
  return compact({ start: t.start ? formatTimestamp(t.start) : undefined, end: t.end ? formatTimestamp(t.end) : undefined });
}

export function readX509Certificate(v: unknown, path: string, o: ReadOptions): X509Certificate {
  const m = new MessageReader(v, path, ['rawBytes'], o);
  return { rawBytes: m.bytes('rawBytes', { required: true }) };
}

export function readCertificateChain(v: unknown, path: string, o: ReadOptions): X509CertificateChain {
  const m = new MessageReader(v, path, ['certificates'], o);
  const certificates = readList(m, 'certificates', (x, p) => readX509Certificate(x, p, o));
  if (certificates.length === 0)
    throw new FormatError(m.at('certificates'), 'must contain at least one certificate', { check: 'required' });
  return { certificates };
}

export function writeCertificateChain(c: X509CertificateChain): Record<string, unknown> {
  return { certificates: c.certificates.map((x) => ({ rawBytes: b64(x.rawBytes) })) };
}

/** TrustedRoot PublicKey: DER (or PKCS#1 for PKCS1_* details) key bytes, details, validity. */
export function readPublicKey(v: unknown, path: string, o: ReadOptions): PublicKey {
  const m = new MessageReader(v, path, ['rawBytes', 'keyDetails', 'validFor'], o);
  const out: PublicKey = {
    rawBytes: m.bytes('rawBytes', { required: true }),
    keyDetails: m.enumValue('keyDetails', PUBLIC_KEY_DETAILS, { required: true }),
  };
  if (m.has('validFor')) out.validFor = readTimeRange(m.raw('validFor'), m.at('validFor'), o);
  return out;
}

export function writePublicKey(k: PublicKey): Record<string, unknown> {
  return compact({
    rawBytes: k.rawBytes && k.rawBytes.length ? b64(k.rawBytes) : undefined,
    keyDetails: k.keyDetails ? publicKeyDetailsName(k.keyDetails) : undefined,
    validFor: k.validFor ? writeTimeRange(k.validFor) : undefined,
  });
}

export function readDistinguishedName(v: unknown, path: string, o: ReadOptions): DistinguishedName {
  const m = new MessageReader(v, path, ['organization', 'commonName'], o);
  return { organization: m.string('organization'), commonName: m.string('commonName') };
}

const TLE_FIELDS = [
  'logIndex',
  'logId',
  'kindVersion',
  'integratedTime',
  'inclusionPromise',
  'inclusionProof',
  'canonicalizedBody',
] as const;

/**
 * A TransparencyLogEntry. Version rules (promise or proof required) are the
 * bundle's business; here: types, non-negative integers, required identity fields.
 */
export function readTransparencyLogEntry(v: unknown, path: string, o: ReadOptions): TransparencyLogEntry {
  const m = new MessageReader(v, path, TLE_FIELDS, o);
  const kv = m.requiredMessage('kindVersion', ['kind', 'version']);
  const entry: TransparencyLogEntry = {
    logIndex: m.int64('logIndex', { min: 0n }),
    logId: readLogId(m.required('logId'), m.at('logId'), o),
    kindVersion: { kind: kv.string('kind', { required: true }), version: kv.string('version', { required: true }) },
    integratedTime: m.int64('integratedTime', { min: 0n }),
    inclusionPromise: undefined,
    inclusionProof: undefined,
    canonicalizedBody: m.bytes('canonicalizedBody', { required: true }),
  };
  const promise = m.message('inclusionPromise', ['signedEntryTimestamp']);
  if (promise) entry.inclusionPromise = { signedEntryTimestamp: promise.bytes('signedEntryTimestamp', { required: true }) };
  if (m.has('inclusionProof')) entry.inclusionProof = readInclusionProof(m.raw('inclusionProof'), m.at('inclusionProof'), o);
  return entry;
}

/** An audit path in a tree of at most 2^63 leaves has at most 63 hashes. */
export const MAX_PROOF_HASHES = 63;

export function readInclusionProof(v: unknown, path: string, o: ReadOptions): InclusionProof {
  const m = new MessageReader(v, path, ['logIndex', 'rootHash', 'treeSize', 'hashes', 'checkpoint'], o);
  const proof: InclusionProof = {
    logIndex: m.int64('logIndex', { min: 0n }),
    rootHash: m.bytes('rootHash', { required: true }),
    treeSize: m.int64('treeSize', { required: true, min: 1n }),
    hashes: m.array('hashes').map(({ value, path: p }) => checkBytes(base64Decode(value, p), p, { required: true })),
    checkpoint: undefined,
  };
  if (proof.hashes.length > MAX_PROOF_HASHES) {
    throw new FormatError(m.at('hashes'), `has ${proof.hashes.length} hashes; no tree of 2^63 leaves needs more than ${MAX_PROOF_HASHES}`, {
      check: 'limit',
    });
  }
  if (BigInt(proof.logIndex) >= BigInt(proof.treeSize)) {
    throw new FormatError(m.at('logIndex'), `must be less than treeSize (${proof.treeSize})`, { check: 'range', actual: proof.logIndex });
  }
  const cp = m.message('checkpoint', ['envelope']);
  if (cp) proof.checkpoint = { envelope: cp.string('envelope', { required: true }) };
  return proof;
}

/**
 * Canonical protojson, except that both log indexes and the proof's hashes are always
 * written, "0" and [] included. proto3 JSON may leave a zero or an empty list out, but
 * sigstore-python (4.5.1, its sigstore-models) requires these fields and so refuses the first
 * entry of every log (index 0; in a tree of size 1 its audit path is empty too). An explicit
 * "0" or [] is valid proto3 JSON that every parser reads (ours reads both spellings).
 */
export function writeTransparencyLogEntry(e: TransparencyLogEntry): Record<string, unknown> {
  const proof = e.inclusionProof;
  return {
    logIndex: e.logIndex,
    ...compact({
      logId: e.logId ? compact({ keyId: b64(e.logId.keyId) }) : undefined,
      kindVersion: e.kindVersion ? compact({ kind: e.kindVersion.kind, version: e.kindVersion.version }) : undefined,
      integratedTime: e.integratedTime,
      inclusionPromise: e.inclusionPromise ? compact({ signedEntryTimestamp: b64(e.inclusionPromise.signedEntryTimestamp) }) : undefined,
      inclusionProof: proof
        ? {
            logIndex: proof.logIndex,
            ...compact({ rootHash: b64(proof.rootHash), treeSize: proof.treeSize }),
            hashes: proof.hashes.map((h) => b64(h)),
            ...compact({
              checkpoint: proof.checkpoint ? compact({ envelope: proof.checkpoint.envelope }) : undefined,
            }),
          }
        : undefined,
      canonicalizedBody: b64(e.canonicalizedBody),
    }),
  };
}

/** A TransparencyLogEntry from JSON (e.g. a Rekor v2 201 answer); unknown fields rejected. */
export function parseTransparencyLogEntry(json: unknown, options: ReadOptions = {}): TransparencyLogEntry {
  return readTransparencyLogEntry(json, '', options);
}

export const serializeTransparencyLogEntry = writeTransparencyLogEntry;
