// RFC 6962 Signed Certificate Timestamps: TLS encoding, signed data, verification, signing.
import { createHash, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { asSigner, type SigningKey } from '../core/signer.js';
import { FormatError, VerificationError } from '../core/errors.js';
import { base64Decode } from '../core/encoding.js';
import type { Certificate } from './certificate.js';
import { OID } from './oids.js';
import { periodContains, type TrustedCtLog } from './trust.js';

export interface Sct {
  version: number;
  logId: Buffer;
  /** Milliseconds since the epoch. */
  timestamp: bigint;
  extensions: Buffer;
  /** TLS HashAlgorithm (4 = sha256, 5 = sha384, 6 = sha512). */
  hashAlgorithm: number;
  /** TLS SignatureAlgorithm (1 = rsa, 3 = ecdsa). */
  signatureAlgorithm: number;
  signature: Buffer;
}

const TLS_HASH: Readonly<Record<number, string>> = { 4: 'sha256', 5: 'sha384', 6: 'sha512' };
const TLS_SIGNATURE: Readonly<Record<number, string>> = { 1: 'rsa', 3: 'ec' };

class Reader {
  pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly field: string,
  ) {}
  take(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new FormatError(this.field, 'truncated');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  u16(): number {
    return this.take(2).readUInt16BE(0);
  }
  vector16(): Buffer {
    return this.take(this.u16());
  }
  done(): void {
    if (this.pos !== this.buf.length) throw new FormatError(this.field, 'trailing bytes');
  }
}

/** Parses one TLS-encoded SignedCertificateTimestamp (strict lengths). */
export function parseSct(bytes: Uint8Array, field = 'sct'): Sct {
  const r = new Reader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), field);
  const version = r.u8();
  if (version !== 0) throw new FormatError(field, `unsupported SCT version ${version}`);
  const logId = Buffer.from(r.take(32));
  const timestamp = r.take(8).readBigUInt64BE(0);
  const extensions = Buffer.from(r.vector16());
  const hashAlgorithm = r.u8();
  const signatureAlgorithm = r.u8();
  const signature = Buffer.from(r.vector16());
  r.done();
  return { version, logId, timestamp, extensions, hashAlgorithm, signatureAlgorithm, signature };
}

/** Parses a TLS SignedCertificateTimestampList (uint16 total, then uint16-prefixed SCTs). */
export function parseSctList(bytes: Uint8Array): Sct[] {
  const field = 'sctList';
  const r = new Reader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), field);
  const list = r.vector16();
  r.done();
  const inner = new Reader(list, field);
  const out: Sct[] = [];
  while (inner.pos < list.length) out.push(parseSct(inner.vector16(), `${field}[${out.length}]`));
  return out;
}

export function serializeSct(sct: Sct): Buffer {
  const head = Buffer.alloc(1 + 32 + 8);
  head[0] = sct.version;
  sct.logId.copy(head, 1);
  head.writeBigUInt64BE(sct.timestamp, 33);
  return Buffer.concat([
    head,
    u16(sct.extensions.length),
    sct.extensions,
    Buffer.from([sct.hashAlgorithm, sct.signatureAlgorithm]),
    u16(sct.signature.length),
    sct.signature,
  ]);
}

export function serializeSctList(scts: readonly Sct[]): Buffer {
  const body = Buffer.concat(
    scts.flatMap((s) => {
      const b = serializeSct(s);
      return [u16(b.length), b];
    }),
  );
  return Buffer.concat([u16(body.length), body]);
}

function u16(n: number): Buffer {
  if (n > 0xffff) throw new FormatError('sct', 'field longer than 65535 bytes');
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u24(n: number): Buffer {
  if (n > 0xffffff) throw new FormatError('sct', 'certificate longer than 2^24 bytes');
  return Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
}

/** What a CT log signs: a precertificate (issuer key hash + TBS) or an X.509 entry (whole DER). */
export type CtEntry = { type: 'precert'; issuerKeyHash: Uint8Array; tbs: Uint8Array } | { type: 'x509'; certificate: Uint8Array };

/** RFC 6962 §3.2 digitally-signed struct for a certificate timestamp. */
export function sctSignedData(timestamp: bigint, entry: CtEntry, extensions: Uint8Array = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(10);
  head[0] = 0; // sct_version v1
  head[1] = 0; // signature_type certificate_timestamp
  head.writeBigUInt64BE(timestamp, 2);
  const entryType = entry.type === 'precert' ? 1 : 0;
  const body =
    entry.type === 'precert'
      ? [Buffer.from(entry.issuerKeyHash), u24(entry.tbs.length), Buffer.from(entry.tbs)]
      : [u24(entry.certificate.length), Buffer.from(entry.certificate)];
  return Buffer.concat([head, u16(entryType), ...body, u16(extensions.length), Buffer.from(extensions)]);
}

/** An RFC 6962 §3.4 MerkleTreeLeaf (a CT log entry): when it was logged and what. */
export interface MerkleTreeLeaf {
  /** Milliseconds since the epoch (the SCT's timestamp). */
  timestamp: bigint;
  entry: CtEntry;
}

/** Reads a v1 timestamped_entry MerkleTreeLeaf (get-entries `leaf_input`); the bytes are shared, not copied. */
export function parseMerkleTreeLeaf(leaf: Uint8Array): MerkleTreeLeaf {
  const b = Buffer.from(leaf.buffer, leaf.byteOffset, leaf.byteLength);
  const f = 'MerkleTreeLeaf';
  if (b.length < 15 || b[0] !== 0 || b[1] !== 0) throw new FormatError(f, 'is not a v1 timestamped_entry leaf');
  const timestamp = b.readBigUInt64BE(2);
  const type = b.readUInt16BE(10);
  const u24At = (off: number) => (b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!;
  let entry: CtEntry;
  let end: number;
  if (type === 0) {
    end = 15 + u24At(12);
    entry = { type: 'x509', certificate: b.subarray(15, end) };
  } else if (type === 1) {
    if (b.length < 47) throw new FormatError(f, 'precert_entry is truncated');
    end = 47 + u24At(44);
    entry = { type: 'precert', issuerKeyHash: b.subarray(12, 44), tbs: b.subarray(47, end) };
  } else throw new FormatError(f, `has unknown entry_type ${type}`);
  if (end + 2 > b.length || end + 2 + b.readUInt16BE(end) !== b.length) throw new FormatError(f, 'lengths do not match the leaf');
  return { timestamp, entry };
}

/** The signed data of a precertificate SCT (RFC 6962 §3.2, entry_type precert_entry). */
export function precertSignedData(
  timestamp: bigint,
  issuerKeyHash: Uint8Array,
  tbs: Uint8Array,
  extensions: Uint8Array = Buffer.alloc(0),
): Buffer {
  return sctSignedData(timestamp, { type: 'precert', issuerKeyHash, tbs }, extensions);
}

/** The precert entry a verifier rebuilds from a final certificate and its issuer. */
export function precertEntryFromCertificate(leaf: Certificate, issuer: Certificate): CtEntry {
  return {
    type: 'precert',
    issuerKeyHash: createHash('sha256').update(issuer.spkiDer).digest(),
    tbs: leaf.tbsWithoutExtensions(OID.sctList, OID.ctPoison),
  };
}

/** Verifies one SCT's signature over `entry` with a log key. */
export function verifySctSignature(sct: Sct, entry: CtEntry, key: KeyObject): boolean {
  const hash = TLS_HASH[sct.hashAlgorithm];
  const keyType = TLS_SIGNATURE[sct.signatureAlgorithm];
  if (!hash || !keyType || key.asymmetricKeyType !== keyType) return false;
  try {
    return nodeVerify(hash, sctSignedData(sct.timestamp, entry, sct.extensions), key, sct.signature);
  } catch {
    return false;
  }
}

export interface VerifiedSct {
  sct: Sct;
  log: TrustedCtLog;
}

/**
 * Verifies the SCTs embedded in `leaf` (issued by `issuer`) against trusted CT logs:
 * a log matches by ID and by a validity window containing the SCT time. An SCT from a
 * matching log whose signature fails is an error (as sigstore-js); SCTs from unknown
 * logs are skipped. At least `threshold` distinct logs must have verified.
 */
export function verifyEmbeddedScts(leaf: Certificate, issuer: Certificate, ctLogs: readonly TrustedCtLog[], threshold = 1): VerifiedSct[] {
  const list = leaf.embeddedSctList;
  if (!list) {
    if (threshold <= 0) return [];
    throw new VerificationError('SCT_MISSING', 'the certificate embeds no SCT', { check: 'sct', expected: threshold, actual: 0 });
  }
  const scts = parseSctList(list);
  const entry = precertEntryFromCertificate(leaf, issuer);
  const verified: VerifiedSct[] = [];
  const seenLogs = new Set<string>();
  for (const sct of scts) {
    const at = new Date(Number(sct.timestamp));
    const logs = ctLogs.filter((l) => l.logId.equals(sct.logId) && periodContains(l.validFor, at));
    if (logs.length === 0) continue;
    const log = logs.find((l) => verifySctSignature(sct, entry, l.publicKey));
    if (!log) {
      throw new VerificationError('SCT_SIGNATURE_INVALID', `SCT from log ${sct.logId.toString('hex')} does not verify`, {
        check: 'sct',
        actual: sct.logId.toString('hex'),
      });
    }
    const id = sct.logId.toString('hex');
    if (seenLogs.has(id)) continue;
    seenLogs.add(id);
    verified.push({ sct, log });
  }
  if (verified.length < threshold) {
    throw new VerificationError('SCT_THRESHOLD', `${verified.length} SCT(s) verified against trusted CT logs, ${threshold} required`, {
      check: 'sct',
      expected: threshold,
      actual: verified.length,
    });
  }
  return verified;
}

/** Signs a v1 SCT for `entry` (CT log side): ECDSA or RSA with SHA-256. */
export function signSct(
  signingKey: SigningKey,
  logId: Uint8Array,
  timestamp: bigint,
  entry: CtEntry,
  extensions: Uint8Array = Buffer.alloc(0),
): Sct {
  const signer = asSigner(signingKey);
  const keyType = signer.publicKey.asymmetricKeyType;
  if (keyType !== 'ec' && keyType !== 'rsa') throw new VerificationError('KEY_UNSUPPORTED', `a CT log cannot sign with a ${keyType} key`);
  const signature = signer.sign(sctSignedData(timestamp, entry, extensions), 'sha256');
  return {
    version: 0,
    logId: Buffer.from(logId),
    timestamp,
    extensions: Buffer.from(extensions),
    hashAlgorithm: 4,
    signatureAlgorithm: keyType === 'ec' ? 3 : 1,
    signature,
  };
}

/** The `signature` field of an AddChainResponse: TLS DigitallySigned. */
export function digitallySigned(sct: Sct): Buffer {
  return Buffer.concat([Buffer.from([sct.hashAlgorithm, sct.signatureAlgorithm]), u16(sct.signature.length), sct.signature]);
}

/** RFC 6962 AddChainResponse JSON. */
export function sctToJson(sct: Sct): { sct_version: number; id: string; timestamp: number; extensions: string; signature: string } {
  return {
    sct_version: sct.version,
    id: sct.logId.toString('base64'),
    timestamp: Number(sct.timestamp),
    extensions: sct.extensions.toString('base64'),
    signature: digitallySigned(sct).toString('base64'),
  };
}

/** An SCT from an RFC 6962 AddChainResponse (what a CA gets back over HTTP). */
export function sctFromJson(json: unknown): Sct {
  const f = 'addChainResponse';
  const o = json as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) throw new FormatError(f, 'must be an object');
  if (o.sct_version !== 0) throw new FormatError(`${f}.sct_version`, 'must be 0');
  if (typeof o.timestamp !== 'number' || !Number.isSafeInteger(o.timestamp) || o.timestamp < 0)
    throw new FormatError(`${f}.timestamp`, 'must be a non-negative integer');
  const logId = base64Decode(o.id, `${f}.id`);
  if (logId.length !== 32) throw new FormatError(`${f}.id`, 'must be 32 bytes');
  const extensions = base64Decode(o.extensions ?? '', `${f}.extensions`);
  const ds = base64Decode(o.signature, `${f}.signature`);
  if (ds.length < 4 || ds.readUInt16BE(2) !== ds.length - 4) throw new FormatError(`${f}.signature`, 'malformed DigitallySigned');
  return {
    version: 0,
    logId,
    timestamp: BigInt(o.timestamp),
    extensions,
    hashAlgorithm: ds[0]!,
    signatureAlgorithm: ds[1]!,
    signature: Buffer.from(ds.subarray(4)),
  };
}
