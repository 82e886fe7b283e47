// The TUF cache as commands read it, without loading tuf-js: when the mirror's
// timestamp.json is byte for byte the cached one and no next root exists, nothing changed
// since the last verified refresh, and the cached targets (checked against the cached
// targets metadata) are the answer. Anything else runs the whole client workflow
// (client.ts, loaded only then), which takes the two answers already fetched and what
// prefetch.ts asked for meanwhile. This keeps a command with a valid cache within a few
// milliseconds of one without TUF.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TufError } from './errors.js';
import { type HttpResponse } from './http.js';
import { cachedTargetMatches, Prefetch, ROOT_MAX_BYTES, TIMESTAMP_MAX_BYTES } from './prefetch.js';

export const TRUSTED_ROOT_TARGET = 'trusted_root.json';
export const SIGNING_CONFIG_TARGET = 'signing_config.v0.2.json';
export const ROLES = ['root', 'timestamp', 'snapshot', 'targets'] as const;
export const REMOTE_FILE = 'remote.json';
/** The targets a command may need, in the order they are fetched. */
export const TARGET_NAMES = [TRUSTED_ROOT_TARGET, SIGNING_CONFIG_TARGET] as const;

export interface TufClientOptions {
  /** The cache directory (`KEYLESS_TUF_ROOT`). */
  cacheDir: string;
  /** Use the cached metadata alone; fail if it is expired. */
  offline?: boolean;
  /** Per-request timeout (default 5 s, as sigstore-js). */
  timeoutMs?: number;
}

export interface TufTrust {
  mirror: string;
  /** Paths of the verified target files in the cache; signingConfig is absent if the repository has none. */
  trustedRootPath: string;
  signingConfigPath: string | undefined;
  versions: Record<(typeof ROLES)[number], number>;
  expires: Record<(typeof ROLES)[number], string>;
  /** Set when the mirror was not asked (offline) or could not be reached (the cache was used). */
  note: string | undefined;
}

export function normalizeMirror(mirror: string): string {
  let url: URL;
  try {
    url = new URL(mirror);
  } catch {
    throw new TufError('TUF_MIRROR_INVALID', `--mirror ${mirror} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TufError('TUF_MIRROR_INVALID', `--mirror ${mirror} must be an http(s) URL`);
  if (url.search || url.hash || url.username)
    throw new TufError('TUF_MIRROR_INVALID', `--mirror ${mirror} must not carry a query, fragment or credentials`);
  return url.href.replace(/\/+$/, '');
}

/** The mirror a cache was initialized for, or undefined when there is no cache. */
export function cachedMirror(cacheDir: string): string | undefined {
  const path = join(cacheDir, REMOTE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const mirror = (JSON.parse(readFileSync(path, 'utf8')) as { mirror?: unknown }).mirror;
    if (typeof mirror !== 'string') throw new Error('no "mirror"');
    return normalizeMirror(mirror);
  } catch (e) {
    throw new TufError('TUF_CACHE_INVALID', `${path} is damaged (${(e as Error).message}); run keyless initialize again`);
  }
}

export function readVersions(dir: string): Pick<TufTrust, 'versions' | 'expires'> {
  const versions = {} as TufTrust['versions'];
  const expires = {} as TufTrust['expires'];
  for (const role of ROLES) {
    const signed = (
      JSON.parse(readFileSync(join(dir, 'metadata', `${role}.json`), 'utf8')) as { signed: { version: number; expires: string } }
    ).signed;
    versions[role] = signed.version;
    expires[role] = signed.expires;
  }
  return { versions, expires };
}

/** The metadata in a cache, without any network or verification (for `show` and `status`). */
export function readCachedVersions(cacheDir: string): Pick<TufTrust, 'versions' | 'expires'> | undefined {
  try {
    return readVersions(cacheDir);
  } catch {
    return undefined;
  }
}

/** Without the mirror, expired cached metadata is the whole story: say which role and since when. */
export function refuseExpiredCache(cacheDir: string): void {
  const cached = readCachedVersions(cacheDir);
  if (!cached) return;
  for (const role of ROLES) {
    if (Date.parse(cached.expires[role]) <= Date.now()) {
      throw new TufError(
        'TUF_METADATA_EXPIRED',
        `the cached TUF ${role} (v${cached.versions[role]}) expired at ${cached.expires[role]}; a refresh from the mirror is needed`,
        { role },
      );
    }
  }
}

/**
 * Trust from the cache, refreshed from its mirror as TUF requires (timestamp every time, the
 * rest when it changed). Undefined when the cache was never initialized.
 */
export function loadTufTrust(options: TufClientOptions): Promise<TufTrust | undefined> {
  return startTufRefresh(options).trust;
}

/**
 * loadTufTrust, and `sent`: settles once the first requests to the mirror are written, so a
 * caller can do other work (compile a verifier) while the mirror answers.
 */
export function startTufRefresh(options: TufClientOptions): { trust: Promise<TufTrust | undefined>; sent: Promise<void> } {
  let mirror: string | undefined;
  try {
    mirror = cachedMirror(options.cacheDir);
  } catch (e) {
    return { trust: Promise.reject(e as Error), sent: Promise.resolve() };
  }
  if (mirror === undefined) return { trust: Promise.resolve(undefined), sent: Promise.resolve() };
  // The next root and the timestamp are asked for at once: every refresh needs both.
  const prefetch = options.offline ? undefined : new Prefetch(mirror, options.timeoutMs ?? 5000);
  const trust = refresh(options, mirror, prefetch);
  return { trust, sent: prefetch?.sent() ?? Promise.resolve() };
}

async function refresh(options: TufClientOptions, mirror: string, prefetch: Prefetch | undefined): Promise<TufTrust | undefined> {
  // All four roles when the cache was refreshed before; a fresh cache holds the root alone.
  const cached = readCachedVersions(options.cacheDir);
  let rootVersion = Number.isSafeInteger(cached?.versions.root) ? cached!.versions.root : undefined;
  if (rootVersion === undefined) {
    try {
      rootVersion = signedVersion(readFileSync(join(options.cacheDir, 'metadata', 'root.json')));
    } catch {
      // the workflow reports a damaged cache
    }
  }
  const nextRoot = rootVersion === undefined ? undefined : prefetch?.get(`${rootVersion + 1}.root.json`, ROOT_MAX_BYTES);
  const timestamp = prefetch?.get('timestamp.json', TIMESTAMP_MAX_BYTES);
  const unchanged = cached && (await unchangedCache(options, mirror, cached, nextRoot, timestamp).catch(() => undefined));
  if (unchanged) return unchanged;
  // Something changed (or the cache is fresh): while tuf-js loads, walk ahead to what the
  // new timestamp names.
  timestamp?.then(
    (t) => prefetch!.followTimestamp(options.cacheDir, t, TARGET_NAMES),
    () => {},
  );
  try {
    const { refreshTufTrust } = await import('./client.js');
    return await refreshTufTrust(options, mirror, prefetch);
  } finally {
    prefetch?.abandon();
  }
}

function signedVersion(bytes: Buffer): number {
  const version = (JSON.parse(bytes.toString('utf8')) as { signed: { version: unknown } }).signed.version;
  if (!Number.isSafeInteger(version)) throw new Error('no version');
  return version as number;
}

/**
 * The cached trust when nothing changed on the mirror (no next root, and the timestamp byte for
 * byte the cached one, which was verified when it was stored), or offline when the cache is
 * unexpired; else undefined.
 */
async function unchangedCache(
  options: TufClientOptions,
  mirror: string,
  { versions, expires }: Pick<TufTrust, 'versions' | 'expires'>,
  nextRoot: Promise<HttpResponse> | undefined,
  timestamp: Promise<HttpResponse> | undefined,
): Promise<TufTrust | undefined> {
  const { cacheDir } = options;
  const metadata = join(cacheDir, 'metadata');
  const now = Date.now();
  if (ROLES.some((role) => Date.parse(expires[role]) <= now)) return undefined;
  if (!options.offline) {
    if (!nextRoot || !timestamp) return undefined;
    const [next, ts] = await Promise.all([nextRoot, timestamp]);
    if (next.status !== 404 && next.status !== 403) return undefined;
    if (ts.status !== 200 || ts.tooLarge || !ts.body.equals(readFileSync(join(metadata, 'timestamp.json')))) return undefined;
  }
  const targets = (
    JSON.parse(readFileSync(join(metadata, 'targets.json'), 'utf8')) as {
      signed: { targets: Record<string, { length: number; hashes: { sha256?: string } }> };
    }
  ).signed.targets;
  const path = (name: string): string | undefined => {
    const info = targets[name];
    if (!info) return undefined;
    const file = join(cacheDir, 'targets', name);
    if (!cachedTargetMatches(file, info)) throw new Error(`cached ${name} does not match`);
    return file;
  };
  const trustedRootPath = path(TRUSTED_ROOT_TARGET);
  if (!trustedRootPath) return undefined;
  return {
    mirror,
    trustedRootPath,
    signingConfigPath: path(SIGNING_CONFIG_TARGET),
    versions,
    expires,
    note: options.offline ? 'offline: the cached TUF metadata was used without asking the mirror' : undefined,
  };
}
