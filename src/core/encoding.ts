import { FormatError } from './errors.js';

const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Decodes standard or URL-safe base64, padded or not (the protobuf JSON rule).
 * Node's decoder silently skips garbage, so the alphabet and length are checked first.
 */
export function base64Decode(value: unknown, field: string): Buffer {
  if (typeof value !== 'string') throw new FormatError(field, `expected a base64 string, got ${describe(value)}`);
  const s = value.replace(/[\r\n]/g, '');
  if (!BASE64_RE.test(s) || s.length % 4 === 1) throw new FormatError(field, 'is not valid base64');
  // Padding counted by hand: a /=+$/ replace scans every '=' run and shows in profiles of bundle parsing.
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--;
  if (s.length % 4 === 0 || end === s.length) {
    return Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
  }
  throw new FormatError(field, 'is not valid base64 (bad padding)');
}

export function base64Encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function hexEncode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function hexDecode(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(value)) {
    throw new FormatError(field, `expected a hex string, got ${describe(value)}`);
  }
  return Buffer.from(value, 'hex');
}

export type PemLabel = 'CERTIFICATE' | 'PUBLIC KEY' | 'PRIVATE KEY' | 'EC PRIVATE KEY' | 'CERTIFICATE REQUEST' | string;

/** PEM as Go's pem.Encode writes it: 64-character lines, `\n`, trailing newline. */
export function pemEncode(label: PemLabel, der: Uint8Array): string {
  const b64 = base64Encode(der);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export interface PemBlock {
  label: string;
  der: Buffer;
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** All PEM blocks in a text, in order. */
export function pemDecodeAll(text: string, field = 'pem'): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    const body = (m[2] ?? '').replace(/\s+/g, '');
    blocks.push({ label: m[1] ?? '', der: base64Decode(body, field) });
  }
  return blocks;
}

/** Exactly one PEM block, optionally with a required label. */
export function pemDecode(text: string, label?: PemLabel, field = 'pem'): Buffer {
  const blocks = pemDecodeAll(text, field);
  const block = blocks[0];
  if (!block) throw new FormatError(field, 'no PEM block found');
  if (label !== undefined && block.label !== label) {
    throw new FormatError(field, `expected a PEM ${label}, found ${block.label}`);
  }
  return block.der;
}

export function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** Short type description for error messages, never the value itself (it may be huge). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}
