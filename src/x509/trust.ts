// The trust model: certificate authorities, timestamp authorities, transparency and CT
// logs from a TrustedRoot, with one validity type and one key loader. src/verify builds
// its per-root caches on these types; the x509 checks take them directly.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { base64Decode } from '../core/encoding.js';
import { FormatError, KeylessError } from '../core/errors.js';
import { describeKey, type PublicKeyInfo } from '../core/keys.js';
import { parseCertificateCached, type Certificate } from './certificate.js';

/** A trust root entry that cannot be used as given (a key that does not load, a missing field). */
export const TRUSTED_ROOT_INVALID = 'TRUSTED_ROOT_INVALID';

/** A closed interval; a missing `start` makes the entry unusable (malformed trust root); no `end` is open. */
export interface ValidityPeriod {
  start: Date | undefined;
  end: Date | undefined;
}

/** True when `time` lies in the closed interval; never for a period with no start. */
export function periodContains(period: ValidityPeriod, time: Date | number): boolean {
  if (!period.start) return false;
  const t = typeof time === 'number' ? time : time.getTime();
  return t >= period.start.getTime() && (!period.end || t <= period.end.getTime());
}

export function describePeriod(period: ValidityPeriod): string {
  return `[${period.start ? period.start.toISOString() : 'none'}, ${period.end ? period.end.toISOString() : 'open'}]`;
}

export interface TrustedCertificateAuthority {
  /** Issuing CA (or, for a TSA, the signing leaf) first, trust anchor last. */
  certChain: Certificate[];
  validFor: ValidityPeriod;
  uri?: string;
}

/** PublicKeyDetails as the proto enum number (parsed roots) or its name (protobuf JSON). */
export type KeyDetails = number | string | null | undefined;

// PKCS1_RSA_PKCS1V5 = 1, PKCS1_RSA_PSS = 2.
const PKCS1_DETAILS = new Set<KeyDetails>([1, 2, 'PKCS1_RSA_PKCS1V5', 'PKCS1_RSA_PSS']);

/**
 * The public key of a trusted log: SPKI, or a PKCS#1 RSAPublicKey. Old staging CT logs
 * publish raw PKCS#1 under the PKCS1_* details, and sigstore-js reads every RSA log key
 * as PKCS#1 whatever keyDetails says, so both encodings are tried, the declared one first.
 */
export function loadTrustedKey(raw: Uint8Array, keyDetails: KeyDetails, field: string): KeyObject {
  const order: ('spki' | 'pkcs1')[] = PKCS1_DETAILS.has(keyDetails) ? ['pkcs1', 'spki'] : ['spki', 'pkcs1'];
  for (const type of order) {
    try {
      return createPublicKey({ key: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), format: 'der', type });
    } catch {
      // try the other encoding
    }
  }
  throw new KeylessError(TRUSTED_ROOT_INVALID, `trusted root ${field}: not a valid public key`, { check: 'trusted-root' });
}

/** A transparency log or CT log key from the trusted root; the key is loaded on first use. */
export class TrustedLog {
  private loadedKey: KeyObject | undefined;
  private info: PublicKeyInfo | undefined;
  readonly host: string;
  readonly hostname: string;
  /** The base URL without its scheme (`host[:port]/path`), C2SP's form of a log origin. */
  readonly schemelessUrl: string;

  constructor(
    readonly kind: 'tlog' | 'ctlog',
    readonly index: number,
    readonly baseUrl: string,
    readonly logId: Buffer,
    readonly checkpointKeyId: Buffer | undefined,
    readonly keyDetails: KeyDetails,
    readonly rawKey: Buffer,
    readonly validFor: ValidityPeriod,
  ) {
    let host = '';
    let hostname = '';
    let schemelessUrl = '';
    try {
      const u = new URL(baseUrl);
      host = u.host;
      hostname = u.hostname;
      schemelessUrl = `${u.host}${u.pathname}`.replace(/\/+$/, '');
    } catch {
      // A log without a parseable URL can still verify SETs and SCTs; checkpoints will not match it.
    }
    this.host = host;
    this.hostname = hostname;
    this.schemelessUrl = schemelessUrl;
  }

  get name(): string {
    return `${this.kind}s[${this.index}] ${this.baseUrl}`;
  }

  get publicKey(): KeyObject {
    if (!this.loadedKey) this.loadedKey = loadTrustedKey(this.rawKey, this.keyDetails, `${this.kind}s[${this.index}].publicKey`);
    return this.loadedKey;
  }

  /** The public key with its algorithm (throws for key types Keyless does not verify with). */
  get key(): PublicKeyInfo {
    if (!this.info) this.info = describeKey(this.publicKey);
    return this.info;
  }
}

/** What an SCT check needs of a CT log (a TrustedLog has it too). */
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
interface LogLike {
  baseUrl?: string | null;
  logId?: { keyId?: Bytes | null } | null;
  checkpointKeyId?: { keyId?: Bytes | null } | null;
  publicKey?: { rawBytes?: Bytes | null; keyDetails?: KeyDetails; validFor?: ValidForLike | null } | null;
}
export interface TrustedRootLike {
  tlogs?: Array<LogLike | null> | null;
  certificateAuthorities?: Array<CaLike | null> | null;
  ctlogs?: Array<LogLike | null> | null;
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

/** The validity period of a TrustedRoot entry (TimeRange), in either form. */
export function toPeriod(v: ValidForLike | null | undefined, field: string): ValidityPeriod {
  return { start: toDate(v?.start, `${field}.start`), end: toDate(v?.end, `${field}.end`) };
}

/** The log at `ctlogs[index]` / `tlogs[index]` (the key itself is loaded on first use). */
export function trustedLog(kind: 'tlog' | 'ctlog', log: LogLike | null | undefined, index: number): TrustedLog {
  const f = `${kind}s[${index}]`;
  const checkpointKeyId = log?.checkpointKeyId?.keyId ? toBytes(log.checkpointKeyId.keyId, `${f}.checkpointKeyId.keyId`) : undefined;
  return new TrustedLog(
    kind,
    index,
    log?.baseUrl ?? '',
    toBytes(log?.logId?.keyId, `${f}.logId.keyId`),
    checkpointKeyId,
    log?.publicKey?.keyDetails,
    toBytes(log?.publicKey?.rawBytes, `${f}.publicKey.rawBytes`),
    toPeriod(log?.publicKey?.validFor, `${f}.publicKey.validFor`),
  );
}

function loadAuthorities(list: Array<CaLike | null> | null | undefined, field: string): TrustedCertificateAuthority[] {
  return (list ?? []).map((ca, i) => {
    const f = `${field}[${i}]`;
    const certs = ca?.certChain?.certificates ?? [];
    if (certs.length === 0) throw new FormatError(`${f}.certChain`, 'has no certificates');
    const chain = certs.map((c, j) =>
      parseCertificateCached(typeof c?.rawBytes === 'string' ? c.rawBytes : toBytes(c?.rawBytes, `${f}.certChain.certificates[${j}]`)),
    );
    const out: TrustedCertificateAuthority = { certChain: chain, validFor: toPeriod(ca?.validFor, `${f}.validFor`) };
    if (ca?.uri) out.uri = ca.uri;
    return out;
  });
}

function loadCtLogs(list: Array<LogLike | null> | null | undefined): TrustedCtLog[] {
  const ctLogs: TrustedCtLog[] = [];
  (list ?? []).forEach((l, i) => {
    if (!l?.publicKey?.rawBytes) return;
    const log = trustedLog('ctlog', l, i);
    let publicKey: KeyObject;
    try {
      publicKey = log.publicKey;
    } catch {
      return;
    }
    const entry: TrustedCtLog = { logId: log.logId, publicKey, validFor: log.validFor };
    if (log.baseUrl) entry.baseUrl = log.baseUrl;
    ctLogs.push(entry);
  });
  return ctLogs;
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
  const material: TrustMaterial = {
    certificateAuthorities: loadAuthorities(root.certificateAuthorities, 'certificateAuthorities'),
    ctLogs: loadCtLogs(root.ctlogs),
    timestampAuthorities: loadAuthorities(root.timestampAuthorities, 'timestampAuthorities'),
  };
  trustCache.set(root, material);
  return material;
}
