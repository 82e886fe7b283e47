import type { HashAlgorithm } from '../../core/hash.js';

export interface DigestJob {
  spki: Uint8Array;
  digest: Uint8Array;
  signature: Uint8Array;
  hash: HashAlgorithm;
}

const HASHES: readonly HashAlgorithm[] = ['sha256', 'sha384', 'sha512'];

/**
 * A batch of jobs packed in one transferable buffer (structured-cloning Buffer views would
 * copy whole pool slabs): per job [hash id u8][spki len u16][digest len u8][signature len u16]
 * then the bytes. A job with over-long fields is sent empty, so it fails.
 */
export function packDigestJobs(jobs: readonly DigestJob[]): ArrayBuffer {
  let total = 0;
  for (const j of jobs) total += 6 + j.spki.byteLength + j.digest.byteLength + j.signature.byteLength;
  const b = Buffer.allocUnsafeSlow(total);
  let o = 0;
  for (const j of jobs) {
    const ok = j.spki.byteLength <= 0xffff && j.digest.byteLength <= 0xff && j.signature.byteLength <= 0xffff;
    b[o] = Math.max(0, HASHES.indexOf(j.hash));
    b.writeUInt16BE(ok ? j.spki.byteLength : 0, o + 1);
    b[o + 3] = ok ? j.digest.byteLength : 0;
    b.writeUInt16BE(ok ? j.signature.byteLength : 0, o + 4);
    o += 6;
    if (ok) {
      for (const part of [j.spki, j.digest, j.signature]) {
        b.set(part, o);
        o += part.byteLength;
      }
    }
  }
  return (o === total ? b.buffer : b.buffer.slice(0, o)) as ArrayBuffer;
}

export function unpackDigestJobs(packed: ArrayBuffer): DigestJob[] {
  const b = Buffer.from(packed);
  const jobs: DigestJob[] = [];
  let o = 0;
  while (o < b.length) {
    const hash = HASHES[b[o]!] ?? 'sha256';
    const ls = b.readUInt16BE(o + 1);
    const ld = b[o + 3]!;
    const lg = b.readUInt16BE(o + 4);
    o += 6;
    const spki = b.subarray(o, (o += ls));
    const digest = b.subarray(o, (o += ld));
    const signature = b.subarray(o, (o += lg));
    jobs.push({ spki, digest, signature, hash });
  }
  return jobs;
}
