// A small, strict DER reader and writer. The verifier parses certificates and
// timestamp tokens with this instead of @peculiar/asn1-* because those cost about
// 65 ms to import, most of the `verify-bundle` time budget. Every length is checked
// against its parent, so truncated or garbage input fails at once with a FormatError.
import { FormatError } from '../core/errors.js';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One TLV inside `buf`: `start` is the tag byte, [contentStart, end) the contents. */
export class DerNode {
  constructor(
    readonly buf: Buffer,
    readonly tag: number,
    readonly start: number,
    readonly contentStart: number,
    readonly end: number,
  ) {}

  get constructed(): boolean {
    return (this.tag & 0x20) !== 0;
  }

  /** The whole TLV, sharing memory with the input. */
  get bytes(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }

  get content(): Buffer {
    return this.buf.subarray(this.contentStart, this.end);
  }

  /** Children of a constructed node, each checked to fit exactly. */
  children(field: string): DerNode[] {
    if (!this.constructed) throw new FormatError(field, 'expected a constructed DER element');
    const out: DerNode[] = [];
    let pos = this.contentStart;
    while (pos < this.end) {
      const child = readNode(this.buf, pos, this.end, field);
      out.push(child);
      pos = child.end;
    }
    return out;
  }

  expect(tag: number, field: string): this {
    if (this.tag !== tag) {
      throw new FormatError(field, `expected DER tag 0x${tag.toString(16)}, got 0x${this.tag.toString(16)}`);
    }
    return this;
  }
}

/** Reads the TLV at `pos`, which must end no later than `limit`. */
export function readNode(buf: Buffer, pos: number, limit: number, field: string): DerNode {
  if (pos + 2 > limit) throw new FormatError(field, 'truncated DER element');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new FormatError(field, 'multi-byte DER tags are not supported');
  const lenByte = buf[pos + 1]!;
  let contentStart = pos + 2;
  let length: number;
  if (lenByte < 0x80) {
    length = lenByte;
  } else {
    const n = lenByte & 0x7f;
    if (n === 0) throw new FormatError(field, 'indefinite DER length');
    if (n > 4) throw new FormatError(field, 'DER length too large');
    if (contentStart + n > limit) throw new FormatError(field, 'truncated DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[contentStart + i]!;
    if (buf[contentStart] === 0 || length < 0x80) throw new FormatError(field, 'non-minimal DER length');
    contentStart += n;
  }
  const end = contentStart + length;
  if (end > limit) throw new FormatError(field, 'DER element longer than its container');
  return new DerNode(buf, tag, pos, contentStart, end);
}

/** Parses exactly one DER element covering all of `input`. */
export function parseDer(input: Uint8Array, field: string): DerNode {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const node = readNode(buf, 0, buf.length, field);
  if (node.end !== buf.length) throw new FormatError(field, 'trailing bytes after DER element');
  return node;
}

/** The children of a SEQUENCE, with a count check. */
export function sequence(node: DerNode, field: string, min = 0, max = Infinity): DerNode[] {
  node.expect(TAG.SEQUENCE, field);
  const kids = node.children(field);
  if (kids.length < min || kids.length > max) throw new FormatError(field, `expected ${min}..${max} elements, got ${kids.length}`);
  return kids;
}

// The same few dozen OIDs recur in every certificate and token: decode each once.
const oidCache = new Map<string, string>();
const OID_CACHE_LIMIT = 4096;

export function readOid(node: DerNode, field: string): string {
  node.expect(TAG.OID, field);
  const c = node.content;
  if (c.length === 0) throw new FormatError(field, 'empty OID');
  const key = c.toString('latin1');
  const cached = oidCache.get(key);
  if (cached !== undefined) return cached;
  const text = decodeOid(c, field);
  if (oidCache.size < OID_CACHE_LIMIT) oidCache.set(key, text);
  return text;
}

function decodeOid(c: Buffer, field: string): string {
  const parts: number[] = [];
  let value = 0;
  for (let i = 0; i < c.length; i++) {
    const b = c[i]!;
    if (value === 0 && b === 0x80) throw new FormatError(field, 'non-minimal OID encoding');
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new FormatError(field, 'OID arc too large');
    if ((b & 0x80) === 0) {
      parts.push(value);
      value = 0;
    } else if (i === c.length - 1) {
      throw new FormatError(field, 'truncated OID');
    }
  }
  const first = parts[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts.slice(1)].join('.');
}

/** An INTEGER's content bytes (two's complement, as encoded). */
export function readIntegerBytes(node: DerNode, field: string): Buffer {
  node.expect(TAG.INTEGER, field);
  const c = node.content;
  if (c.length === 0) throw new FormatError(field, 'empty INTEGER');
  return c;
}

/**
 * A non-negative INTEGER in strict DER (minimal two's complement, no sign bit set), at most
 * `maxBytes` content bytes. For values a server echoes or signs, which must re-encode exactly.
 */
export function readNonNegativeInteger(node: DerNode, field: string, maxBytes: number): bigint {
  const c = readIntegerBytes(node, field);
  if ((c[0]! & 0x80) !== 0) throw new FormatError(field, 'negative INTEGER');
  if (c.length > 1 && c[0] === 0 && (c[1]! & 0x80) === 0) throw new FormatError(field, 'non-minimal INTEGER encoding');
  const magnitude = c[0] === 0 && c.length > 1 ? c.length - 1 : c.length;
  if (magnitude > maxBytes) throw new FormatError(field, `INTEGER longer than ${maxBytes} bytes`);
  return BigInt(`0x${c.toString('hex')}`);
}

export function readSmallInteger(node: DerNode, field: string): number {
  const c = readIntegerBytes(node, field);
  if (c.length > 6 || (c[0]! & 0x80) !== 0) throw new FormatError(field, 'INTEGER out of range');
  let v = 0;
  for (const b of c) v = v * 256 + b;
  return v;
}

export function readBoolean(node: DerNode, field: string): boolean {
  node.expect(TAG.BOOLEAN, field);
  if (node.content.length !== 1) throw new FormatError(field, 'BOOLEAN must be one byte');
  return node.content[0] !== 0;
}

/** BIT STRING contents without the unused-bits byte (which must be 0 for keys and signatures). */
export function readBitString(node: DerNode, field: string): { bytes: Buffer; unusedBits: number } {
  node.expect(TAG.BIT_STRING, field);
  const c = node.content;
  if (c.length === 0 || c[0]! > 7) throw new FormatError(field, 'malformed BIT STRING');
  return { bytes: c.subarray(1), unusedBits: c[0]! };
}

const STRING_TAGS = new Set([TAG.UTF8_STRING, TAG.PRINTABLE_STRING, TAG.IA5_STRING, 0x14, 0x1a, 0x1e]);

/** Any of the ASN.1 string types used in names, as text. */
export function readString(node: DerNode, field: string): string {
  if (!STRING_TAGS.has(node.tag as never)) throw new FormatError(field, `expected a string, got DER tag 0x${node.tag.toString(16)}`);
  if (node.tag === 0x1e) {
    if (node.content.length % 2) throw new FormatError(field, 'odd-length BMPString');
    return Buffer.from(node.content).swap16().toString('utf16le');
  }
  return node.content.toString(node.tag === TAG.UTF8_STRING ? 'utf8' : 'latin1');
}

/** UTCTime or GeneralizedTime (Z only, optional fractional seconds) as a Date. */
export function readTime(node: DerNode, field: string): Date {
  const s = node.content.toString('latin1');
  let m: RegExpExecArray | null;
  let iso: string;
  if (node.tag === TAG.UTC_TIME) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) throw new FormatError(field, `malformed UTCTime ${JSON.stringify(s)}`);
    const yy = Number(m[1]);
    iso = `${yy >= 50 ? 1900 + yy : 2000 + yy}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
  } else if (node.tag === TAG.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d{1,9})?Z$/.exec(s);
    if (!m) throw new FormatError(field, `malformed GeneralizedTime ${JSON.stringify(s)}`);
    const frac = m[7] ? m[7].slice(0, 4).padEnd(4, '0') : '';
    iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac}Z`;
  } else {
    throw new FormatError(field, `expected a time, got DER tag 0x${node.tag.toString(16)}`);
  }
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new FormatError(field, `invalid time ${JSON.stringify(s)}`);
  return d;
}

// ---- writer -------------------------------------------------------------

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | out.length, ...out]);
}

/** Encodes one TLV from a tag and already-encoded contents. */
export function encodeTlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = contents.length === 1 ? contents[0]! : Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const der = {
  sequence: (...items: Uint8Array[]) => encodeTlv(TAG.SEQUENCE, ...items),
  set: (...items: Uint8Array[]) => encodeTlv(TAG.SET, ...items),
  /** SET OF in DER order (sorted by encoding). */
  setOf: (...items: Buffer[]) => encodeTlv(TAG.SET, ...[...items].sort(Buffer.compare)),
  octetString: (b: Uint8Array) => encodeTlv(TAG.OCTET_STRING, b),
  utf8: (s: string) => encodeTlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8')),
  null: () => Buffer.from([TAG.NULL, 0]),
  boolean: (v: boolean) => Buffer.from([TAG.BOOLEAN, 1, v ? 0xff : 0]),
  bitString: (b: Uint8Array) => encodeTlv(TAG.BIT_STRING, Buffer.from([0]), b),
  /** Explicit or implicit context tag [n]; constructed unless `primitive`. */
  context: (n: number, content: Uint8Array, primitive = false) => encodeTlv((primitive ? 0x80 : 0xa0) | n, content),
  oid: encodeOid,
  integer: encodeInteger,
  generalizedTime: (d: Date) => encodeTlv(TAG.GENERALIZED_TIME, Buffer.from(formatGeneralizedTime(d), 'latin1')),
  utcTime: (d: Date) => encodeTlv(TAG.UTC_TIME, Buffer.from(formatGeneralizedTime(d).slice(2), 'latin1')),
  /** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. */
  time: (d: Date) => (d.getUTCFullYear() < 2050 ? der.utcTime(d) : der.generalizedTime(d)),
};

function formatGeneralizedTime(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:T]/g, '');
}

export function encodeOid(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new Error(`bad OID ${oid}`);
  const out: number[] = [];
  const push = (v: number) => {
    const bytes = [v & 0x7f];
    v = Math.floor(v / 128);
    while (v > 0) {
      bytes.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...bytes);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return encodeTlv(TAG.OID, Buffer.from(out));
}

/** A non-negative integer from a number, bigint or big-endian unsigned bytes. */
export function encodeInteger(value: number | bigint | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number' || typeof value === 'bigint') {
    let hex = BigInt(value).toString(16);
    if (hex.length % 2) hex = '0' + hex;
    bytes = Buffer.from(hex, 'hex');
  } else {
    bytes = Buffer.from(value);
  }
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  bytes = bytes.subarray(i);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return encodeTlv(TAG.INTEGER, bytes);
}
