// Strict reading of protobuf JSON ("proto3 JSON") documents. The protobuf-specs
// generated fromJSON functions accept almost anything; these helpers accept what a
// protojson parser accepts (both key spellings, int64 as string or number, bytes in
// either base64 alphabet, null as absent) and reject everything else, naming the path.
import { FormatError } from '../core/errors.js';
import { base64Decode, base64Encode, describe } from '../core/encoding.js';

export interface ReadOptions {
  /** protojson rejects unknown keys by default; set to skip them instead. */
  ignoreUnknownFields?: boolean;
}

/** `keyDetails` → `key_details`, `hashedRekordV002` → `hashed_rekord_v002`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A JSON object being read as one protobuf message: fields by their lowerCamel name. */
export class MessageReader {
  private readonly values = new Map<string, unknown>();

  constructor(
    value: unknown,
    readonly path: string,
    fields: readonly string[],
    readonly options: ReadOptions = {},
  ) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new FormatError(path || '(root)', `expected an object, got ${describe(value)}`);
    }
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      // lowerCamel, as every Sigstore client writes, is found at once; only a key with an
      // underscore is compared with the fields' snake_case spellings (no map built per message).
      const name = fields.includes(key) ? key : key.includes('_') ? fields.find((f) => snakeCase(f) === key) : undefined;
      if (name === undefined) {
        if (options.ignoreUnknownFields) continue;
        throw new FormatError(this.at(key), 'unknown field', { check: 'unknown-field' });
      }
      if (this.values.has(name))
        throw new FormatError(this.at(name), 'field given twice (lowerCamel and snake_case)', { check: 'duplicate-field' });
      // Explicit null means "not set" for every field type Sigstore uses.
      this.values.set(name, v === null ? undefined : v);
    }
  }

  at(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  has(name: string): boolean {
    return this.values.get(name) !== undefined;
  }

  raw(name: string): unknown {
    return this.values.get(name);
  }

  /** Which member of a oneof is set; more than one is an error, none gives undefined. */
  oneof<K extends string>(members: readonly K[], what: string, required: boolean): K | undefined {
    const set = members.filter((m) => this.has(m));
    if (set.length > 1) {
      throw new FormatError(this.at(set[1] as string), `only one of ${members.join(', ')} may be set (${what})`, { check: 'oneof' });
    }
    if (set.length === 0 && required) {
      throw new FormatError(this.at(what), `one of ${members.join(', ')} is required`, { check: 'required' });
    }
    return set[0];
  }

  required(name: string): unknown {
    const v = this.values.get(name);
    if (v === undefined) throw new FormatError(this.at(name), 'is required', { check: 'required' });
    return v;
  }

  message(name: string, fields: readonly string[]): MessageReader | undefined {
    const v = this.values.get(name);
    return v === undefined ? undefined : new MessageReader(v, this.at(name), fields, this.options);
  }

  requiredMessage(name: string, fields: readonly string[]): MessageReader {
    return new MessageReader(this.required(name), this.at(name), fields, this.options);
  }

  string(name: string, opts: { required?: boolean } = {}): string {
    const v = opts.required ? this.required(name) : this.values.get(name);
    if (v === undefined) return '';
    if (typeof v !== 'string') throw new FormatError(this.at(name), `expected a string, got ${describe(v)}`, { check: 'type' });
    if (opts.required && v === '') throw new FormatError(this.at(name), 'must not be empty', { check: 'required' });
    return v;
  }

  bytes(name: string, opts: { required?: boolean; length?: number } = {}): Buffer {
    const v = opts.required ? this.required(name) : this.values.get(name);
    if (v === undefined) return Buffer.alloc(0);
    return checkBytes(base64Decode(v, this.at(name)), this.at(name), opts);
  }

  /** int64/uint64: a decimal string or a JSON integer; returned as a decimal string. */
  int64(name: string, opts: { required?: boolean; min?: bigint } = {}): string {
    const v = opts.required ? this.required(name) : this.values.get(name);
    if (v === undefined) return '0';
    return readInt64(v, this.at(name), opts.min);
  }

  /** int32/uint32: a JSON integer or a numeric string. */
  int32(name: string, opts: { required?: boolean; min?: number } = {}): number {
    const v = opts.required ? this.required(name) : this.values.get(name);
    if (v === undefined) return 0;
    const n = Number(readInt64(v, this.at(name)));
    if (n > 2 ** 31 - 1 || n < -(2 ** 31)) throw new FormatError(this.at(name), 'does not fit in 32 bits', { check: 'range' });
    if (opts.min !== undefined && n < opts.min)
      throw new FormatError(this.at(name), `must be at least ${opts.min}`, { check: 'range', actual: n });
    return n;
  }

  array(name: string): { value: unknown; path: string }[] {
    const v = this.values.get(name);
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new FormatError(this.at(name), `expected an array, got ${describe(v)}`, { check: 'type' });
    return v.map((value, i) => {
      if (value === null) throw new FormatError(`${this.at(name)}[${i}]`, 'null is not allowed in a list', { check: 'type' });
      return { value, path: `${this.at(name)}[${i}]` };
    });
  }

  enumValue<T extends number>(name: string, table: Readonly<Record<string, T>>, opts: { required?: boolean } = {}): T {
    const v = opts.required ? this.required(name) : this.values.get(name);
    const path = this.at(name);
    if (v === undefined) return 0 as T;
    let n: T | undefined;
    if (typeof v === 'string') n = table[v];
    else if (typeof v === 'number' && Number.isInteger(v)) n = Object.values(table).find((x) => x === v);
    if (n === undefined)
      throw new FormatError(path, `unknown value ${typeof v === 'string' ? JSON.stringify(v.slice(0, 64)) : describe(v)}`, {
        check: 'enum',
      });
    if (opts.required && n === 0) throw new FormatError(path, 'must not be unspecified', { check: 'required' });
    return n;
  }

  timestamp(name: string, opts: { required?: boolean } = {}): Date | undefined {
    const v = opts.required ? this.required(name) : this.values.get(name);
    if (v === undefined) return undefined;
    return parseTimestamp(v, this.at(name));
  }
}

export function checkBytes(b: Buffer, path: string, opts: { required?: boolean; length?: number }): Buffer {
  if (opts.required && b.length === 0) throw new FormatError(path, 'must not be empty', { check: 'required' });
  if (opts.length !== undefined && b.length !== 0 && b.length !== opts.length) {
    throw new FormatError(path, `must be ${opts.length} bytes, got ${b.length}`, {
      check: 'length',
      expected: opts.length,
      actual: b.length,
    });
  }
  return b;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

export function readInt64(v: unknown, path: string, min?: bigint): string {
  let n: bigint | undefined;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new FormatError(path, 'expected an integer', { check: 'type' });
    // Beyond 2^53 JSON.parse has already rounded the value: only a string keeps it exact.
    if (!Number.isSafeInteger(v))
      throw new FormatError(path, 'integer too large for a JSON number (give it as a string)', { check: 'range' });
    n = BigInt(v);
  } else if (typeof v === 'string') {
    n = integerFromNumberText(v);
  }
  if (n === undefined)
    throw new FormatError(
      path,
      `expected an integer (string or number), got ${typeof v === 'string' ? JSON.stringify(v.slice(0, 30)) : describe(v)}`,
      { check: 'type' },
    );
  if (n > INT64_MAX || n < INT64_MIN) throw new FormatError(path, 'does not fit in 64 bits', { check: 'range' });
  if (min !== undefined && n < min) throw new FormatError(path, `must be at least ${min}`, { check: 'range', actual: n.toString() });
  return n.toString();
}

const NUMBER_TEXT_RE = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]{1,4}))?$/;

/**
 * protojson reads quoted integers with the JSON number grammar, so "1e3" and "7.0" are
 * integers too; the value must be integral. Leading zeros, spaces and "+" are not.
 */
function integerFromNumberText(text: string): bigint | undefined {
  const m = NUMBER_TEXT_RE.exec(text);
  if (!m) return undefined;
  const [, sign, int, frac = '', exp = '0'] = m;
  let digits = `${int}${frac}`;
  let scale = Number(exp) - frac.length;
  if (scale < 0) {
    if (!/^0*$/.test(digits.slice(scale))) return undefined; // a fraction remains
    digits = digits.slice(0, scale) || '0';
    scale = 0;
  }
  if (digits.replace(/^0+/, '').length + scale > 20) return BigInt(sign === '-' ? -1 : 1) * 10n ** 20n; // out of range either way
  const value = BigInt(digits) * 10n ** BigInt(scale);
  return sign === '-' ? -value : value;
}

// RFC 3339 as protojson accepts it: a 'T', seconds, optional fraction up to nanoseconds,
// 'Z' or an offset. Date.parse alone would also accept "2024" or "March 7".
const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseTimestamp(v: unknown, path: string): Date {
  if (typeof v !== 'string') throw new FormatError(path, `expected an RFC 3339 timestamp string, got ${describe(v)}`, { check: 'type' });
  const m = RFC3339_RE.exec(v);
  if (!m) throw new FormatError(path, `is not an RFC 3339 timestamp: ${JSON.stringify(v.slice(0, 40))}`, { check: 'timestamp' });
  const [, , mo, d, h, mi, s] = m.map(Number) as number[];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || s! > 59) {
    throw new FormatError(path, `has an out-of-range field: ${JSON.stringify(v)}`, { check: 'timestamp' });
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new FormatError(path, `is not a valid date: ${JSON.stringify(v)}`, { check: 'timestamp' });
  return new Date(t);
}

/** protojson's Timestamp output: UTC, 'Z', fraction only when non-zero (0, 3 digits here). */
export function formatTimestamp(d: Date): string {
  const iso = d.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** Each element of a list read as a message. */
export function readList<T>(parent: MessageReader, name: string, read: (value: unknown, path: string) => T): T[] {
  return parent.array(name).map(({ value, path }) => read(value, path));
}

export function b64(bytes: Uint8Array): string {
  return base64Encode(bytes);
}

/** Drops keys whose value is a protobuf default, as protojson does when emitting. */
export function compact(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === '' || v === 0 || v === '0' || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}
