// What the Rekor v1 entry kinds share: the hash object, strict field checks and the
// base64 helpers of their bodies.
import { FormatError } from '../../core/errors.js';
import { base64Decode, base64Encode, describe } from '../../core/encoding.js';
import { asObject, asString } from '../../core/json.js';

export type RekorHashAlgorithm = 'sha256' | 'sha384' | 'sha512';

export interface RekorHash {
  algorithm: RekorHashAlgorithm;
  /** Lower-case hex. */
  value: string;
}

/**
 * Most signatures and verifiers in a proposed DSSE / in-toto entry (the limits rekor-tiles
 * puts on Rekor v2 DSSE requests): admission tries each verifier at most once per signature,
 * so these bound the signature checks one entry can cost.
 */
export const MAX_REKOR_V1_DSSE_SIGNATURES = 10;
export const MAX_REKOR_V1_DSSE_VERIFIERS = 10;

/** Refuses a list longer than `max` before anything in it is decoded. */
export function requireAtMost(list: readonly unknown[], max: number, path: string): void {
  if (list.length > max) throw new FormatError(path, `at most ${max} items are allowed, got ${list.length}`, { check: 'limit' });
}

const HEX_LENGTHS: Record<RekorHashAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };

export function strictKeys(o: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new FormatError(`${path}.${k}`, 'unknown field', { check: 'unknown-field' });
  }
}

export function readRekorHash(v: unknown, path: string, opts: { defaultSha256?: boolean; strict?: boolean } = {}): RekorHash {
  const o = asObject(v, path);
  if (opts.strict) strictKeys(o, path, ['algorithm', 'value']);
  const alg = o.algorithm === undefined && opts.defaultSha256 ? 'sha256' : o.algorithm;
  if (alg !== 'sha256' && alg !== 'sha384' && alg !== 'sha512') {
    throw new FormatError(
      `${path}.algorithm`,
      `must be sha256, sha384 or sha512, got ${typeof alg === 'string' ? JSON.stringify(alg.slice(0, 20)) : describe(alg)}`,
      { check: 'hash-algorithm' },
    );
  }
  const value = asString(o.value, `${path}.value`);
  if (!/^[0-9a-f]*$/.test(value) || value.length !== HEX_LENGTHS[alg]) {
    throw new FormatError(`${path}.value`, `must be ${HEX_LENGTHS[alg]} lower-case hex characters for ${alg}`, { check: 'hash-value' });
  }
  return { algorithm: alg, value };
}

export function nonEmptyBase64(v: unknown, path: string): Buffer {
  const b = base64Decode(v, path);
  if (b.length === 0) throw new FormatError(path, 'must not be empty', { check: 'required' });
  return b;
}

export function unsupportedKind(json: Record<string, unknown>, path: string): FormatError {
  const kind = typeof json.kind === 'string' ? json.kind.slice(0, 40) : describe(json.kind);
  const version = typeof json.apiVersion === 'string' ? json.apiVersion.slice(0, 20) : describe(json.apiVersion);
  return new FormatError(`${path}.kind`, `unsupported entry kind/version ${kind} ${version}`, {
    check: 'entry-kind',
    actual: `${kind}/${version}`,
  });
}

/** intoto 0.0.2 treats the DSSE base64 strings as bytes, so they are base64 twice. */
export function doubleBase64Decode(v: unknown, path: string): Buffer {
  const inner = nonEmptyBase64(v, path).toString('latin1');
  return nonEmptyBase64(inner, path);
}

export function doubleBase64(b: Uint8Array): string {
  return Buffer.from(base64Encode(b), 'latin1').toString('base64');
}
