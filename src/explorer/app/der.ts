// Just enough DER for the page: certificates (TBS bytes, names, validity, extensions,
// key) and ECDSA signatures. Every length is checked against its parent.
import { SIGSTORE_EXTENSION_OIDS } from '../../oidc/extensions.js';

export interface Tlv {
  tag: number;
  /** Offset of the tag byte in `buf`. */
  start: number;
  /** Offsets of the contents. */
  contentStart: number;
  end: number;
  buf: Uint8Array;
}

export function readTlv(buf: Uint8Array, off: number, limit = buf.length): Tlv {
  if (off + 2 > limit) throw new Error('DER: truncated');
  const tag = buf[off]!;
  let len = buf[off + 1]!;
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new Error('DER: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > limit) throw new Error('DER: length beyond its parent');
  return { tag, start: off, contentStart: p, end: p + len, buf };
}

export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = t.contentStart; off < t.end;) {
    const c = readTlv(t.buf, off, t.end);
    out.push(c);
    off = c.end;
  }
  return out;
}

export const content = (t: Tlv): Uint8Array => t.buf.subarray(t.contentStart, t.end);
export const whole = (t: Tlv): Uint8Array => t.buf.subarray(t.start, t.end);

export function oid(t: Tlv): string {
  const b = content(t);
  const parts: number[] = [];
  let v = 0;
  for (const byte of b) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  const first = parts.shift() ?? 0;
  return [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80, ...parts].join('.');
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function time(t: Tlv): Date {
  const s = text(content(t));
  const m =
    t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new Error(`DER: bad time ${s}`);
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

const NAME_ATTRS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '1.2.840.113549.1.9.1': 'E',
};

function nameString(t: Tlv): string {
  return children(t)
    .flatMap((set) => children(set))
    .map((atv) => {
      const [type, value] = children(atv);
      const key = NAME_ATTRS[oid(type!)] ?? oid(type!);
      return `${key}=${text(content(value!))}`;
    })
    .join(', ');
}

/** 'sourceRepositoryUri' → 'Source Repository URI'. */
function humanName(name: string): string {
  return name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/^./, (c) => c.toUpperCase())
    .replace(/\b(Uri|Sha|Github)\b/g, (w) => ({ Uri: 'URI', Sha: 'SHA', Github: 'GitHub' })[w] ?? w);
}
const EXTENSIONS = new Map(
  SIGSTORE_EXTENSION_OIDS.map((e) => [e.oid, { name: e.oid.endsWith('.1.1') ? 'Issuer (v1)' : humanName(e.name), encoding: e.encoding }]),
);
const SIGSTORE_ARC = '1.3.6.1.4.1.57264.1.';

export interface Certificate {
  der: Uint8Array;
  tbs: Uint8Array;
  signatureAlgorithm: string;
  signature: Uint8Array;
  serialHex: string;
  issuer: string;
  issuerDer: Uint8Array;
  subject: string;
  subjectDer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  sans: { type: 'email' | 'uri' | 'dns' | 'other'; value: string }[];
  /** Sigstore extensions, by name, decoded to text. */
  sigstore: { name: string; oid: string; value: string }[];
  isCa: boolean;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function parseCertificate(der: Uint8Array): Certificate {
  const root = readTlv(der, 0);
  if (root.end !== der.length || root.tag !== 0x30) throw new Error('not a DER certificate');
  const [tbsT, algT, sigT] = children(root);
  if (!tbsT || !algT || !sigT || sigT.tag !== 0x03) throw new Error('certificate: malformed');
  return fromTbs(der, tbsT, oid(children(algT)[0]!), content(sigT).subarray(1));
}

/** A TBSCertificate alone (a CT precertificate entry logs only that): no signature. */
export function parseTbsCertificate(tbs: Uint8Array): Certificate {
  const t = readTlv(tbs, 0);
  if (t.end !== tbs.length || t.tag !== 0x30) throw new Error('not a DER TBSCertificate');
  const kids = children(t);
  const alg = kids[kids[0]?.tag === 0xa0 ? 2 : 1];
  return fromTbs(tbs, t, alg ? oid(children(alg)[0]!) : '', new Uint8Array(0));
}

function fromTbs(der: Uint8Array, tbsT: Tlv, signatureAlgorithm: string, signature: Uint8Array): Certificate {
  const tbs = children(tbsT);
  let i = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const serial = tbs[i++]!;
  i++; // signature algorithm (repeated)
  const issuer = tbs[i++]!;
  const validity = children(tbs[i++]!);
  const subject = tbs[i++]!;
  const spki = tbs[i++]!;
  const cert: Certificate = {
    der,
    tbs: whole(tbsT),
    signatureAlgorithm,
    signature,
    serialHex: hex(content(serial)),
    issuer: nameString(issuer),
    issuerDer: whole(issuer),
    subject: nameString(subject),
    subjectDer: whole(subject),
    notBefore: time(validity[0]!),
    notAfter: time(validity[1]!),
    spki: whole(spki),
    sans: [],
    sigstore: [],
    isCa: false,
  };
  const extsWrap = tbs.slice(i).find((t) => t.tag === 0xa3);
  for (const ext of extsWrap ? children(children(extsWrap)[0]!) : []) {
    const parts = children(ext);
    const id = oid(parts[0]!);
    const value = content(parts[parts.length - 1]!);
    if (id === '2.5.29.17') {
      for (const n of children(readTlv(value, 0))) {
        const v = text(content(n));
        if (n.tag === 0x81) cert.sans.push({ type: 'email', value: v });
        else if (n.tag === 0x86) cert.sans.push({ type: 'uri', value: v });
        else if (n.tag === 0x82) cert.sans.push({ type: 'dns', value: v });
        else if (n.tag === 0xa0) {
          const [, val] = children(n);
          const inner = val ? children(val)[0] : undefined;
          cert.sans.push({ type: 'other', value: inner ? text(content(inner)) : '' });
        }
      }
    } else if (id === '2.5.29.19') {
      const bc = children(readTlv(value, 0));
      cert.isCa = bc[0]?.tag === 0x01 && content(bc[0])[0] !== 0;
    } else if (id.startsWith(SIGSTORE_ARC)) {
      const known = EXTENSIONS.get(id);
      let decoded = text(value);
      if (known?.encoding === 'utf8string') {
        try {
          decoded = text(content(readTlv(value, 0)));
        } catch {
          // leave the raw text
        }
      }
      cert.sigstore.push({ name: known?.name ?? id, oid: id, value: decoded });
    }
  }
  return cert;
}

function encodeTlv(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + len.length + n);
  out.set([tag, ...len]);
  out.set(body, 1 + len.length);
  return out;
}

function joined(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) off += (out.set(p, off), p.length);
  return out;
}

/** The SCT list extension a CA adds to the issued certificate. */
export const SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';

/**
 * The certificate's TBS re-encoded without the listed extensions: without the SCT list, an
 * issued certificate's TBS is its precertificate's TBS as the CT log holds it (RFC 6962 §3.1).
 */
export function tbsWithoutExtensions(cert: Certificate, ...oids: string[]): Uint8Array {
  const parts = children(readTlv(cert.tbs, 0)).map((t) => {
    if (t.tag !== 0xa3) return whole(t);
    const kept = children(children(t)[0]!).filter((e) => !oids.includes(oid(children(e)[0]!)));
    return kept.length > 0 ? encodeTlv(0xa3, encodeTlv(0x30, joined(kept.map(whole)))) : new Uint8Array(0);
  });
  return encodeTlv(0x30, joined(parts));
}

/** The identity Sigstore reads: URI SAN, else email, else otherName. */
export function identityOf(cert: Certificate): string | undefined {
  return (cert.sans.find((s) => s.type === 'uri') ?? cert.sans.find((s) => s.type === 'email') ?? cert.sans.find((s) => s.type === 'other'))
    ?.value;
}

/** The issuer Sigstore reads: extension .8, else .1. */
export function oidcIssuerOf(cert: Certificate): string | undefined {
  return (cert.sigstore.find((e) => e.oid.endsWith('.1.8')) ?? cert.sigstore.find((e) => e.oid.endsWith('.1.1')))?.value;
}

/** ECDSA: DER SEQUENCE { r, s } to WebCrypto's r ‖ s of `size` bytes each. */
export function ecdsaDerToP1363(sig: Uint8Array, size: number): Uint8Array {
  const [r, s] = children(readTlv(sig, 0));
  const out = new Uint8Array(2 * size);
  for (const [k, t] of [r, s].entries()) {
    if (!t || t.tag !== 0x02) throw new Error('ECDSA signature: malformed');
    let v = content(t);
    while (v.length > size && v[0] === 0) v = v.subarray(1);
    if (v.length > size) throw new Error('ECDSA signature: integer too large');
    out.set(v, k * size + size - v.length);
  }
  return out;
}

export type KeyKind = { name: 'ECDSA'; namedCurve: 'P-256' | 'P-384'; size: number; hash: 'SHA-256' | 'SHA-384' } | { name: 'Ed25519' };

/** What WebCrypto needs to import a DER SubjectPublicKeyInfo. */
export function keyKindOf(spki: Uint8Array): KeyKind {
  const [alg] = children(readTlv(spki, 0));
  const [algOid, param] = children(alg!);
  const a = oid(algOid!);
  if (a === '1.3.101.112') return { name: 'Ed25519' };
  if (a === '1.2.840.10045.2.1' && param) {
    const curve = oid(param);
    if (curve === '1.2.840.10045.3.1.7') return { name: 'ECDSA', namedCurve: 'P-256', size: 32, hash: 'SHA-256' };
    if (curve === '1.3.132.0.34') return { name: 'ECDSA', namedCurve: 'P-384', size: 48, hash: 'SHA-384' };
    throw new Error(`unsupported curve ${curve}`);
  }
  throw new Error(`unsupported key algorithm ${a}`);
}

/** The raw key bits of a SubjectPublicKeyInfo (an Ed25519 key's 32 bytes). */
export function spkiKeyBits(spki: Uint8Array): Uint8Array {
  const [, bits] = children(readTlv(spki, 0));
  return content(bits!).subarray(1);
}
