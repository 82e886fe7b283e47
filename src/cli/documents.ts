// Which Sigstore document a file holds, judged from its first bytes and its media type,
// so that a trusted root given as --bundle (or a binary file) is named for what it is
// instead of failing deep inside a parser.
import { KeylessError } from '../core/errors.js';

export type DocumentKind = 'bundle' | 'trusted root' | 'signing config' | 'other JSON';

const FLAG_OF: Readonly<Record<Exclude<DocumentKind, 'other JSON'>, string>> = {
  bundle: '--bundle',
  'trusted root': '--trusted-root',
  'signing config': '--signing-config',
};

/** Why `bytes` cannot be JSON text, or undefined when they may be. */
function notJsonReason(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'it is empty';
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'it starts with a UTF-8 byte-order mark; save it without one';
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    return 'it is UTF-16 text; JSON files are UTF-8';
  const head = bytes.subarray(0, 4096);
  if (head.includes(0)) return 'it looks like a binary file';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'it is not UTF-8 text';
  }
  const first = Buffer.from(head).toString('utf8').trimStart()[0];
  if (first !== '{') return first === undefined ? 'it holds only white space' : 'it does not start with "{"';
  return undefined;
}

/** The kind of document in `bytes`; throws INPUT_NOT_JSON when they are not JSON text. */
export function documentKind(bytes: Uint8Array, describe: string): DocumentKind {
  const reason = notJsonReason(bytes);
  if (reason) throw new KeylessError('INPUT_NOT_JSON', `${describe} is not JSON: ${reason}`, { check: 'input' });
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const media = /"mediaType"\s*:\s*"application\/vnd\.dev\.sigstore\.(bundle|trustedroot|signingconfig)/.exec(text)?.[1];
  if (media === 'bundle') return 'bundle';
  if (media === 'trustedroot') return 'trusted root';
  if (media === 'signingconfig') return 'signing config';
  if (/"verificationMaterial"\s*:/.test(text)) return 'bundle';
  if (/"(certificateAuthorities|timestampAuthorities|ctlogs)"\s*:/.test(text)) return 'trusted root';
  if (/"(caUrls|rekorTlogUrls|tsaUrls|oidcUrls)"\s*:/.test(text)) return 'signing config';
  return 'other JSON';
}

/** Refuses a file that is not JSON or holds another Sigstore document than `expected`. */
export function expectDocument(bytes: Uint8Array, expected: Exclude<DocumentKind, 'other JSON'>, describe: string): void {
  const kind = documentKind(bytes, describe);
  if (kind === expected || kind === 'other JSON') return;
  const hint = kind === 'bundle' || kind === 'trusted root' || kind === 'signing config' ? `; give it with ${FLAG_OF[kind]}` : '';
  throw new KeylessError('INPUT_WRONG_DOCUMENT', `${describe} is a ${kind}, not a ${expected}${hint}`, { check: 'input' });
}
