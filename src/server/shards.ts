// The Rekor v2 log shards of a data directory. The first shard is the log at the public
// URL's root; `keyless admin rotate-log rekor-v2` starts shard N at `<public URL>/shards/N`
// with its own key, and ends the previous one (it stays readable and stays in the trusted
// root with an end to its validity, so every bundle made before still verifies).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeylessError } from '../core/errors.js';
import { asArray, asObject, asString, parseJson } from '../core/json.js';
import type { ServerKeyType } from './config.js';
import { writePrivateFile, type KeyStore } from './keys.js';

export interface LogShard {
  /** Log name in the engine, and key name in the key store. */
  name: string;
  /** Path below the public URL ('' for the first shard). */
  path: string;
  start: Date;
  /** Set when the shard is retired for writes. */
  end?: Date;
  /**
   * The checkpoint origin's form, fixed when the shard is created: 'hostname' (the first
   * shard, and shards made before each had its own origin) or 'url', host[:port] and path, so
   * that shards sharing a host never share an origin (C2SP: the origin names one log).
   */
  origin: 'hostname' | 'url';
  /**
   * The shard's own base URL (`https://<host>`), when it has a host name of its own (routed
   * to this server by the Host header); else it lives at `<public URL><path>`. With its own
   * host its origin is that host name, the one form every client accepts (sigstore-go
   * derives a Rekor v2 origin from the host alone).
   */
  url?: string;
}

/** A shard URL of its own: http(s), a host, nothing after it (a Rekor v2 origin is the host name). */
export function checkShardUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new KeylessError('LOG_SHARDS_INVALID', `--url ${url} is not a URL`);
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.pathname !== '/' || u.search || u.hash || u.username || u.password)
    throw new KeylessError('LOG_SHARDS_INVALID', `--url ${url} must be http(s)://<host>[:port] with no path, query or credentials`);
  return `${u.protocol}//${u.host}`;
}

const SHARDS_FILE = 'rekor-v2-shards.json';
const FIRST: Omit<LogShard, 'start'> = { name: 'rekor-v2', path: '', origin: 'hostname' };

function shardsPath(dataDir: string): string {
  return join(dataDir, 'log', SHARDS_FILE);
}

/** The shards, oldest first; without a shard file, the one first shard (started when its key was made). */
export function readLogShards(dataDir: string, keyStore: KeyStore): LogShard[] {
  const path = shardsPath(dataDir);
  if (!existsSync(path)) {
    const key = keyStore.load(FIRST.name);
    return [{ ...FIRST, start: key?.createdAt ?? new Date(0) }];
  }
  try {
    const o = asObject(parseJson(readFileSync(path, 'utf8'), path), path);
    const shards = asArray(o.shards, `${path}.shards`).map((v, i) => {
      const s = asObject(v, `${path}.shards[${i}]`);
      const date = (x: unknown, f: string) => {
        const d = new Date(asString(x, f));
        if (Number.isNaN(d.getTime())) throw new Error(`${f} is not a date`);
        return d;
      };
      const origin = s.origin === undefined ? 'hostname' : asString(s.origin, 'origin');
      if (origin !== 'hostname' && origin !== 'url') throw new Error(`shards[${i}].origin must be "hostname" or "url"`);
      const shard: LogShard = {
        name: asString(s.name, 'name'),
        path: asString(s.path, 'path'),
        start: date(s.start, 'start'),
        origin,
      };
      if (s.url !== undefined) shard.url = checkShardUrl(asString(s.url, 'url'));
      if (s.end !== undefined) shard.end = date(s.end, 'end');
      return shard;
    });
    if (shards.length === 0 || shards.slice(0, -1).some((s) => !s.end) || shards[shards.length - 1]!.end) {
      throw new Error('every shard but the last must have an end, the last none');
    }
    return shards;
  } catch (e) {
    throw new KeylessError('LOG_SHARDS_INVALID', `${path}: ${(e as Error).message}`);
  }
}

/**
 * Retires the current shard at `now` and starts the next one with a new key. The data
 * directory's server must be stopped (the caller holds its lock); the next start opens it.
 */
export function rotateLogShard(
  dataDir: string,
  keyStore: KeyStore,
  keyType: ServerKeyType,
  now = new Date(),
  options: { url?: string } = {},
): { retired: LogShard; started: LogShard } {
  const url = options.url === undefined ? undefined : checkShardUrl(options.url);
  const shards = readLogShards(dataDir, keyStore);
  if (url !== undefined && shards.some((s) => s.url !== undefined && new URL(s.url).hostname === new URL(url).hostname))
    throw new KeylessError('LOG_SHARDS_INVALID', `another shard already has the host name of --url ${url}`);
  const current = shards[shards.length - 1]!;
  const n = shards.length + 1;
  const name = `rekor-v2-${n}`;
  if (keyStore.load(name)) throw new KeylessError('LOG_SHARDS_INVALID', `a key named ${name} already exists but no shard uses it`);
  const key = keyStore.loadOrCreate(name, keyType);
  const second = new Date(Math.floor(now.getTime() / 1000) * 1000);
  current.end = second;
  const started: LogShard = { name, path: `/shards/${n}`, start: key.createdAt, origin: url ? 'hostname' : 'url' };
  if (url) started.url = url;
  shards.push(started);
  const json = {
    shards: shards.map((s) => ({
      name: s.name,
      path: s.path,
      start: s.start.toISOString(),
      ...(s.end ? { end: s.end.toISOString() } : {}),
      origin: s.origin,
      ...(s.url ? { url: s.url } : {}),
    })),
  };
  writePrivateFile(shardsPath(dataDir), `${JSON.stringify(json, null, 2)}\n`);
  return { retired: current, started };
}
