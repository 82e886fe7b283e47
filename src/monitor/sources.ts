// The three log read APIs behind one interface: the latest signed tree head (signature
// verified with the log's key from the trusted root), a proof that it extends the stored
// one where the API serves proofs, the frontier at a starting size, and the entries in
// order. Whatever a source returns is checked by the scan: the leaves must hash to the
// verified root.
import { createHash, verify as nodeVerify } from 'node:crypto';
import { CheckLog, verifyCheckpoint, type TrustMaterial } from '../verify/index.js';
import {
  decodeEntryBundle,
  entriesPath,
  parseCheckpoint,
  parseSignedNote,
  rootFromLeafHashes,
  splitTileHashes,
  tilePath,
  verifyConsistency,
  TILE_WIDTH,
} from '../merkle/index.js';
import { parseMerkleTreeLeaf, periodContains, type MerkleTreeLeaf } from '../x509/index.js';
import { garbled, inconsistent, MonitorError } from './errors.js';
import { Frontier } from './frontier.js';
import { BufferPool, orderedParallel, type Fetcher } from './http.js';
import type { LogTarget } from './config.js';
import type { EntryVerifier, PrecertVerifier } from './match.js';
import { derVerifier, rekorVerifiers } from './match.js';
import { at } from './json.js';

export interface LogHead {
  size: number;
  rootHash: Buffer;
  /** Checkpoint origin (Rekor) or the log ID in hex (CT). */
  origin: string;
  /** The signed text as served (checkpoint note, or the STH JSON). */
  signed: string;
}

/**
 * One entry of a scan. `leaf` and the buffers `verifiers()` returns may be views into an
 * answer buffer that is reused once the next batch is requested: copy what you keep.
 */
export interface ScanEntry {
  index: number;
  /** The Merkle leaf data: the entry body (Rekor) or the MerkleTreeLeaf (CT). */
  readonly leaf: Buffer;
  uuid?: string;
  /** When the log recorded the entry (Rekor v1 integratedTime, CT timestamp). */
  time?: Date;
  verifiers(): EntryVerifier[];
  precert?(): PrecertVerifier | undefined;
}

export interface LogSource {
  readonly target: LogTarget;
  head(): Promise<LogHead>;
  /** Verifies a consistency proof from `from` to `head` where the API serves one. */
  proveConsistency(from: { size: number; rootHash: Buffer }, head: LogHead): Promise<void>;
  /** The frontier at `size` (0 < size <= head.size), trusted only once the scan's root matches. */
  frontierAt(size: number, head: LogHead): Promise<Frontier>;
  /** Entries [start, end) of the tree of `head`, in order, in batches. */
  entries(start: number, end: number, head: LogHead): AsyncGenerator<ScanEntry[]>;
}

export interface SourceOptions {
  fetcher: Fetcher;
  trust: TrustMaterial;
  /** Requests in flight during a scan. */
  concurrency: number;
}

export function openSource(target: LogTarget, options: SourceOptions): LogSource {
  if (target.kind === 'rekor-v2') return new TilesSource(target, options);
  if (target.kind === 'rekor-v1') return new RekorV1Source(target, options);
  return new CtSource(target, options);
}

/** Checkpoint note: garbage is exit 1, a note that does not verify with a trusted log key is exit 4. */
function verifiedCheckpoint(note: string, target: LogTarget, trust: TrustMaterial): LogHead {
  let size: number;
  let rootHash: Buffer;
  let origin: string;
  try {
    const cp = parseCheckpoint(parseSignedNote(note, 'checkpoint').body);
    ({ size, origin } = cp);
    rootHash = Buffer.from(cp.rootHash);
  } catch (e) {
    throw garbled(`${target.url} checkpoint`, (e as Error).message, e);
  }
  const host = hostOf(target.url);
  const sameHost = trust.tlogs.filter((l) => l.host === host || l.hostname === host);
  try {
    verifyCheckpoint(new CheckLog(), trust, sameHost.length > 0 ? sameHost : trust.tlogs, note, 'monitor');
  } catch (e) {
    throw inconsistent(
      'checkpoint-signature',
      `${target.url}: the checkpoint is not signed by a trusted log key: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (target.origin !== undefined && origin !== target.origin) {
    throw inconsistent(
      'checkpoint-origin',
      `${target.url}: checkpoint origin ${JSON.stringify(origin)} is not the configured ${JSON.stringify(target.origin)}`,
    );
  }
  return { size, rootHash, origin, signed: note };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

function checkProof(from: { size: number; rootHash: Buffer }, head: LogHead, proof: Buffer[], url: string): void {
  try {
    verifyConsistency(from.size, head.size, proof, from.rootHash, head.rootHash);
  } catch (e) {
    throw inconsistent(
      'consistency-proof',
      `${url}: the tree of ${head.size} does not extend the stored tree of ${from.size}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

function parseJsonAnswer(buf: Buffer | undefined, what: string): unknown {
  if (!buf) throw garbled(what, 'not found');
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw garbled(what, 'the answer is not JSON');
  }
}

function hexList(v: unknown, what: string, encoding: 'hex' | 'base64'): Buffer[] {
  if (!Array.isArray(v)) throw garbled(what, 'expected a list of hashes');
  return v.map((h) => {
    const b = typeof h === 'string' ? Buffer.from(h, encoding) : Buffer.alloc(0);
    if (b.length !== 32) throw garbled(what, 'a proof hash is not 32 bytes');
    return b;
  });
}

// ---------------------------------------------------------------------------------------
// Rekor v2 / tlog-tiles

class TilesSource implements LogSource {
  constructor(
    readonly target: LogTarget,
    private readonly o: SourceOptions,
  ) {}

  async head(): Promise<LogHead> {
    const buf = await this.o.fetcher.request(`${this.target.url}/checkpoint`);
    return verifiedCheckpoint(buf!.toString('utf8'), this.target, this.o.trust);
  }

  async proveConsistency(): Promise<void> {
    // tlog-tiles serves no proofs: the scan's recomputed root is the proof.
  }

  private async tileHashes(level: number, index: number, width: number): Promise<Buffer> {
    const buf = await this.o.fetcher.request(`${this.target.url}/${tilePath(level, index, width)}`);
    if (!buf || buf.length !== width * 32)
      throw garbled(`${this.target.url}/${tilePath(level, index, width)}`, `expected ${width * 32} bytes`);
    return buf;
  }

  async frontierAt(size: number, head: LogHead): Promise<Frontier> {
    const hashes: Buffer[] = [];
    let done = 0;
    for (let l = 52; l >= 0; l--) {
      if (Math.floor(size / 2 ** l) % 2 === 0) continue;
      const idx = done / 2 ** l;
      const tileLevel = Math.floor(l / 8);
      const span = 2 ** (l % 8);
      const first = idx * span;
      const k = Math.floor(first / TILE_WIDTH);
      const nodesAtLevel = Math.floor(head.size / TILE_WIDTH ** tileLevel);
      const width = Math.min(TILE_WIDTH, nodesAtLevel - k * TILE_WIDTH);
      const tile = splitTileHashes(await this.tileHashes(tileLevel, k, width));
      const from = first - k * TILE_WIDTH;
      hashes.push(rootFromLeafHashes(tile.slice(from, from + span)));
      done += 2 ** l;
    }
    return Frontier.of(size, hashes);
  }

  async *entries(start: number, end: number, head: LogHead): AsyncGenerator<ScanEntry[]> {
    if (start >= end) return;
    const firstBundle = Math.floor(start / TILE_WIDTH);
    const lastBundle = Math.floor((end - 1) / TILE_WIDTH);
    const url = this.target.url;
    const pool = new BufferPool(this.o.concurrency + 1);
    const path = (k: number) => `${url}/${entriesPath(k, Math.min(TILE_WIDTH, head.size - k * TILE_WIDTH))}`;
    // The fetches only fetch; a bundle is decoded when the scan reaches it, so the entry
    // objects live a moment instead of waiting in the pipeline (see BufferPool).
    const bodies = orderedParallel(lastBundle - firstBundle + 1, this.o.concurrency, (job, signal) =>
      this.o.fetcher.request(path(firstBundle + job), { signal, pool }),
    );
    let k = firstBundle;
    for await (const body of bodies) {
      const width = Math.min(TILE_WIDTH, head.size - k * TILE_WIDTH);
      let raw: Uint8Array[];
      try {
        raw = decodeEntryBundle(body!);
      } catch (e) {
        throw garbled(path(k), (e as Error).message, e);
      }
      if (raw.length !== width) throw garbled(path(k), `holds ${raw.length} entries, expected ${width}`);
      const out: ScanEntry[] = [];
      for (let i = 0; i < raw.length; i++) {
        const index = k * TILE_WIDTH + i;
        if (index < start || index >= end) continue;
        const leaf = Buffer.from(raw[i]!.buffer, raw[i]!.byteOffset, raw[i]!.byteLength);
        out.push({ index, leaf, verifiers: () => rekorVerifiers(leaf) });
      }
      yield out;
      // The scan asks for the next batch only once it is done with this one (see ScanEntry).
      pool.release(body);
      k++;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Rekor v1

const V1_BATCH = 10;

class RekorV1Source implements LogSource {
  constructor(
    readonly target: LogTarget,
    private readonly o: SourceOptions,
  ) {}

  async head(): Promise<LogHead> {
    const info = parseJsonAnswer(await this.o.fetcher.request(`${this.target.url}/api/v1/log`), `${this.target.url}/api/v1/log`);
    const signed = at(info, 'signedTreeHead');
    if (typeof signed !== 'string') throw garbled(`${this.target.url}/api/v1/log`, 'no signedTreeHead');
    const head = verifiedCheckpoint(signed, this.target, this.o.trust);
    if (at(info, 'treeSize') !== head.size || at(info, 'rootHash') !== head.rootHash.toString('hex')) {
      throw inconsistent(
        'log-info',
        `${this.target.url}: treeSize/rootHash (${String(at(info, 'treeSize'))}) differ from the signed tree head (${head.size})`,
      );
    }
    return head;
  }

  async proveConsistency(from: { size: number; rootHash: Buffer }, head: LogHead): Promise<void> {
    if (from.size === 0 || from.size >= head.size) return;
    const url = `${this.target.url}/api/v1/log/proof?firstSize=${from.size}&lastSize=${head.size}`;
    const answer = parseJsonAnswer(await this.o.fetcher.request(url), url);
    checkProof(from, head, hexList(at(answer, 'hashes'), url, 'hex'), this.target.url);
  }

  async frontierAt(size: number, head: LogHead): Promise<Frontier> {
    const url = `${this.target.url}/api/v1/log/entries?logIndex=${size - 1}`;
    const answer = parseJsonAnswer(await this.o.fetcher.request(url), url);
    const [entry] = this.decode(answer, url);
    const proof = at(Object.values(answer ?? {})[0], 'verification', 'inclusionProof');
    if (!entry || entry.index !== size - 1 || !proof) throw garbled(url, 'no entry with an inclusion proof');
    const treeSize = Number(at(proof, 'treeSize'));
    if (!Number.isSafeInteger(treeSize) || treeSize < size) throw garbled(url, 'inclusion proof for a smaller tree');
    const f = Frontier.fromInclusionProof(size - 1, treeSize, hexList(at(proof, 'hashes'), url, 'hex'));
    f.append(entry.leaf);
    void head;
    return f;
  }

  private decode(answer: unknown, what: string): ScanEntry[] {
    const list = Array.isArray(answer) ? answer : [answer];
    const out: ScanEntry[] = [];
    for (const item of list) {
      if (typeof item !== 'object' || item === null) throw garbled(what, 'an entry is not an object');
      for (const [uuid, e] of Object.entries(item)) {
        const body = at(e, 'body');
        const index = at(e, 'logIndex');
        if (typeof body !== 'string' || typeof index !== 'number' || !Number.isSafeInteger(index))
          throw garbled(what, `entry ${uuid.slice(0, 20)} has no body or logIndex`);
        const leaf = Buffer.from(body, 'base64');
        const t = Number(at(e, 'integratedTime'));
        out.push({
          index,
          leaf,
          uuid,
          ...(Number.isFinite(t) && t > 0 ? { time: new Date(t * 1000) } : {}),
          verifiers: () => rekorVerifiers(leaf),
        });
      }
    }
    return out;
  }

  async *entries(start: number, end: number): AsyncGenerator<ScanEntry[]> {
    const url = `${this.target.url}/api/v1/log/entries/retrieve`;
    const jobs = Math.ceil((end - start) / V1_BATCH);
    const pool = new BufferPool(this.o.concurrency + 1);
    const batch = (job: number) => {
      const from = start + job * V1_BATCH;
      return Array.from({ length: Math.min(V1_BATCH, end - from) }, (_, i) => from + i);
    };
    // Parsed when the scan reaches the batch, as for tiles: nothing waits in the pipeline but the bytes.
    const bodies = orderedParallel(jobs, this.o.concurrency, (job, signal) =>
      this.o.fetcher.request(url, { method: 'POST', body: JSON.stringify({ logIndexes: batch(job) }), signal, pool }),
    );
    let job = 0;
    for await (const body of bodies) {
      const indexes = batch(job++);
      const answer = parseJsonAnswer(body, url);
      pool.release(body);
      if (!Array.isArray(answer)) throw garbled(url, 'expected a list of entries');
      const byIndex = new Map(this.decode(answer, url).map((e) => [e.index, e]));
      yield indexes.map((i) => {
        const e = byIndex.get(i);
        if (!e) throw garbled(url, `the log did not return entry ${i}, which its tree head includes`);
        return e;
      });
    }
  }
}

// ---------------------------------------------------------------------------------------
// RFC 6962 CT log

const CT_PAGE = 256;

class CtSource implements LogSource {
  constructor(
    readonly target: LogTarget,
    private readonly o: SourceOptions,
  ) {}

  async head(): Promise<LogHead> {
    const url = `${this.target.url}/ct/v1/get-sth`;
    const raw = await this.o.fetcher.request(url);
    const sth = parseJsonAnswer(raw, url);
    const size = at(sth, 'tree_size');
    const timestamp = at(sth, 'timestamp');
    const rootText = at(sth, 'sha256_root_hash');
    const sigText = at(sth, 'tree_head_signature');
    const root = typeof rootText === 'string' ? Buffer.from(rootText, 'base64') : Buffer.alloc(0);
    const sig = typeof sigText === 'string' ? Buffer.from(sigText, 'base64') : Buffer.alloc(0);
    if (
      typeof size !== 'number' ||
      !Number.isSafeInteger(size) ||
      size < 0 ||
      typeof timestamp !== 'number' ||
      !Number.isSafeInteger(timestamp) ||
      root.length !== 32 ||
      sig.length < 4
    ) {
      throw garbled(url, 'not a signed tree head');
    }
    const signed = Buffer.alloc(2 + 8 + 8 + 32);
    signed[0] = 0;
    signed[1] = 1;
    signed.writeBigUInt64BE(BigInt(timestamp), 2);
    signed.writeBigUInt64BE(BigInt(size), 10);
    root.copy(signed, 18);
    const hashAlg = sig[0];
    const len = sig.readUInt16BE(2);
    const signature = sig.subarray(4, 4 + len);
    if (hashAlg !== 4 || signature.length !== len) throw garbled(url, 'tree_head_signature is not a SHA-256 digitally-signed struct');
    const host = hostOf(this.target.url);
    const when = new Date(timestamp);
    const logs = this.o.trust.x509.ctLogs;
    const candidates = logs.filter((l) => l.baseUrl && hostOf(l.baseUrl) === host);
    const log = (candidates.length > 0 ? candidates : logs).find(
      (l) => periodContains(l.validFor, when) && nodeVerify('sha256', signed, l.publicKey, signature),
    );
    if (!log) throw inconsistent('sth-signature', `${this.target.url}: the tree head is not signed by a trusted CT log key`);
    const origin = log.logId.toString('hex');
    if (this.target.origin !== undefined && this.target.origin !== origin)
      throw inconsistent('sth-origin', `${this.target.url}: log ID ${origin} is not the configured ${this.target.origin}`);
    return { size, rootHash: root, origin, signed: raw!.toString('utf8') };
  }

  async proveConsistency(from: { size: number; rootHash: Buffer }, head: LogHead): Promise<void> {
    if (from.size === 0 || from.size >= head.size) return;
    const url = `${this.target.url}/ct/v1/get-sth-consistency?first=${from.size}&second=${head.size}`;
    const answer = parseJsonAnswer(await this.o.fetcher.request(url), url);
    checkProof(from, head, hexList(at(answer, 'consistency'), url, 'base64'), this.target.url);
  }

  /** The leaf_input texts of [start, end), in as many requests as the log's page size takes. */
  private async page(
    start: number,
    end: number,
    scan?: { signal: AbortSignal; pool: BufferPool },
  ): Promise<{ url: string; inputs: string[] }> {
    const inputs: string[] = [];
    const first = `${this.target.url}/ct/v1/get-entries?start=${start}&end=${end - 1}`;
    while (start + inputs.length < end) {
      const url = `${this.target.url}/ct/v1/get-entries?start=${start + inputs.length}&end=${end - 1}`;
      const body = await this.o.fetcher.request(url, scan ?? {});
      const answer = parseJsonAnswer(body, url);
      scan?.pool.release(body);
      const list = at(answer, 'entries');
      if (!Array.isArray(list) || list.length === 0) throw garbled(url, 'no entries');
      for (const e of list) {
        if (start + inputs.length >= end) break;
        const input = at(e, 'leaf_input');
        if (typeof input !== 'string') throw garbled(url, 'an entry has no leaf_input');
        inputs.push(input);
      }
    }
    return { url: first, inputs };
  }

  /** Entries decoded only when the scan reaches them (see BufferPool on why nothing should wait decoded). */
  private static decode(start: number, page: { url: string; inputs: string[] }): ScanEntry[] {
    return page.inputs.map((input, i) => ctEntry(start + i, Buffer.from(input, 'base64'), page.url));
  }

  async frontierAt(size: number, head: LogHead): Promise<Frontier> {
    const [last] = CtSource.decode(size - 1, await this.page(size - 1, size));
    const hash = createHash('sha256')
      .update(Buffer.from([0]))
      .update(last!.leaf)
      .digest();
    const url = `${this.target.url}/ct/v1/get-proof-by-hash?hash=${encodeURIComponent(hash.toString('base64'))}&tree_size=${head.size}`;
    const answer = parseJsonAnswer(await this.o.fetcher.request(url), url);
    if (at(answer, 'leaf_index') !== size - 1) throw garbled(url, `leaf index ${String(at(answer, 'leaf_index'))} is not ${size - 1}`);
    const f = Frontier.fromInclusionProof(size - 1, head.size, hexList(at(answer, 'audit_path'), url, 'base64'));
    f.append(last!.leaf);
    return f;
  }

  async *entries(start: number, end: number): AsyncGenerator<ScanEntry[]> {
    const jobs = Math.ceil((end - start) / CT_PAGE);
    const pool = new BufferPool(this.o.concurrency + 1);
    const pages = orderedParallel(jobs, this.o.concurrency, (job, signal) =>
      this.page(start + job * CT_PAGE, Math.min(end, start + (job + 1) * CT_PAGE), { signal, pool }),
    );
    let job = 0;
    for await (const page of pages) yield CtSource.decode(start + job++ * CT_PAGE, page);
  }
}

/** RFC 6962 §3.4 MerkleTreeLeaf: timestamp, and the certificate or precertificate TBS. */
function ctEntry(index: number, leaf: Buffer, what: string): ScanEntry {
  let parsed: MerkleTreeLeaf;
  try {
    parsed = parseMerkleTreeLeaf(leaf);
  } catch (e) {
    throw garbled(what, `entry ${index}: ${(e as Error).message}`);
  }
  const time = new Date(Number(parsed.timestamp));
  const e = parsed.entry;
  // Views into the leaf, not copies.
  const view = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  if (e.type === 'x509') return { index, leaf, time, verifiers: () => [derVerifier(view(e.certificate))] };
  return { index, leaf, time, verifiers: () => [], precert: () => ({ tbs: view(e.tbs), issuerKeyHash: view(e.issuerKeyHash) }) };
}

export { MonitorError };
