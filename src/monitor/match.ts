// What an entry names (certificates and public keys), whether a certificate chains to a
// trusted CA at the logged time, and which monitored values it matches. Certificates are
// parsed once per DER (identities repeat across entries); so are chain checks per time.
import { createHash, createPublicKey } from 'node:crypto';
import { pemDecodeAll } from '../core/encoding.js';
import {
  certificateFromTbs,
  parseCertificate,
  parseDer,
  verifyCertificateChain,
  type Certificate,
  type TrustedCertificateAuthority,
} from '../x509/index.js';
import type { CertIdentity, Expectation, MonitorConfig } from './config.js';
import { at, listAt } from './json.js';

/**
 * One verifier named by an entry: a certificate, or a bare public key (SPKI DER). A
 * certificate comes with a cache key (the text it was read from), so a repeated
 * certificate costs one map lookup and is decoded only the first time.
 */
export type EntryVerifier = { certKey: Buffer; cert(): Buffer; key?: undefined } | { key: Buffer; certKey?: undefined };

/** A CT precertificate entry: the TBS and the hash of its issuer's key (RFC 6962 §3.2). */
export interface PrecertVerifier {
  tbs: Buffer;
  issuerKeyHash: Buffer;
}

/** rekor-monitor's LogEntry fields plus Keyless's classification. */
export interface IdentityMatch {
  CertSubject: string;
  Issuer: string;
  Fingerprint: string;
  Subject: string;
  Index: number;
  UUID: string;
  OIDExtension: number[] | null;
  ExtensionValue: string;
  MatchedIdentity: Record<string, unknown>;
  unexpected: boolean;
  expectedBy?: string;
  log: string;
}

export interface ParsedCert {
  cert: Certificate;
  sans: string[];
  issuer: string | undefined;
  fingerprint: string;
}

export function derVerifier(der: Buffer): EntryVerifier {
  return { certKey: der, cert: () => der };
}

/** Verifiers of PEM text (Rekor v1 bodies carry base64 PEM), memoized by that text. */
const pemMemo = new Map<string, EntryVerifier[]>();
function pemVerifiers(b64: unknown, out: EntryVerifier[]): void {
  if (typeof b64 !== 'string') return;
  let list = pemMemo.get(b64);
  if (!list) {
    list = [];
    try {
      for (const block of pemDecodeAll(Buffer.from(b64, 'base64').toString('utf8'))) {
        if (block.label === 'CERTIFICATE') list.push(derVerifier(block.der));
        else if (block.label === 'PUBLIC KEY') list.push({ key: block.der });
      }
    } catch {
      // not PEM (an SSH or PGP key): nothing rekor-monitor's identity matching reads
    }
    if (pemMemo.size >= 8192) pemMemo.delete(pemMemo.keys().next().value as string);
    pemMemo.set(b64, list);
  }
  out.push(...list);
}

/** The start of a canonical Rekor v2 body (Rekor v1's intoto 0.0.2 shares the apiVersion). */
const V2_PREFIXES = [
  '{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":',
  '{"apiVersion":"0.0.2","kind":"dsse","spec":{"dsseV002":',
].map((p) => Buffer.from(p));
const RAW_BYTES = Buffer.from('{"rawBytes":"');
const CERT_FIELD = Buffer.from('"x509Certificate":');
const KEY_FIELD = Buffer.from('"publicKey":');
const QUOTE = 0x22;

/**
 * Verifiers of a Rekor v2 body (hashedrekord or dsse 0.0.2). The body is canonical JSON
 * (RFC 8785), where a quote inside a string is always escaped: the text
 * `"x509Certificate":{"rawBytes":"` can only be structure, so reading the values after it
 * is exact, and much cheaper than decoding and parsing every entry.
 */
function v2Verifiers(body: Buffer, out: EntryVerifier[]): boolean {
  if (!V2_PREFIXES.some((p) => body.length > p.length && body.compare(p, 0, p.length, 0, p.length) === 0)) return false;
  let at = body.indexOf(RAW_BYTES);
  while (at >= 0) {
    const start = at + RAW_BYTES.length;
    const end = body.indexOf(QUOTE, start);
    if (end < 0) break;
    const endsWith = (field: Buffer) => at >= field.length && body.compare(field, 0, field.length, at - field.length, at) === 0;
    // The base64 text itself is the certificate's cache key: decoded only on a cache miss.
    const text = body.subarray(start, end);
    if (endsWith(CERT_FIELD)) out.push({ certKey: text, cert: () => Buffer.from(text.toString('latin1'), 'base64') });
    else if (endsWith(KEY_FIELD)) out.push({ key: Buffer.from(text.toString('latin1'), 'base64') });
    at = body.indexOf(RAW_BYTES, end);
  }
  return true;
}

/** Bodies of Rekor v1 (hashedrekord, dsse, intoto) and v2 (hashedrekord, dsse) entries. */
export function rekorVerifiers(body: Buffer): EntryVerifier[] {
  const out: EntryVerifier[] = [];
  if (v2Verifiers(body, out)) return out;
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return [];
  }
  const kind = at(doc, 'kind');
  if (kind === 'hashedrekord') pemVerifiers(at(doc, 'spec', 'signature', 'publicKey', 'content'), out);
  else if (kind === 'dsse') for (const s of listAt(doc, 'spec', 'signatures')) pemVerifiers(at(s, 'verifier'), out);
  else if (kind === 'intoto')
    for (const s of listAt(doc, 'spec', 'content', 'envelope', 'signatures')) pemVerifiers(at(s, 'publicKey'), out);
  return out;
}

/** Certificate facts, parsed once per DER; bounded so a log of distinct certificates cannot grow it without limit. */
export class CertificateCache {
  /**
   * By the key's last 48 bytes (signature bytes: distinct per certificate), then the whole
   * key compared: hashing a ~1,000-byte key for every entry costs more than the rest of the
   * match, and a shared suffix must never alias two certificates.
   */
  private readonly map = new Map<string, Array<{ key: Buffer; parsed: ParsedCert | null }>>();
  private size = 0;
  private readonly trusted = new Map<string, boolean>();
  hits = 0;
  constructor(private readonly limit = 8192) {}

  get(key: Buffer, der: () => Buffer): ParsedCert | undefined {
    const short = key.toString('latin1', Math.max(0, key.length - 48));
    const bucket = this.map.get(short);
    const hit = bucket?.find((b) => b.key.equals(key));
    if (hit) {
      this.hits++;
      return hit.parsed ?? undefined;
    }
    let parsed: ParsedCert | null;
    try {
      const bytes = der();
      const cert = parseCertificate(bytes);
      parsed = { cert, sans: sansOf(cert), issuer: cert.oidcIssuer, fingerprint: createHash('sha256').update(bytes).digest('hex') };
    } catch {
      parsed = null;
    }
    if (this.size >= this.limit) {
      const [oldest, list] = this.map.entries().next().value as [string, unknown[]];
      this.map.delete(oldest);
      this.size -= list.length;
    }
    // A copy: the key may be a view into a large answer buffer that must not stay alive.
    const entry = { key: Buffer.from(key), parsed };
    if (bucket) bucket.push(entry);
    else this.map.set(short, [entry]);
    this.size++;
    return parsed ?? undefined;
  }

  /**
   * Does the certificate chain to a trusted CA at `at` (the logged time), or, where the
   * log records no time, at some moment of its validity (its notBefore)?
   */
  isTrusted(p: ParsedCert, authorities: readonly TrustedCertificateAuthority[], at: Date | undefined): boolean {
    const when = at ?? p.cert.notBefore;
    const key = `${p.fingerprint}@${when.getTime()}`;
    let ok = this.trusted.get(key);
    if (ok === undefined) {
      try {
        verifyCertificateChain(p.cert, authorities, when);
        ok = true;
      } catch {
        ok = false;
      }
      if (this.trusted.size >= this.limit * 4) this.trusted.clear();
      this.trusted.set(key, ok);
    }
    return ok;
  }
}

/** SAN values in rekor-monitor's order (DNS, email, IP, URI, then the Sigstore otherName). */
function sansOf(cert: Certificate): string[] {
  const sans = cert.subjectAltNames;
  const out: string[] = [];
  for (const t of ['dns', 'email', 'ip', 'uri'] as const) for (const s of sans) if (s.type === t) out.push(s.value as string);
  for (const s of sans) if (s.type === 'otherName') out.push(s.value);
  return out;
}

/**
 * A CT precertificate's TBS as a parsed certificate (wrapped with an empty signature):
 * SANs and extensions are all identity matching reads.
 */
export function parsePrecertTbs(tbs: Buffer): Certificate | undefined {
  try {
    return certificateFromTbs(tbs);
  } catch {
    return undefined;
  }
}

function keyFingerprint(spki: Buffer): string | undefined {
  try {
    createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
  return createHash('sha256').update(spki).digest('hex');
}

export interface EntryFacts {
  index: number;
  uuid?: string;
  /** The time the log recorded, when it records one. */
  time?: Date;
  log: string;
}

/** Matches entries against the monitored values of one configuration. */
export class Matcher {
  private readonly fingerprints: Set<string>;
  constructor(private readonly config: MonitorConfig) {
    this.fingerprints = new Set(config.fingerprints);
  }

  get watchesSomething(): boolean {
    const c = this.config;
    return c.certIdentities.length + c.subjects.length + c.fingerprints.length + c.oidMatchers.length > 0;
  }

  /** Matches of one trusted certificate (rekor-monitor's certIdentities, subjects, oidMatchers, fingerprints). */
  matchCertificate(
    p: ParsedCert | { cert: Certificate; sans: string[]; issuer: string | undefined; fingerprint: string },
    facts: EntryFacts,
    out: IdentityMatch[],
  ): void {
    const base = { Index: facts.index, UUID: facts.uuid ?? '', log: facts.log };
    for (const id of this.config.certIdentities) {
      // rekor-monitor requires an issuer extension; without one the certificate never matches.
      if (p.issuer === undefined) break;
      let matched: string | undefined;
      for (const s of p.sans) if (id.certSubject.test(s)) matched = s;
      if (matched === undefined) continue;
      if (id.issuers.length > 0 && !id.issuers.some((re) => re.test(p.issuer!))) continue;
      const expectedBy = id.expected ? satisfied(id.expected, p) : undefined;
      out.push({
        ...blank(),
        ...base,
        CertSubject: matched,
        Issuer: p.issuer,
        MatchedIdentity: { type: 'certIdentity', certSubject: id.certSubjectText, issuers: id.issuersText },
        unexpected: expectedBy === undefined,
        ...(expectedBy ? { expectedBy } : {}),
      });
    }
    for (const s of this.config.subjects) {
      const hit = p.sans.find((v) => s.pattern.test(v));
      if (hit !== undefined)
        out.push({ ...blank(), ...base, Subject: hit, MatchedIdentity: { type: 'subject', subject: s.text }, unexpected: true });
    }
    if (this.fingerprints.has(p.fingerprint)) {
      out.push({
        ...blank(),
        ...base,
        Fingerprint: p.fingerprint,
        MatchedIdentity: { type: 'fingerprint', fingerprint: p.fingerprint },
        unexpected: true,
      });
    }
    const ext = p.cert.sigstoreExtensions;
    for (const m of this.config.oidMatchers) {
      const value = ext[m.oid] ?? extensionText(p.cert, m.oid);
      if (value !== undefined && value !== '' && m.values.includes(value)) {
        out.push({
          ...blank(),
          ...base,
          OIDExtension: m.oid.split('.').map(Number),
          ExtensionValue: value,
          MatchedIdentity: { type: 'oidExtension', oid: m.oid, extensionValues: m.values },
          unexpected: true,
        });
      }
    }
  }

  /** A bare public key: only fingerprints can name it. */
  matchKey(spki: Buffer, facts: EntryFacts, out: IdentityMatch[]): void {
    if (this.fingerprints.size === 0) return;
    const fp = keyFingerprint(spki);
    if (fp && this.fingerprints.has(fp)) {
      out.push({
        ...blank(),
        Index: facts.index,
        UUID: facts.uuid ?? '',
        log: facts.log,
        Fingerprint: fp,
        MatchedIdentity: { type: 'fingerprint', fingerprint: fp },
        unexpected: true,
      });
    }
  }

  /** Would the certificate match anything at all? (Decides whether its chain is worth checking.) */
  mayMatch(p: ParsedCert): boolean {
    if (this.fingerprints.has(p.fingerprint) || this.config.oidMatchers.length > 0) return true;
    if (this.config.subjects.some((s) => p.sans.some((v) => s.pattern.test(v)))) return true;
    return p.issuer !== undefined && this.config.certIdentities.some((id) => p.sans.some((v) => id.certSubject.test(v)));
  }
}

function blank() {
  return { CertSubject: '', Issuer: '', Fingerprint: '', Subject: '', OIDExtension: null as number[] | null, ExtensionValue: '' };
}

/** A non-Sigstore extension as UTF-8 text (rekor-monitor's customExtensions compare strings). */
function extensionText(cert: Certificate, oid: string): string | undefined {
  const e = cert.extension(oid);
  if (!e) return undefined;
  try {
    const node = parseDer(e.value, oid);
    return node.content.toString('utf8');
  } catch {
    return e.value.toString('utf8');
  }
}

/** The first expectation all of whose patterns match, as written. */
function satisfied(expectations: readonly Expectation[], p: { issuer: string | undefined; cert: Certificate }): string | undefined {
  const ext = p.cert.sigstoreExtensions;
  for (const e of expectations) {
    if (e.issuer && !(p.issuer !== undefined && e.issuer.test(p.issuer))) continue;
    if (e.extensions.every((x) => ext[x.oid] !== undefined && x.pattern.test(ext[x.oid]!))) return e.text;
  }
  return undefined;
}

export type { CertIdentity };
