import { basename } from 'node:path';
import { hexEncode } from '../core/encoding.js';
import { SignError } from './errors.js';

import { expandPredicateType, PREDICATE_TYPE_ALIASES, serializeStatement } from '../formats/index.js';
export { IN_TOTO_PAYLOAD_TYPE } from '../formats/index.js';

export function resolvePredicateType(type: string): string {
  const expanded = expandPredicateType(type);
  if (expanded !== type) return expanded;
  try {
    new URL(type);
    return type;
  } catch {
    throw new SignError(
      'PREDICATE_TYPE_INVALID',
      `--type "${type}" is neither a URI nor one of ${Object.keys(PREDICATE_TYPE_ALIASES).join(', ')}`,
      { check: 'predicate-type' },
    );
  }
}

/** An in-toto v1 statement about one artifact, serialized as the DSSE payload. */
export function buildStatement(artifactName: string, artifactSha256: Uint8Array, predicateType: string, predicate: unknown): Buffer {
  return serializeStatement({
    subjects: [{ name: basename(artifactName), digest: { sha256: hexEncode(artifactSha256) } }],
    predicateType,
    predicate,
  });
}
