import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { HashAlgorithm } from '../../core/hash.js';

/** Checks signatures over precomputed digests (ECDSA / RSA PKCS#1 v1.5). */
export interface DigestVerifier {
  /** `spki` is the DER SubjectPublicKeyInfo; never throws, false for any failure. */
  verify(spki: Uint8Array, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm): Promise<boolean>;
  close(): Promise<void>;
}

interface Addon {
  verify(spkiDer: Buffer, digest: Buffer, signature: Buffer, hashName: string): boolean;
}
let addon: Addon | undefined;
function loadAddon(): Addon {
  if (!addon) {
    const path = addonPath();
    if (!path) throw new Error('prehash_verify.node not found: run npm install');
    addon = createRequire(import.meta.url)(path) as Addon;
  }
  return addon;
}

function verifyNow(spki: Uint8Array, digest: Uint8Array, signature: Uint8Array, hash: HashAlgorithm): boolean {
  try {
    return loadAddon().verify(Buffer.from(spki), Buffer.from(digest), Buffer.from(signature), hash);
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

/** Same search as core/prehash: build/Release/prehash_verify.node above this file. */
function addonPath(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'build', 'Release', 'prehash_verify.node');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

// The worker is plain CommonJS evaluated from a string, so it runs the same from the
// TypeScript sources (tsx) and from the esbuild bundle. Jobs come in batches.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.addonPath);
parentPort.on('message', (jobs) => {
  const out = new Uint8Array(jobs.length);
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i];
    try { out[i] = addon.verify(Buffer.from(j.spki), Buffer.from(j.digest), Buffer.from(j.signature), j.hash) ? 1 : 0; } catch { out[i] = 0; }
  }
  parentPort.postMessage(out);
});
`;

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
    const path = addonPath();
    if (!path) throw new Error('prehash_verify.node not found: run npm install');
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
    slot.worker.postMessage(jobs.map((j) => ({ spki: j.spki, digest: j.digest, signature: j.signature, hash: j.hash })));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

