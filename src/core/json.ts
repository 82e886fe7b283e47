import { FormatError } from './errors.js';

export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * JSON.parse with a clear error and a nesting limit: deeply nested input is refused
 * before any recursive code (validators, canonicalizers) can overflow the stack on it.
 */
export function parseJson(text: string | Uint8Array, field = 'json', maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  const s = typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8');
  checkDepth(s, field, maxDepth);
  try {
    return JSON.parse(s);
  } catch (e) {
    throw new FormatError(field, `is not valid JSON (${(e as Error).message})`);
  }
}

/** Whether `s` holds at most `limit` opening brackets, found with native indexOf (a bound on its depth). */
function fewBrackets(s: string, limit: number): boolean {
  let n = 0;
  for (const bracket of ['{', '[']) {
    for (let i = s.indexOf(bracket); i !== -1; i = s.indexOf(bracket, i + 1)) if (++n > limit) return false;
  }
  return true;
}

function checkDepth(s: string, field: string, maxDepth: number): void {
  // A document cannot nest deeper than its bracket count: a bundle (a few dozen brackets in
  // kilobytes of base64) skips the character-by-character scan, a tenth of its verification.
  if (fewBrackets(s, maxDepth)) return;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) throw new FormatError(field, `JSON nested deeper than ${maxDepth} levels`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

/** Narrowing helpers that name the field on failure. */
export function asObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FormatError(field, `expected an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

export function asArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new FormatError(field, `expected an array, got ${value === null ? 'null' : typeof value}`);
  return value;
}

export function asString(value: unknown, field: string): string {
  if (typeof value !== 'string')
    throw new FormatError(field, `expected a string, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  return value;
}
