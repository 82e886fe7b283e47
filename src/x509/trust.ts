// Trust material for the x509 checks, loaded from a TrustedRoot once and cached.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { base64Decode } from '../core/encoding.js';
import { FormatError } from '../core/errors.js';
import { parseCertificateCached, type Certificate } from './certificate.js';

/** A closed interval; a missing `start` makes the entry unusable (malformed trust root). */
export interface ValidityPeriod {
  start: Date | undefined;
  end: Date | undefined;
}

export interface TrustedCertificateAuthority {
  /** Issuing CA (or, for a TSA, the signing leaf) first, trust anchor last. */
  certChain: Certificate[];
  validFor: ValidityPeriod;
  uri?: string;
}

export interface TrustedCtLog {
  logId: Buffer;
  publicKey: KeyObject;
  validFor: ValidityPeriod;
  baseUrl?: string;
}

export interface TrustMaterial {
  certificateAuthorities: TrustedCertificateAuthority[];
  ctLogs: TrustedCtLog[];
  timestampAuthorities: TrustedCertificateAuthority[];
}

/** True when `time` lies in the closed interval; never for a period with no start. */
export function periodContains(period: ValidityPeriod, time: Date): boolean {
  if (!period.start) return false;
  const t = time.getTime();
  return t >= period.start.getTime() && (!period.end || t <= period.end.getTime());
}

// Structural shape of the TrustedRoot pieces we read: protobuf JSON (base64 strings,
// RFC 3339 times) or the FORMATS component's parsed form (Buffers, Dates).
type Bytes = string | Uint8Array;
type TimeLike = string | Date | null | undefined;
interface ValidForLike {
  start?: TimeLike;
  end?: TimeLike;
}
interface CaLike {
  certChain?: { certificates?: Array<{ rawBytes?: Bytes | null } | null> | null } | null;
  validFor?: ValidForLike | null;
  uri?: string | null;
}
interface CtLogLike {
  baseUrl?: string | null;
  logId?: { keyId?: Bytes | null } | null;
  publicKey?: { rawBytes?: Bytes | null; keyDetails?: string | number | null; validFor?: ValidForLike | null } | null;
}
export interface TrustedRootLike {
  certificateAuthorities?: Array<CaLike | null> | null;
  ctlogs?: Array<CtLogLike | null> | null;
  timestampAuthorities?: Array<CaLike | null> | null;
}

function toBytes(v: Bytes | null | undefined, field: string): Buffer {
  if (typeof v === 'string') return base64Decode(v, field);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new FormatError(field, 'missing bytes');
}

function toDate(v: TimeLike, field: string): Date | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) throw new FormatError(field, `invalid time ${String(v)}`);
  return d;
}

function toPeriod(v: ValidForLike | null | undefined, field: string): ValidityPeriod {
  return { start: toDate(v?.start, `${field}.start`), end: toDate(v?.end, `${field}.end`) };
}

function loadAuthorities(list: Array<CaLike | null> | null | undefined, field: string): TrustedCertificateAuthority[] {
  return (list ?? []).map((ca, i) => {
    const f = `${field}[${i}]`;
    const certs = ca?.certChain?.certificates ?? [];
    if (certs.length === 0) throw new FormatError(`${f}.certChain`, 'has no certificates');
    const chain = certs.map((c, j) => parseCertificateCached(typeof c?.rawBytes === 'string' ? c.rawBytes : toBytes(c?.rawBytes, `${f}.certChain.certificates[${j}]`)));
    const out: TrustedCertificateAuthority = { certChain: chain, validFor: toPeriod(ca?.validFor, `${f}.validFor`) };
    if (ca?.uri) out.uri = ca.uri;
    return out;
  });
}

function loadCtLogKey(raw: Buffer, keyDetails: string | number | null | undefined): KeyObject {
  // Old staging CT logs publish a raw PKCS#1 RSAPublicKey under PKCS1_RSA_PKCS1V5.
  // Parsed roots (src/formats) carry the enum number: PKCS1_RSA_PKCS1V5 = 1, PKCS1_RSA_PSS = 2.
  const pkcs1 = typeof keyDetails === 'number' ? keyDetails === 1 || keyDetails === 2 : !!keyDetails && keyDetails.startsWith('PKCS1_RSA');
  if (pkcs1) return createPublicKey({ key: raw, format: 'der', type: 'pkcs1' });
  try {
    return createPublicKey({ key: raw, format: 'der', type: 'spki' });
  } catch (e) {
    // sigstore-js reads every RSA log key as PKCS#1, whatever keyDetails says (the proto
    // says SPKI for PKIX_RSA_*): accept a PKCS#1 RSAPublicKey there too.
    try {
      return createPublicKey({ key: raw, format: 'der', type: 'pkcs1' });
    } catch {
      throw e;
    }
  }
}

const trustCache = new WeakMap<object, TrustMaterial>();

/**
 * Parses the certificate chains and CT log keys of a TrustedRoot. Cached per root
 * object, so callers may pass the same root on every verification. A CT log entry
 * whose key cannot be loaded is left out (no SCT can then verify against it).
 */
export function loadTrustMaterial(root: TrustedRootLike): TrustMaterial {
  const cached = trustCache.get(root);
  if (cached) return cached;
  const ctLogs: TrustedCtLog[] = [];
  (root.ctlogs ?? []).forEach((log, i) => {
    const f = `ctlogs[${i}]`;
    let publicKey: KeyObject;
    try {
      publicKey = loadCtLogKey(toBytes(log?.publicKey?.rawBytes, `${f}.publicKey.rawBytes`), log?.publicKey?.keyDetails);
    } catch {
      return;
    }
    const entry: TrustedCtLog = {
      logId: toBytes(log?.logId?.keyId, `${f}.logId.keyId`),
      publicKey,
      validFor: toPeriod(log?.publicKey?.validFor, `${f}.publicKey.validFor`),
    };
    if (log?.baseUrl) entry.baseUrl = log.baseUrl;
    ctLogs.push(entry);
  });
  const material: TrustMaterial = {
    certificateAuthorities: loadAuthorities(root.certificateAuthorities, 'certificateAuthorities'),
    ctLogs,
    timestampAuthorities: loadAuthorities(root.timestampAuthorities, 'timestampAuthorities'),
  };
  trustCache.set(root, material);
  return material;
}
