// Shared loaders for the conformance material (test/support/conformance.ts finds it).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { FormatError } from '../../src/core/errors.js';
import { CONFORMANCE_DIR } from '../support/conformance.js';

export { CONFORMANCE_DIR };

export function conformanceCases(): string[] {
  return readdirSync(CONFORMANCE_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(CONFORMANCE_DIR, e.name, 'bundle.sigstore.json')))
    .map((e) => e.name)
    .sort();
}

export function bundleText(name: string): string {
  return readFileSync(join(CONFORMANCE_DIR, name, 'bundle.sigstore.json'), 'utf8');
}

export function bundleJson(name: string): Record<string, any> {
  return JSON.parse(bundleText(name)) as Record<string, any>;
}

export function trustedRootFiles(): string[] {
  const files = conformanceCases()
    .map((c) => join(CONFORMANCE_DIR, c, 'trusted_root.json'))
    .filter((f) => existsSync(f));
  return [join(CONFORMANCE_DIR, 'trusted_root.production.json'), ...files];
}

/** Runs fn and checks that it throws a FormatError naming exactly `field`. */
export function assertFormatError(fn: () => unknown, field: string): FormatError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(
    caught instanceof FormatError,
    `expected a FormatError for ${field}, got ${caught === undefined ? 'no error' : String(caught)}`,
  );
  assert.equal(caught.code, 'FORMAT_INVALID');
  assert.equal(caught.field, field);
  return caught;
}

/** A JSON value as protojson would emit it: nulls, empty strings and empty lists dropped. */
export function withoutDefaults(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutDefaults);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === null || x === '' || x === '0' || (Array.isArray(x) && x.length === 0)) continue;
      // Some real bundles wrap long base64 values in lines; protojson output never does.
      out[k] = typeof x === 'string' && k !== 'envelope' && /^[A-Za-z0-9+/=\n]+$/.test(x) ? x.replace(/\n/g, '') : withoutDefaults(x);
    }
    return out;
  }
  return v;
}

/**
 * Keyless's one departure from canonical protojson: every tlog entry and inclusion proof
 * carries its logIndex, "0" included, and every proof its hashes, [] included
 * (sigstore-python 4.5.1 requires these fields; see writeTransparencyLogEntry). This writes
 * them into protojson output that left them out, and changes nothing else.
 */
export function withExplicitProofFields(bundle: unknown): any {
  const out = clone(bundle) as { verificationMaterial?: { tlogEntries?: Array<Record<string, any>> } };
  for (const entry of out.verificationMaterial?.tlogEntries ?? []) {
    entry.logIndex ??= '0';
    if (entry.inclusionProof) {
      entry.inclusionProof.logIndex ??= '0';
      entry.inclusionProof.hashes ??= [];
    }
  }
  return out;
}

export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Every object key in snake_case (the proto field names protojson also accepts). */
export function snakeCaseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeCaseKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeCaseKeys(x)]));
  }
  return v;
}
