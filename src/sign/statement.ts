import { basename } from 'node:path';
import { hexEncode } from '../core/encoding.js';
import { SignError } from './errors.js';

import { serializeStatement } from '../formats/index.js';
export { IN_TOTO_PAYLOAD_TYPE } from '../formats/index.js';

/** Short predicate type names cosign accepts for `--type`, mapped to their URIs. */
export const PREDICATE_TYPE_ALIASES: Record<string, string> = {
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

export function resolvePredicateType(type: string): string {
  const alias = PREDICATE_TYPE_ALIASES[type.toLowerCase()];
  if (alias) return alias;
  try {
    new URL(type);
    return type;
  } catch {
    throw new SignError('PREDICATE_TYPE_INVALID', `--type "${type}" is neither a URI nor one of ${Object.keys(PREDICATE_TYPE_ALIASES).join(', ')}`, { check: 'predicate-type' });
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
