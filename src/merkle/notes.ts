import type { KeyObject } from 'node:crypto';
import { FormatError, VerificationError } from '../core/errors.js';
import { base64Encode, hexEncode } from '../core/encoding.js';
import { bytesEqual, sha256 } from '../core/hash.js';
import { describeKey, publicKeyDer, verifySignature } from '../core/keys.js';
import { asSigner, type SigningKey } from '../core/signer.js';

/** C2SP signed-note: one signature line. */
export interface NoteSignature {
  name: string;
  /** The 4-byte key ID (key hint). */
  keyId: Buffer;
  signature: Buffer;
}

export interface SignedNote {
  /** The signed text, ending in a newline. */
  body: string;
  signatures: NoteSignature[];
}

/** U+2014 EM DASH, which starts every signature line. */
const SIG_PREFIX = '\u2014 ';
const STD_BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const MAX_NOTE_SIZE = 1 << 20;
export const MAX_NOTE_SIGNATURES = 100;

function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

/**
 * Parses a signed note strictly: text and signatures split at the last blank line, a
 * body ending in a newline, no control characters but newline, every signature line
 * `— <name> <base64(keyID ‖ signature)>` with a valid name and standard base64.
 */
export function parseSignedNote(text: unknown, field = 'note'): SignedNote {
  if (typeof text !== 'string') throw new FormatError(field, 'expected a string');
  if (text.length > MAX_NOTE_SIZE) throw new FormatError(field, `is larger than ${MAX_NOTE_SIZE} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text)) throw new FormatError(field, 'contains control characters');
  if (!text.endsWith('\n')) throw new FormatError(field, 'does not end with a newline');
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw new FormatError(field, 'has no blank line before its signatures');
  const body = text.slice(0, split + 1);
  if (body.length === 0 || body === '\n') throw new FormatError(field, 'has an empty body');
  const lines = text.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw new FormatError(field, `has more than ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures = lines.map((line, i) => parseSignatureLine(line, `${field}.signatures[${i}]`));
  return { body, signatures };
}

function parseSignatureLine(line: string, field: string): NoteSignature {
  if (!line.startsWith(SIG_PREFIX)) throw new FormatError(field, 'does not start with an em dash and a space');
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space <= 0) throw new FormatError(field, 'has no key name');
  const name = rest.slice(0, space);
  const b64 = rest.slice(space + 1);
  if (!isValidKeyName(name)) throw new FormatError(field, 'has an invalid key name');
  if (!STD_BASE64_RE.test(b64)) throw new FormatError(field, 'signature is not standard base64');
  const raw = Buffer.from(b64, 'base64');
  if (raw.length < 5) throw new FormatError(field, 'signature is too short');
  return { name, keyId: raw.subarray(0, 4), signature: raw.subarray(4) };
}

export function formatSignedNote(note: SignedNote): string {
  if (!note.body.endsWith('\n')) throw new FormatError('note.body', 'must end with a newline');
  const lines = note.signatures.map((s) => `${SIG_PREFIX}${s.name} ${base64Encode(Buffer.concat([s.keyId, s.signature]))}\n`);
  return `${note.body}\n${lines.join('')}`;
}

/** Raw 32-byte Ed25519 public key from a KeyObject. */
function ed25519Raw(key: KeyObject): Buffer {
  const der = publicKeyDer(key);
  return der.subarray(der.length - 32);
}

/**
 * The full 32-byte key hash of a note verifier (C2SP signed-note, rekor-tiles):
 * Ed25519 SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key), ECDSA SHA-256(DER SPKI) (= the RFC 6962 log
 * ID), RSA SHA-256(name ‖ 0x0A ‖ 0xFF ‖ "PKIX-RSA-PKCS#1v1.5" ‖ DER SPKI).
 * Rekor v2 uses it as `logId.keyId`; its first 4 bytes are the key ID in signature lines.
 */
export function noteKeyHash(name: string, publicKey: KeyObject): Buffer {
  const info = describeKey(publicKey, 'noteKey');
  const nameBytes = Buffer.from(`${name}\n`, 'utf8');
  if (info.algorithm === 'ed25519') return sha256(nameBytes, Uint8Array.of(0x01), ed25519Raw(publicKey));
  if (info.algorithm === 'rsa') return sha256(nameBytes, Uint8Array.of(0xff), Buffer.from('PKIX-RSA-PKCS#1v1.5'), publicKeyDer(publicKey));
  return sha256(publicKeyDer(publicKey));
}

/** The 4-byte key ID (key hint) in signature lines. */
export function noteKeyId(name: string, publicKey: KeyObject): Buffer {
  return noteKeyHash(name, publicKey).subarray(0, 4);
}

/** Signs a note body with a log key: Ed25519 pure, ECDSA DER over the curve's hash. */
export function signNoteSignature(body: string, name: string, key: SigningKey): NoteSignature {
  if (!isValidKeyName(name)) throw new FormatError('noteName', 'key name must be non-empty without spaces or "+"');
  if (!body.endsWith('\n')) throw new FormatError('note.body', 'must end with a newline');
  const signer = asSigner(key);
  return { name, keyId: noteKeyId(name, signer.publicKey), signature: signer.sign(Buffer.from(body, 'utf8')) };
}

/**
 * A reusable signer for one key: the key ID is computed once (exporting a key costs
 * more than signing with it under OpenSSL 3).
 */
export function noteSigner(name: string, key: SigningKey): (body: string) => string {
  if (!isValidKeyName(name)) throw new FormatError('noteName', 'key name must be non-empty without spaces or "+"');
  const signer = asSigner(key);
  describeKey(signer.publicKey, 'noteKey');
  const keyId = noteKeyId(name, signer.publicKey);
  return (body) => {
    if (!body.endsWith('\n')) throw new FormatError('note.body', 'must end with a newline');
    return formatSignedNote({ body, signatures: [{ name, keyId, signature: signer.sign(Buffer.from(body, 'utf8')) }] });
  };
}

/** Body plus one signature line: a complete signed note. */
export function signNote(body: string, name: string, key: SigningKey): string {
  return formatSignedNote({ body, signatures: [signNoteSignature(body, name, key)] });
}

export interface NoteVerifier {
  name: string;
  publicKey: KeyObject;
  /** Override of the 4-byte key ID (defaults to the C2SP rule for the key type). */
  keyId?: Uint8Array;
}

/**
 * Verifies a note against one known key. Lines from other keys (witnesses, other logs)
 * are ignored; every line with this key's name and key ID must verify, and at least one
 * must exist. Returns the parsed note.
 */
export function verifyNote(note: string | SignedNote, name: string, publicKey: KeyObject, keyId?: Uint8Array): SignedNote {
  const parsed = typeof note === 'string' ? parseSignedNote(note) : note;
  const id = keyId ?? noteKeyId(name, publicKey);
  const info = describeKey(publicKey, 'noteKey');
  const matching = parsed.signatures.filter((s) => s.name === name && bytesEqual(s.keyId, id));
  if (matching.length === 0) {
    throw new VerificationError('NOTE_SIGNATURE_MISSING', `no signature line for key ${name} (key ID ${hexEncode(id)})`, {
      check: 'note-signature',
      expected: `${name} ${hexEncode(id)}`,
      actual: parsed.signatures.map((s) => `${s.name} ${hexEncode(s.keyId)}`),
    });
  }
  const message = Buffer.from(parsed.body, 'utf8');
  for (const s of matching) {
    if (!verifySignature(info, message, s.signature)) {
      throw new VerificationError('NOTE_SIGNATURE_INVALID', `signature by ${name} does not verify`, { check: 'note-signature' });
    }
  }
  return parsed;
}
