import type { TransparencyLog } from '../../log/index.js';
import { HttpError } from '../http/index.js';
import { emailIndexKey, hashIndexKey, issuerIndexKey, uriIndexKey } from '../tlog/index.js';

/**
 * A log the explorer searches, by the name its read API and the page use. The CT log's
 * index keys are derived from its leaves (services/ctlog/index-keys.ts); its entry UUID is
 * the RFC 6962 leaf hash, as get-proof-by-hash takes it.
 */
export interface ExplorerLog {
  name: 'rekor-v1' | 'rekor-v2' | 'ct';
  log: TransparencyLog;
}

/** What a result points to: the page reads the entry through that log's own read API. */
export interface EntryPointer {
  log: ExplorerLog['name'];
  index: number;
}

export type QueryKind = 'email' | 'uri' | 'issuer' | 'digest' | 'index' | 'uuid';

export interface ParsedQuery {
  kind: QueryKind;
  /** Index keys to look up (email, uri, issuer, digest), or the leaf hash (uuid), or the decimal index. */
  value: string;
  /** A 64-hex query is both an entry UUID and a SHA-256 digest: both are looked up. */
  alsoDigest?: string;
  /** Rekor v1 80-hex UUIDs carry the tree ID in their first 16 hex digits. */
  treeIdHex?: string;
}

export const MAX_QUERY_LENGTH = 1024;
export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;
/** Deepest offset a search pages to: each page reads offset + limit keys per log. */
export const MAX_OFFSET = 10_000;

const DIGEST_LENGTH = { sha256: 64, sha384: 96, sha512: 128 } as const;

/**
 * Classifies a search box query: an e-mail, a URI, `issuer:URL` (the OIDC issuer of the
 * certificates the CT log holds), `alg:HEX`, a log index or an entry UUID.
 */
export function parseQuery(raw: unknown): ParsedQuery {
  if (typeof raw !== 'string' || raw.trim() === '')
    throw new HttpError('REQUEST_INVALID', 'q is required: an e-mail, a URI, issuer:URL, sha256:HEX, a log index or an entry UUID');
  const q = raw.trim();
  if (q.length > MAX_QUERY_LENGTH) throw new HttpError('REQUEST_INVALID', `q is longer than ${MAX_QUERY_LENGTH} characters`);
  if (/^(0|[1-9][0-9]{0,15})$/.test(q)) {
    if (!Number.isSafeInteger(Number(q))) throw new HttpError('REQUEST_INVALID', 'log index is too large');
    return { kind: 'index', value: q };
  }
  const digest = /^(sha256|sha384|sha512):([0-9a-fA-F]+)$/.exec(q);
  if (digest) {
    const alg = digest[1] as keyof typeof DIGEST_LENGTH;
    if (digest[2]!.length !== DIGEST_LENGTH[alg])
      throw new HttpError('REQUEST_INVALID', `a ${alg} digest has ${DIGEST_LENGTH[alg]} hex digits`);
    return { kind: 'digest', value: hashIndexKey(alg, digest[2]!) };
  }
  const issuer = /^issuer:(\S+)$/.exec(q);
  if (issuer) return { kind: 'issuer', value: issuerIndexKey(issuer[1]!) };
  if (/^[0-9a-fA-F]{64}$/.test(q)) return { kind: 'uuid', value: q.toLowerCase(), alsoDigest: hashIndexKey('sha256', q) };
  if (/^[0-9a-fA-F]{80}$/.test(q)) return { kind: 'uuid', value: q.slice(16).toLowerCase(), treeIdHex: q.slice(0, 16).toLowerCase() };
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S+$/.test(q)) return { kind: 'uri', value: uriIndexKey(q) };
  if (/^[^\s@]+@[^\s@]+$/.test(q)) return { kind: 'email', value: emailIndexKey(q) };
  throw new HttpError('REQUEST_INVALID', 'q is not an e-mail, a URI, issuer:URL, sha256:HEX, a log index or an entry UUID');
}

function treeIdHexOf(log: TransparencyLog): string {
  return BigInt(log.treeId).toString(16).padStart(16, '0');
}

/**
 * Every entry the query names, log by log (in the given order), each log's ascending by
 * index; one page of it and whether there is more. Reads at most offset + limit + 1
 * keys per log, so the cost is bounded by MAX_OFFSET.
 */
export async function searchLogs(
  logs: readonly ExplorerLog[],
  query: ParsedQuery,
  offset: number,
  limit: number,
): Promise<{ results: EntryPointer[]; more: boolean }> {
  const want = offset + limit + 1;
  const all: EntryPointer[] = [];
  for (const { name, log } of logs) {
    const found = new Set<number>();
    if (query.kind === 'index') {
      const index = Number(query.value);
      if (index < log.size) found.add(index);
    } else if (query.kind === 'uuid') {
      if (query.treeIdHex === undefined || (name === 'rekor-v1' && query.treeIdHex === treeIdHexOf(log))) {
        const index = await log.findByLeafHash(Buffer.from(query.value, 'hex'));
        if (index !== undefined) found.add(index);
      }
      if (query.alsoDigest) for (const i of await log.search([query.alsoDigest], 'or', want)) found.add(i);
    } else {
      for (const i of await log.search([query.value], 'or', want)) found.add(i);
    }
    for (const index of [...found].sort((a, b) => a - b)) all.push({ log: name, index });
    if (all.length >= want) break;
  }
  return { results: all.slice(offset, offset + limit), more: all.length > offset + limit };
}
