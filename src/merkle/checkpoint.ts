import { FormatError } from '../core/errors.js';
import type { KeyObject } from 'node:crypto';
import { signNote, verifyNote } from './notes.js';
import type { SigningKey } from '../core/signer.js';
import { base64Encode } from '../core/encoding.js';
import { HASH_SIZE } from './hash.js';

/** C2SP tlog-checkpoint body. */
export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** Optional non-empty extension lines (e.g. Rekor v1's old `Timestamp: <ns>`). */
  extensions: string[];
}

const STD_BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses a checkpoint body (the text of a signed note, ending in a newline). */
export function parseCheckpoint(body: string, field = 'checkpoint'): Checkpoint {
  if (typeof body !== 'string' || !body.endsWith('\n')) throw new FormatError(field, 'body must end with a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw new FormatError(field, 'needs origin, size and root hash lines');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new FormatError(`${field}.origin`, 'is empty');
  if (!/^(?:0|[1-9][0-9]{0,15})$/.test(sizeText)) throw new FormatError(`${field}.size`, 'is not a decimal number without leading zeros');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new FormatError(`${field}.size`, 'is too large');
  if (!STD_BASE64_RE.test(rootText)) throw new FormatError(`${field}.rootHash`, 'is not standard base64');
  const rootHash = Buffer.from(rootText, 'base64');
  if (rootHash.length !== HASH_SIZE) throw new FormatError(`${field}.rootHash`, `has ${rootHash.length} bytes, expected ${HASH_SIZE}`);
  for (const e of extensions) if (e.length === 0) throw new FormatError(`${field}.extensions`, 'contains an empty line');
  return { origin, size, rootHash, extensions };
}

/** Formats a checkpoint body; no line may be empty (sigstore-js splits at the first blank line). */
export function formatCheckpoint(cp: { origin: string; size: number; rootHash: Uint8Array; extensions?: readonly string[] }): string {
  if (cp.origin.length === 0 || cp.origin.includes('\n')) throw new FormatError('checkpoint.origin', 'must be one non-empty line');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new FormatError('checkpoint.size', 'must be a non-negative integer');
  if (cp.rootHash.byteLength !== HASH_SIZE) throw new FormatError('checkpoint.rootHash', `must be ${HASH_SIZE} bytes`);
  const ext = cp.extensions ?? [];
  for (const e of ext)
    if (e.length === 0 || e.includes('\n')) throw new FormatError('checkpoint.extensions', 'each must be one non-empty line');
  return [cp.origin, String(cp.size), base64Encode(cp.rootHash), ...ext].map((l) => `${l}\n`).join('');
}

/** Verifies a checkpoint note with the log's key and parses its body. */
export function verifySignedCheckpoint(note: string, name: string, publicKey: KeyObject, keyId?: Uint8Array): Checkpoint {
  const parsed = verifyNote(note, name, publicKey, keyId);
  return parseCheckpoint(parsed.body);
}

/** Formats and signs a checkpoint: the complete note text. */
export function signCheckpoint(
  cp: { origin: string; size: number; rootHash: Uint8Array; extensions?: readonly string[] },
  name: string,
  key: SigningKey,
): string {
  return signNote(formatCheckpoint(cp), name, key);
}
