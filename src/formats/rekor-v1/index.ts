// Rekor v1 entry types (sigstore/rekor pkg/types), one module per kind: hashedrekord
// 0.0.1, dsse 0.0.1 and intoto 0.0.2. Canonical bodies are RFC 8785 JSON exactly as
// Rekor stores them; proposed entries are the bodies of POST /api/v1/log/entries.
// This module dispatches on kind and apiVersion.
import { FormatError } from '../../core/errors.js';
import { asObject, asString } from '../../core/json.js';
import { strictKeys, unsupportedKind } from './common.js';
import {
  canonicalDsseV001Body,
  parseDsseV001Body,
  parseDsseV001Proposed,
  serializeDsseV001Proposed,
  type DsseV001,
  type DsseV001Proposed,
} from './dsse.js';
import {
  canonicalHashedRekordV001Body,
  parseHashedRekordV001Body,
  parseHashedRekordV001Proposed,
  serializeHashedRekordV001Proposed,
  type HashedRekordV001,
  type HashedRekordV001Proposed,
} from './hashedrekord.js';
import {
  canonicalIntotoV002Body,
  parseIntotoV002Body,
  parseIntotoV002Proposed,
  serializeIntotoV002Proposed,
  type IntotoV002,
  type IntotoV002Proposed,
} from './intoto.js';

export {
  MAX_REKOR_V1_DSSE_SIGNATURES,
  MAX_REKOR_V1_DSSE_VERIFIERS,
  readRekorHash,
  unsupportedKind,
  type RekorHash,
  type RekorHashAlgorithm,
} from './common.js';
export { buildHashedRekordV001, type HashedRekordV001 } from './hashedrekord.js';
export { buildDsseV001, type DsseV001, type DsseV001Signature } from './dsse.js';
export { buildIntotoV002, type IntotoV002, type IntotoV002Signature } from './intoto.js';

export type RekorV1Entry = HashedRekordV001 | DsseV001 | IntotoV002;

/** Parses a canonical Rekor v1 body of a supported kind (strict: unknown fields rejected). */
export function parseRekorV1Body(json: Record<string, unknown>, path = 'body'): RekorV1Entry {
  strictKeys(json, path, ['apiVersion', 'kind', 'spec']);
  const spec = asObject(json.spec, `${path}.spec`);
  const at = `${path}.spec`;
  if (json.kind === 'hashedrekord' && json.apiVersion === '0.0.1') return parseHashedRekordV001Body(spec, at);
  if (json.kind === 'dsse' && json.apiVersion === '0.0.1') return parseDsseV001Body(spec, at);
  if (json.kind === 'intoto' && json.apiVersion === '0.0.2') return parseIntotoV002Body(spec, at);
  throw unsupportedKind(json, path);
}

/** The canonical body bytes of an entry (JCS), as Rekor stores and serves them. */
export function canonicalRekorV1Body(e: RekorV1Entry): Buffer {
  switch (e.kind) {
    case 'hashedrekord':
      return canonicalHashedRekordV001Body(e);
    case 'dsse':
      return canonicalDsseV001Body(e);
    case 'intoto':
      return canonicalIntotoV002Body(e);
  }
}

/** Proposed entries (request bodies of POST /api/v1/log/entries). */
export type RekorV1ProposedEntry = HashedRekordV001Proposed | DsseV001Proposed | IntotoV002Proposed;

/**
 * Validates a proposed entry. Like Rekor (go-swagger) unknown fields are ignored;
 * every field that is used is type-checked and decoded.
 */
export function parseRekorV1ProposedEntry(json: unknown): RekorV1ProposedEntry {
  const o = asObject(json, 'proposedEntry');
  const kind = asString(o.kind, 'kind');
  const apiVersion = asString(o.apiVersion, 'apiVersion');
  const spec = asObject(o.spec, 'spec');
  if (kind === 'hashedrekord' && apiVersion === '0.0.1') return parseHashedRekordV001Proposed(spec);
  if (kind === 'dsse' && apiVersion === '0.0.1') return parseDsseV001Proposed(spec);
  if (kind === 'intoto' && apiVersion === '0.0.2') return parseIntotoV002Proposed(spec);
  throw new FormatError('kind', `unsupported entry kind/version ${kind.slice(0, 40)} ${apiVersion.slice(0, 20)}`, {
    check: 'entry-kind',
    actual: `${kind}/${apiVersion}`,
  });
}

/** A proposed entry as JSON, as sigstore clients send it. */
export function serializeRekorV1ProposedEntry(e: RekorV1ProposedEntry): Record<string, unknown> {
  switch (e.kind) {
    case 'hashedrekord':
      return serializeHashedRekordV001Proposed(e);
    case 'dsse':
      return serializeDsseV001Proposed(e);
    case 'intoto':
      return serializeIntotoV002Proposed(e);
  }
}
