// The checks the page runs itself, with WebCrypto only: Merkle inclusion (RFC 9162),
// C2SP signed-note checkpoints (ECDSA P-256 and Ed25519), Rekor v1 signed entry
// timestamps and certificate chains (ECDSA over the TBS).
import { ecdsaDerToP1363, keyKindOf, spkiKeyBits, type Certificate } from './der.js';

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Our bytes never live in a SharedArrayBuffer; WebCrypto's types want that said. */
export const bytes = (u: Uint8Array): Uint8Array<ArrayBuffer> => u as Uint8Array<ArrayBuffer>;

export async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes(concat(...parts))));
}

export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
export function fromHex(s: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(s)) throw new Error('not hex');
  return Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
}
export function fromBase64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}
export function toBase64(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}
export const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export const leafHash = (body: Uint8Array): Promise<Uint8Array> => sha256(Uint8Array.of(0), body);
export const nodeHash = (l: Uint8Array, r: Uint8Array): Promise<Uint8Array> => sha256(Uint8Array.of(1), l, r);

/** The root an inclusion proof leads to (RFC 9162 §2.1.3.2). */
export async function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Promise<Uint8Array> {
  if (!(index >= 0 && index < size)) throw new Error(`leaf index ${index} is not below tree size ${size}`);
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (p.length !== 32) throw new Error('a proof hash is not 32 bytes');
    if (sn === 0) throw new Error('the proof has more hashes than the tree has levels');
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error('the proof has fewer hashes than the tree has levels');
  return r;
}

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** The signed text (up to and including the blank line's first newline). */
  body: string;
  signatures: { name: string; keyHint: Uint8Array; signature: Uint8Array }[];
}

export function parseCheckpoint(text: string): Checkpoint {
  const split = text.lastIndexOf('\n\n');
  if (split < 0 || !text.endsWith('\n')) throw new Error('the checkpoint is not a signed note');
  const body = text.slice(0, split + 1);
  const lines = body.split('\n');
  const size = Number(lines[1]);
  if (!lines[0] || !/^\d+$/.test(lines[1] ?? '') || !Number.isSafeInteger(size)) throw new Error('the checkpoint has no origin or size');
  const rootHash = fromBase64(lines[2] ?? '');
  if (rootHash.length !== 32) throw new Error('the checkpoint root hash is not 32 bytes');
  const signatures = text
    .slice(split + 2, -1)
    .split('\n')
    .map((line) => {
      const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
      if (!m) throw new Error('a checkpoint signature line is malformed');
      const raw = fromBase64(m[2]!);
      return { name: m[1]!, keyHint: raw.subarray(0, 4), signature: raw.subarray(4) };
    });
  return { origin: lines[0], size, rootHash, body, signatures };
}

/** A log key from the trusted root. */
export interface LogKey {
  spki: Uint8Array;
  /** Trusted root `logId.keyId`. */
  logId: Uint8Array;
  baseUrl: string;
}

export async function verifyWith(spki: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  const kind = keyKindOf(spki);
  if (kind.name === 'Ed25519') {
    const key = await crypto.subtle.importKey('spki', bytes(spki), { name: 'Ed25519' }, false, ['verify']);
    return crypto.subtle.verify({ name: 'Ed25519' }, key, bytes(signature), bytes(message));
  }
  const key = await crypto.subtle.importKey('spki', bytes(spki), { name: 'ECDSA', namedCurve: kind.namedCurve }, false, ['verify']);
  let raw: Uint8Array;
  try {
    raw = ecdsaDerToP1363(signature, kind.size);
  } catch {
    return false;
  }
  return crypto.subtle.verify({ name: 'ECDSA', hash: kind.hash }, key, bytes(raw), bytes(message));
}

/** The signed-note key hash: Ed25519 SHA-256(name ‖ \n ‖ 0x01 ‖ key), ECDSA SHA-256(SPKI). */
async function noteKeyHint(name: string, spki: Uint8Array): Promise<Uint8Array> {
  const kind = keyKindOf(spki);
  const h = kind.name === 'Ed25519' ? await sha256(utf8(`${name}\n`), Uint8Array.of(1), spkiKeyBits(spki)) : await sha256(spki);
  return h.subarray(0, 4);
}

/**
 * Verifies the checkpoint with the trusted root's log keys: some signature line must
 * carry the key hint of a trusted key (under its name) and verify with it.
 */
export async function verifyCheckpoint(cp: Checkpoint, keys: readonly LogKey[]): Promise<{ ok: boolean; reason: string }> {
  for (const sig of cp.signatures) {
    for (const key of keys) {
      let hint: Uint8Array;
      try {
        hint = await noteKeyHint(sig.name, key.spki);
      } catch {
        continue;
      }
      if (!equal(hint, sig.keyHint)) continue;
      const ok = await verifyWith(key.spki, sig.signature, utf8(cp.body));
      return ok
        ? { ok, reason: `signed by ${sig.name} (${keyKindOf(key.spki).name}, key ${hex(hint)}) from the trusted root` }
        : { ok, reason: `the signature by ${sig.name} (key ${hex(hint)}) does not verify` };
    }
  }
  return { ok: false, reason: 'no signature line is by a log key of the trusted root' };
}

/** Rekor v1 SET: ECDSA over the canonical JSON of {body, integratedTime, logID, logIndex}. */
export async function verifySet(
  entry: { body: string; integratedTime: number; logID: string; logIndex: number },
  set: Uint8Array,
  key: LogKey,
): Promise<boolean> {
  const payload = JSON.stringify({ body: entry.body, integratedTime: entry.integratedTime, logID: entry.logID, logIndex: entry.logIndex });
  return verifyWith(key.spki, set, utf8(payload));
}

const SIG_HASH: Record<string, 'SHA-256' | 'SHA-384'> = { '1.2.840.10045.4.3.2': 'SHA-256', '1.2.840.10045.4.3.3': 'SHA-384' };

/** Checks `cert`'s signature with `issuer`'s key (ECDSA over the TBS). */
export async function verifyCertificateSignature(cert: Certificate, issuer: Certificate): Promise<boolean> {
  const hash = SIG_HASH[cert.signatureAlgorithm];
  if (!hash) throw new Error(`signature algorithm ${cert.signatureAlgorithm} is not ECDSA with SHA-256/384`);
  const kind = keyKindOf(issuer.spki);
  if (kind.name !== 'ECDSA') throw new Error('the issuer key is not ECDSA');
  const key = await crypto.subtle.importKey('spki', bytes(issuer.spki), { name: 'ECDSA', namedCurve: kind.namedCurve }, false, ['verify']);
  let raw: Uint8Array;
  try {
    raw = ecdsaDerToP1363(cert.signature, kind.size);
  } catch {
    return false;
  }
  return crypto.subtle.verify({ name: 'ECDSA', hash }, key, bytes(raw), bytes(cert.tbs));
}

/**
 * The path from `leaf` to a self-signed root among `authorities` (the trusted root's
 * CA certificates), each signature checked; `at` (when known) must fall in every
 * certificate's validity.
 */
export async function verifyChain(
  leaf: Certificate,
  authorities: readonly Certificate[],
  at: Date | undefined,
): Promise<{ ok: boolean; reason: string }> {
  const path: Certificate[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth < 5; depth++) {
    const issuer = authorities.find((c) => equal(c.subjectDer, current.issuerDer) && c.isCa);
    if (!issuer) return { ok: false, reason: `no CA of the trusted root is named ${current.issuer}` };
    if (!(await verifyCertificateSignature(current, issuer)))
      return { ok: false, reason: `the signature on ${current.subject || 'the leaf'} by ${issuer.subject} does not verify` };
    if (at) {
      for (const c of [current, issuer]) {
        if (at < c.notBefore || at > c.notAfter)
          return { ok: false, reason: `${c.subject || 'the leaf'} was not valid at ${at.toISOString()}` };
      }
    }
    if (issuer === current) break;
    path.push(issuer);
    if (equal(issuer.subjectDer, issuer.issuerDer)) {
      if (!(await verifyCertificateSignature(issuer, issuer)))
        return { ok: false, reason: `the root ${issuer.subject} is not correctly self-signed` };
      return { ok: true, reason: `${path.map((c) => c.subject || '(leaf)').join(' → ')}${at ? `, valid at ${at.toISOString()}` : ''}` };
    }
    current = issuer;
  }
  return { ok: false, reason: 'no self-signed root within 5 certificates' };
}
