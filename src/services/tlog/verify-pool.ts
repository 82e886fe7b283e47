import { Worker } from 'node:worker_threads';
import type { HashAlgorithm } from '../../core/hash.js';
import { prehashAddonPath, verifyDigestSignatureSpki } from '../../core/prehash.js';

/** Checks signatures over precomputed digests (ECDSA / RSA PKCS#1 v1.5). */
export interface DigestVerifier {
  /** `spki` is the DER SubjectPublicKeyInfo; never throws, false for any failure. */
  verify(spki: Uint8Array, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm): Promise<boolean>;
  close(): Promise<void>;
}

function verifyNow(spki: Uint8Array, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm): boolean {
  try {
    return verifyDigestSignatureSpki(spki, digest, signature, hash);
  } catch {
    return false;
  }
}

/** In the calling thread (small deployments, tests). */
export const inlineDigestVerifier: DigestVerifier = {
  async verify(spki, digest, signature, hash) {
    return verifyNow(spki, digest, signature, hash);
  },
  async close() {},
};

const HASH_IDS: Record<HashAlgorithm, number> = { sha256: 0, sha384: 1, sha512: 2 };

// The worker is plain CommonJS evaluated from a string, so it runs the same from the
// TypeScript sources (tsx) and from the esbuild bundle. A batch of jobs arrives packed in
// one transferred buffer (structured-cloning Buffer views would copy whole pool slabs):
// per job [hash id u8][spki len u16][digest len u8][signature len u16] then the bytes.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.addonPath);
const HASHES = ['sha256', 'sha384', 'sha512'];
parentPort.on('message', (ab) => {
  const b = Buffer.from(ab);
  const out = [];
  let o = 0;
  while (o < b.length) {
    const hash = HASHES[b[o]];
    const ls = b.readUInt16BE(o + 1), ld = b[o + 3], lg = b.readUInt16BE(o + 4);
    o += 6;
    const spki = b.subarray(o, o + ls); o += ls;
    const digest = b.subarray(o, o + ld); o += ld;
    const sig = b.subarray(o, o + lg); o += lg;
    let ok = 0;
    try { ok = addon.verify(spki, digest, sig, hash) ? 1 : 0; } catch { ok = 0; }
    out.push(ok);
  }
  parentPort.postMessage(Uint8Array.from(out));
});
`;

/** Packs a batch of jobs into one buffer (see WORKER_SOURCE); over-long fields make the job fail. */
function pack(jobs: readonly Job[]): ArrayBuffer {
  let total = 0;
  for (const j of jobs) total += 6 + j.spki.byteLength + j.digest.byteLength + j.signature.byteLength;
  const b = Buffer.allocUnsafeSlow(total);
  let o = 0;
  for (const j of jobs) {
    const ok = j.spki.byteLength <= 0xffff && j.digest.byteLength <= 0xff && j.signature.byteLength <= 0xffff;
    const spki = ok ? j.spki : new Uint8Array(0);
    b[o] = HASH_IDS[j.hash] ?? 0;
    b.writeUInt16BE(spki.byteLength, o + 1);
    b[o + 3] = ok ? j.digest.byteLength : 0;
    b.writeUInt16BE(ok ? j.signature.byteLength : 0, o + 4);
    o += 6;
    b.set(spki, o);
    o += spki.byteLength;
    if (ok) {
      b.set(j.digest, o);
      o += j.digest.byteLength;
      b.set(j.signature, o);
      o += j.signature.byteLength;
    }
  }
  return (o === total ? b.buffer : b.buffer.slice(0, o)) as ArrayBuffer;
}

interface Job {
  spki: Uint8Array;
  digest: Uint8Array;
  signature: Uint8Array;
  hash: HashAlgorithm;
  resolve: (ok: boolean) => void;
}

/**
 * Verification off the event loop: jobs gathered during one turn of the event loop go
 * to a worker as one message, round-robin over the workers. The main thread keeps
 * parsing requests and writing batches meanwhile.
 */
export class WorkerDigestVerifier implements DigestVerifier {
  private readonly workers: { worker: Worker; inflight: Job[][] }[] = [];
  private pending: Job[] = [];
  private scheduled = false;
  private next = 0;

  constructor(threads = 1) {
    const path = prehashAddonPath();
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { addonPath: path } });
      const slot = { worker, inflight: [] as Job[][] };
      worker.on('message', (out: Uint8Array) => {
        const jobs = slot.inflight.shift() ?? [];
        // Idle workers must not keep the process alive; busy ones must.
        if (slot.inflight.length === 0) worker.unref();
        jobs.forEach((j, k) => j.resolve(out[k] === 1));
      });
      worker.on('error', () => {
        for (const jobs of slot.inflight.splice(0)) for (const j of jobs) j.resolve(verifyNow(j.spki, j.digest, j.signature, j.hash));
      });
      worker.unref();
      this.workers.push(slot);
    }
  }

  verify(spki: Uint8Array, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm): Promise<boolean> {
    return new Promise((resolve) => {
      this.pending.push({ spki, digest, signature, hash, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.dispatch());
      }
    });
  }

  private dispatch(): void {
    this.scheduled = false;
    const jobs = this.pending;
    this.pending = [];
    if (jobs.length === 0) return;
    const slot = this.workers[this.next++ % this.workers.length]!;
    slot.inflight.push(jobs);
    slot.worker.ref();
    const packed = pack(jobs);
    slot.worker.postMessage(packed, [packed]);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

