// The CT log's side of the page (RFC 6962): its leaves (MerkleTreeLeaf) and its signed
// tree heads, whose signature covers the TreeHeadSignature structure, checked with the
// CT log keys of the trusted root through WebCrypto.
import { concat, fromBase64, hex, verifyWith, type LogKey } from './verify.js';

/** A get-entries `leaf_input`: when the log took it, and the certificate or precertificate TBS. */
export interface CtLeaf {
  /** Milliseconds since the epoch (the SCT's timestamp). */
  timestamp: number;
  type: 'x509' | 'precert';
  /** The DER certificate (x509) or TBSCertificate (precert) the entry logs. */
  logged: Uint8Array;
  /** Precert entries: SHA-256 of the issuing CA's SubjectPublicKeyInfo. */
  issuerKeyHash?: Uint8Array;
}

export function parseCtLeaf(leaf: Uint8Array): CtLeaf {
  const v = new DataView(leaf.buffer, leaf.byteOffset, leaf.byteLength);
  if (leaf.length < 15 || leaf[0] !== 0 || leaf[1] !== 0) throw new Error('not a v1 timestamped_entry MerkleTreeLeaf');
  const timestamp = Number(v.getBigUint64(2));
  const type = v.getUint16(10);
  const u24 = (off: number): number => (leaf[off]! << 16) | (leaf[off + 1]! << 8) | leaf[off + 2]!;
  let out: CtLeaf;
  let end: number;
  if (type === 0) {
    end = 15 + u24(12);
    out = { timestamp, type: 'x509', logged: leaf.subarray(15, end) };
  } else if (type === 1) {
    if (leaf.length < 47) throw new Error('the precert_entry is truncated');
    end = 47 + u24(44);
    out = { timestamp, type: 'precert', logged: leaf.subarray(47, end), issuerKeyHash: leaf.subarray(12, 44) };
  } else throw new Error(`unknown entry_type ${type}`);
  if (end + 2 > leaf.length || end + 2 + v.getUint16(end) !== leaf.length) throw new Error('the leaf’s lengths do not add up');
  return out;
}

/** get-sth. */
export interface Sth {
  tree_size: number;
  timestamp: number;
  sha256_root_hash: string;
  tree_head_signature: string;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/**
 * RFC 6962 §3.5: the STH signature is a DigitallySigned (hash 4 = SHA-256, signature
 * 3 = ECDSA) over version v1, signature_type tree_hash, timestamp, tree_size and the root.
 * It must verify with a CT log key of the trusted root.
 */
export async function verifySth(sth: Sth, keys: readonly LogKey[]): Promise<{ ok: boolean; reason: string }> {
  if (!Number.isSafeInteger(sth.tree_size) || !Number.isSafeInteger(sth.timestamp)) return { ok: false, reason: 'the STH is malformed' };
  const root = fromBase64(sth.sha256_root_hash);
  const sig = fromBase64(sth.tree_head_signature);
  if (root.length !== 32) return { ok: false, reason: 'the STH root hash is not 32 bytes' };
  if (sig.length < 4 || 4 + ((sig[2]! << 8) | sig[3]!) !== sig.length) return { ok: false, reason: 'the tree head signature is malformed' };
  if (sig[0] !== 4 || sig[1] !== 3) return { ok: false, reason: `the tree head signature is not ECDSA with SHA-256 (${sig[0]}/${sig[1]})` };
  if (keys.length === 0) return { ok: false, reason: 'the trusted root names no CT log' };
  const signed = concat(Uint8Array.of(0, 1), u64(sth.timestamp), u64(sth.tree_size), root);
  for (const key of keys) {
    // A key WebCrypto cannot use checks nothing.
    const ok = await verifyWith(key.spki, sig.subarray(4), signed).catch(() => false);
    if (ok) return { ok, reason: `signed by CT log ${hex(key.logId).slice(0, 16)}… of the trusted root` };
  }
  return { ok: false, reason: 'the tree head signature does not verify with any CT log key of the trusted root' };
}
