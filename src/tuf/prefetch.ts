// Requests to the mirror made ahead of the TUF client workflow, so its round trips overlap
// the loading of tuf-js instead of following one another. Nothing here is trusted: the
// bytes are only guesses at what the workflow will ask for next, read from metadata that is
// not verified yet. The workflow (client.ts) takes a response only for the exact URL and
// size limit it asks for, and verifies it as if it had fetched it itself; a wrong guess
// costs one wasted request, never a check.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpGet, type HttpResponse } from './http.js';

/** tuf-js's size limits (config.js defaults) where the metadata gives no length. */
export const ROOT_MAX_BYTES = 512_000;
export const TIMESTAMP_MAX_BYTES = 16_384;
const SNAPSHOT_MAX_BYTES = 2_000_000;
const TARGETS_MAX_BYTES = 5_000_000;

export class Prefetch {
  private readonly pending = new Map<string, { maxBytes: number; response: Promise<HttpResponse>; abandon: AbortController }>();
  private readonly written: Promise<void>[] = [];
  constructor(
    readonly mirror: string,
    private readonly timeoutMs: number,
  ) {}

  /** The response for `${mirror}/${path}`, asked for now unless it already was. */
  get(path: string, maxBytes: number): Promise<HttpResponse> {
    const url = new URL(`${this.mirror}/${path}`).href;
    let entry = this.pending.get(url);
    if (!entry || entry.maxBytes !== maxBytes) {
      let sent!: () => void;
      this.written.push(new Promise<void>((resolve) => (sent = resolve)));
      const abandon = new AbortController();
      entry = { maxBytes, response: httpGet(url, maxBytes, this.timeoutMs, sent, abandon.signal), abandon };
      entry.response.catch(() => {}); // a failure is reported to whoever takes it, if anyone does
      this.pending.set(url, entry);
    }
    return entry.response;
  }

  /** Settles once every request asked for so far is on the wire (or failed). */
  sent(): Promise<void> {
    return Promise.all(this.written).then(() => {});
  }

  /** The workflow's request, answered from an earlier one for the same URL and limit (once); else undefined. */
  take(url: string, maxBytes: number): Promise<HttpResponse> | undefined {
    const entry = this.pending.get(url);
    if (!entry || entry.maxBytes !== maxBytes) return undefined;
    this.pending.delete(url);
    return entry.response;
  }

  /** The workflow is over: guesses it did not take are not waited for (the process may exit). */
  abandon(): void {
    for (const entry of this.pending.values()) entry.abandon.abort();
    this.pending.clear();
  }

  /**
   * From a new timestamp, the chain the workflow will walk: the snapshot it names, the
   * targets metadata that names, the target files that lists, each asked for as soon as the
   * previous one arrived, and only where the cache does not already hold that version.
   */
  followTimestamp(cacheDir: string, timestamp: HttpResponse, targetNames: readonly string[]): void {
    this.follow(cacheDir, targetNames, timestamp).catch(() => {});
  }

  private async follow(cacheDir: string, targetNames: readonly string[], timestamp: HttpResponse): Promise<void> {
    const cached = (role: string): { version?: number; consistent_snapshot?: boolean; targets?: TargetsMap } | undefined => {
      try {
        return signedOf(readFileSync(join(cacheDir, 'metadata', `${role}.json`)));
      } catch {
        return undefined;
      }
    };
    const consistent = cached('root')?.consistent_snapshot === true;
    const snapshotMeta = metaOf(timestamp, 'snapshot.json');
    if (!snapshotMeta || snapshotMeta.version === cached('snapshot')?.version) return;
    const snapshot = await this.get(
      consistent ? `${snapshotMeta.version}.snapshot.json` : 'snapshot.json',
      snapshotMeta.length || SNAPSHOT_MAX_BYTES,
    );
    const targetsMeta = metaOf(snapshot, 'targets.json');
    if (!targetsMeta || targetsMeta.version === cached('targets')?.version) return;
    const targets = await this.get(
      consistent ? `${targetsMeta.version}.targets.json` : 'targets.json',
      targetsMeta.length || TARGETS_MAX_BYTES,
    );
    const listed = targets.status === 200 ? signedOf(targets.body)?.targets : undefined;
    for (const name of targetNames) {
      const info = listed?.[name];
      const hash = info && Object.values(info.hashes ?? {})[0];
      if (!info || typeof hash !== 'string' || !/^[0-9a-f]+$/.test(hash) || !Number.isSafeInteger(info.length)) continue;
      if (cachedTargetMatches(join(cacheDir, 'targets', name), info)) continue;
      void this.get(consistent ? `targets/${hash}.${name}` : `targets/${name}`, info.length).catch(() => {});
    }
  }
}

type TargetsMap = Record<string, { length: number; hashes?: Record<string, string> }>;

function signedOf(bytes: Buffer): { version?: number; consistent_snapshot?: boolean; targets?: TargetsMap; meta?: unknown } | undefined {
  try {
    return (JSON.parse(bytes.toString('utf8')) as { signed?: ReturnType<typeof signedOf> }).signed;
  } catch {
    return undefined;
  }
}

function metaOf(response: HttpResponse, file: string): { version: number; length?: number } | undefined {
  if (response.status !== 200 || response.tooLarge) return undefined;
  const meta = (signedOf(response.body)?.meta as Record<string, { version?: unknown; length?: unknown }> | undefined)?.[file];
  if (!meta || !Number.isSafeInteger(meta.version)) return undefined;
  return { version: meta.version as number, length: Number.isSafeInteger(meta.length) ? (meta.length as number) : undefined };
}

/** A target file in the cache is the one the (cached or new) targets metadata lists: its length and SHA-256. */
export function cachedTargetMatches(path: string, info: { length: number; hashes?: Record<string, string> }): boolean {
  try {
    const bytes = readFileSync(path);
    return bytes.length === info.length && createHash('sha256').update(bytes).digest('hex') === info.hashes?.sha256;
  } catch {
    return false;
  }
}
