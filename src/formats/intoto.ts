// in-toto statements (https://in-toto.io/Statement/v1 and v0.1), as carried in DSSE.
import { FormatError } from '../core/errors.js';
import { describe } from '../core/encoding.js';
import { asObject, parseJson } from '../core/json.js';

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';

export interface StatementSubject {
  name: string;
  /** Algorithm name (e.g. `sha256`) → lower-case hex digest. */
  digest: Record<string, string>;
  /** Free-form string annotations (cosign puts `sign -a key=value` pairs here). */
  annotations?: Record<string, string>;
}

export interface Statement {
  type: typeof IN_TOTO_STATEMENT_V1 | typeof IN_TOTO_STATEMENT_V01;
  subjects: StatementSubject[];
  predicateType: string;
  predicate: unknown;
}

/** Hex lengths of the digest algorithms whose length we know; others only need to be hex. */
const DIGEST_HEX_LENGTHS: Readonly<Record<string, number>> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
  sha1: 40,
  sha224: 56,
  sha512_224: 56,
  sha512_256: 64,
};

/** Parses a statement from the DSSE payload bytes (or text / a parsed value). */
export function parseStatement(input: Uint8Array | string | unknown): Statement {
  const json = typeof input === 'string' || input instanceof Uint8Array ? parseJson(input, 'statement') : input;
  const o = asObject(json, 'statement');
  const type = o._type;
  if (type !== IN_TOTO_STATEMENT_V1 && type !== IN_TOTO_STATEMENT_V01) {
    throw new FormatError(
      'statement._type',
      `unsupported in-toto statement type ${typeof type === 'string' ? JSON.stringify(type.slice(0, 100)) : describe(type)}`,
      { check: 'statement-type' },
    );
  }
  if (!Array.isArray(o.subject) || o.subject.length === 0) {
    throw new FormatError('statement.subject', 'must be a non-empty array', { check: 'required' });
  }
  const subjects = o.subject.map((s, i) => readSubject(s, `statement.subject[${i}]`));
  if (typeof o.predicateType !== 'string' || o.predicateType === '') {
    throw new FormatError('statement.predicateType', 'must be a non-empty string', { check: 'required' });
  }
  if (o.predicate !== undefined && o.predicate !== null && (typeof o.predicate !== 'object' || Array.isArray(o.predicate))) {
    throw new FormatError('statement.predicate', `expected an object, got ${describe(o.predicate)}`, { check: 'type' });
  }
  return { type, subjects, predicateType: o.predicateType, predicate: o.predicate ?? undefined };
}

function readSubject(v: unknown, path: string): StatementSubject {
  const s = asObject(v, path);
  if (s.name !== undefined && typeof s.name !== 'string')
    throw new FormatError(`${path}.name`, `expected a string, got ${describe(s.name)}`, { check: 'type' });
  const d = asObject(s.digest, `${path}.digest`);
  const digest: Record<string, string> = {};
  for (const [alg, value] of Object.entries(d)) {
    const at = `${path}.digest.${alg}`;
    if (typeof value !== 'string' || !/^[0-9a-fA-F]+$/.test(value)) throw new FormatError(at, 'must be a hex string', { check: 'type' });
    const len = DIGEST_HEX_LENGTHS[alg];
    if (len !== undefined && value.length !== len)
      throw new FormatError(at, `must be ${len} hex characters, got ${value.length}`, { check: 'length' });
    digest[alg] = value.toLowerCase();
  }
  if (Object.keys(digest).length === 0) throw new FormatError(`${path}.digest`, 'must contain at least one digest', { check: 'required' });
  const annotations = readAnnotations(s.annotations);
  return { name: (s.name as string | undefined) ?? '', digest, ...(annotations ? { annotations } : {}) };
}

/** The string-valued annotations of a subject (others are not comparable with `-a key=value`). */
function readAnnotations(v: unknown): Record<string, string> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) if (typeof value === 'string') out[k] = value;
  return out;
}

/** The statement JSON for a DSSE payload (in-toto v1), compact. */
export function serializeStatement(st: { subjects: StatementSubject[]; predicateType: string; predicate?: unknown }): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: IN_TOTO_STATEMENT_V1,
      // An empty name is left out (cosign's image statements have none).
      subject: st.subjects.map((s) => ({
        ...(s.name === '' ? {} : { name: s.name }),
        digest: s.digest,
        ...(s.annotations ? { annotations: s.annotations } : {}),
      })),
      predicateType: st.predicateType,
      ...(st.predicate === undefined ? {} : { predicate: st.predicate }),
    }),
    'utf8',
  );
}

/** Short predicate type names cosign accepts for `--type`, mapped to their URIs. */
export const PREDICATE_TYPE_ALIASES: Readonly<Record<string, string>> = {
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  link: 'https://in-toto.io/Link/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
  custom: 'https://cosign.sigstore.dev/attestation/v1',
};

/** A cosign short name's URI (case-insensitive), or the value itself when it is not one. */
export function expandPredicateType(type: string): string {
  return PREDICATE_TYPE_ALIASES[type.toLowerCase()] ?? type;
}
