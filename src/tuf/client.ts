// The client side: the TUF client workflow (tuf-js's Updater) over a cache directory.
// Every refresh runs on a private copy of the cache and writes back only when the whole
// workflow succeeded, so an expired, rolled-back or tampered repository leaves the cache
// exactly as it was.
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { Metadata, MetadataKind, type Root } from '@tufjs/models';
import { Updater, type Fetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { TufError, type TufErrorCode } from './errors.js';
import { httpGet, type HttpResponse } from './http.js';
import type { Prefetch } from './prefetch.js';
import {
  REMOTE_FILE,
  SIGNING_CONFIG_TARGET,
  TARGET_NAMES,
  TRUSTED_ROOT_TARGET,
  normalizeMirror,
  readVersions,
  refuseExpiredCache,
  type TufClientOptions,
  type TufTrust,
} from './cache.js';

/** A root file given to `initialize`: parsed and self-verified, or a one-line error. */
export function parseTufRoot(bytes: Uint8Array, source: string): Metadata<Root> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new TufError('TUF_ROOT_INVALID', `${source} is not JSON, so not a TUF root`, { role: 'root' });
  }
  let root: Metadata<Root>;
  try {
    if ((json as { signed?: { _type?: unknown } })?.signed?._type !== 'root') throw new Error('its signed._type is not "root"');
    root = Metadata.fromJSON(MetadataKind.Root, json as never);
  } catch (e) {
    throw new TufError('TUF_ROOT_INVALID', `${source} is not a TUF root: ${(e as Error).message}`, { role: 'root' });
  }
  try {
    root.verifyDelegate('root', root);
  } catch (e) {
    throw new TufError('TUF_SIGNATURE_INVALID', `${source}: the root is not signed by its own root keys (${(e as Error).message})`, {
      role: 'root',
    });
  }
  return root;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * `keyless initialize`: trusts `rootBytes`, runs the whole client workflow against the
 * mirror and, only if it succeeds, replaces any earlier cache with the result.
 */
export async function initializeTufCache(options: {
  cacheDir: string;
  mirror: string;
  rootBytes: Uint8Array;
  rootSource: string;
  timeoutMs?: number;
}): Promise<TufTrust> {
  const mirror = normalizeMirror(options.mirror);
  parseTufRoot(options.rootBytes, options.rootSource);
  mkdirSync(dirname(options.cacheDir), { recursive: true, mode: 0o700 });
  const staging = mkdtempSync(`${options.cacheDir}.init-`);
  try {
    mkdirSync(join(staging, 'metadata'));
    mkdirSync(join(staging, 'targets'));
    writeFileSync(join(staging, 'metadata', 'root.json'), options.rootBytes);
    writeFileSync(join(staging, REMOTE_FILE), `${JSON.stringify({ mirror })}\n`);
    const trust = await runWorkflow(staging, mirror, { online: true, timeoutMs: options.timeoutMs });
    // Swap: the old cache goes aside, the new one takes its place, the old one is removed.
    const aside = `${options.cacheDir}.old-${randomBytes(6).toString('hex')}`;
    if (existsSync(options.cacheDir)) renameSync(options.cacheDir, aside);
    renameSync(staging, options.cacheDir);
    rmSync(aside, { recursive: true, force: true });
    return relocate(trust, staging, options.cacheDir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * The whole client workflow on the cache (timestamp every time, the rest when it changed).
 * An unreachable mirror falls back to the cache while its metadata is unexpired, with a note.
 * `prefetch` holds requests already made to the mirror (prefetch.ts), taken as answers.
 */
export async function refreshTufTrust(options: TufClientOptions, mirror: string, prefetch?: Prefetch): Promise<TufTrust> {
  if (options.offline) {
    return {
      ...(await refreshInCopy(options.cacheDir, mirror, { online: false })),
      note: 'offline: the cached TUF metadata was used without asking the mirror',
    };
  }
  try {
    return await refreshInCopy(options.cacheDir, mirror, { online: true, timeoutMs: options.timeoutMs, prefetch });
  } catch (e) {
    if (!(e instanceof TufError) || e.code !== 'TUF_MIRROR_UNREACHABLE') throw e;
    const cached = await refreshInCopy(options.cacheDir, mirror, { online: false }).catch((cacheError: unknown) => {
      if (!(cacheError instanceof TufError)) throw e;
      throw new TufError(cacheError.code, `${e.message}, and the cache cannot stand in: ${cacheError.message}`, {
        role: cacheError.role,
        cause: cacheError,
      });
    });
    return { ...cached, note: `${e.message}; using the cached TUF metadata (timestamp valid until ${cached.expires.timestamp})` };
  }
}

async function refreshInCopy(cacheDir: string, mirror: string, mode: WorkflowMode): Promise<TufTrust> {
  const staging = mkdtempSync(join(cacheDir, '.refresh-'));
  try {
    // Both directories are flat: a file copy each (fs.cpSync costs a module load, ~2-4 ms).
    for (const sub of ['metadata', 'targets']) {
      mkdirSync(join(staging, sub));
      if (!existsSync(join(cacheDir, sub))) continue;
      for (const name of readdirSync(join(cacheDir, sub))) copyFileSync(join(cacheDir, sub, name), join(staging, sub, name));
    }
    if (!existsSync(join(staging, 'metadata', 'root.json')))
      throw new TufError('TUF_CACHE_INVALID', `${cacheDir} has no root.json; run keyless initialize again`);
    if (!mode.online) refuseExpiredCache(cacheDir);
    const trust = await runWorkflow(staging, mirror, mode);
    writeBack(staging, cacheDir);
    return relocate(trust, staging, cacheDir);
  } finally {
    removeStaging(staging);
  }
}

/**
 * The staging copy is two flat directories (and a download in flight, if any): removed file
 * by file, which spares a successful refresh fs.rmSync's recursive remover (a module load,
 * ~2-3 ms). Anything unexpected falls back to it.
 */
function removeStaging(staging: string): void {
  try {
    for (const sub of ['metadata', 'targets']) {
      const dir = join(staging, sub);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) unlinkSync(join(dir, name));
      rmdirSync(dir);
    }
    rmdirSync(staging);
  } catch {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Moves the files that changed into the cache: targets first, then metadata, root last. The
 * staging copy lives inside the cache directory, so each file is renamed into place (one
 * atomic step, no second write).
 */
function writeBack(staging: string, cacheDir: string): void {
  for (const sub of ['targets', 'metadata']) {
    mkdirSync(join(cacheDir, sub), { recursive: true, mode: 0o700 });
    // Root last; no localeCompare (its first call loads ICU collation, 5-15 ms).
    const names = readdirSync(join(staging, sub)).sort((a, b) => (a === 'root.json' ? 1 : b === 'root.json' ? -1 : a < b ? -1 : 1));
    for (const name of names) {
      const from = join(staging, sub, name);
      const to = join(cacheDir, sub, name);
      if (existsSync(to) && readFileSync(to).equals(readFileSync(from))) continue;
      chmodSync(from, 0o644);
      renameSync(from, to);
    }
  }
}

function relocate(trust: TufTrust, from: string, to: string): TufTrust {
  const move = (p: string) => join(to, p.slice(from.length + 1));
  return {
    ...trust,
    trustedRootPath: move(trust.trustedRootPath),
    signingConfigPath: trust.signingConfigPath === undefined ? undefined : move(trust.signingConfigPath),
  };
}

/** Where a URL sits in the workflow, for error messages. */
function roleOfUrl(url: string): string {
  const name = url.slice(url.lastIndexOf('/') + 1);
  if (url.includes('/targets/')) return `target ${name.replace(/^[0-9a-f]{64}\./, '')}`;
  const m = /^(?:\d+\.)?(root|timestamp|snapshot|targets)\.json$/.exec(name);
  return m ? m[1]! : name;
}

/**
 * Fetches with a size limit, no retries and one-line errors naming the role. Without
 * `online` every request fails: the workflow then runs on the cache alone.
 */
class TrackingFetcher implements Fetcher {
  lastRole = 'root';
  /** The last failure, as ours: tuf-js keeps only the message of errors from snapshot and targets fetches. */
  lastError: TufError | undefined;
  constructor(
    private readonly online: boolean,
    private readonly timeoutMs: number,
    private readonly tmpDir: string,
    private readonly prefetch: Prefetch | undefined,
  ) {}

  async downloadBytes(url: string, maxLength: number): Promise<Buffer> {
    try {
      return await this.download(url, maxLength);
    } catch (e) {
      this.lastError = e instanceof TufError ? e : new TufError('TUF_HTTP_ERROR', (e as Error).message, { role: this.lastRole });
      throw e;
    }
  }

  private async download(url: string, maxLength: number): Promise<Buffer> {
    const role = roleOfUrl(url);
    this.lastRole = role;
    if (!this.online)
      throw new TufError(
        'TUF_MIRROR_UNREACHABLE',
        `offline: the cached TUF ${role} metadata is not usable and the mirror may not be asked`,
        { role },
      );
    let response: HttpResponse;
    try {
      response = await (this.prefetch?.take(url, maxLength) ?? httpGet(url, maxLength, this.timeoutMs));
    } catch (e) {
      throw new TufError(
        'TUF_MIRROR_UNREACHABLE',
        `TUF mirror unreachable while fetching ${role} (${url}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        { role },
      );
    }
    if (response.status !== 200) {
      // tuf-js ends the root chain on its own error type with a 404 or 403 (no newer root).
      throw new DownloadHTTPError(`TUF mirror answered ${response.status} for ${role} (${url})`, response.status);
    }
    if (response.tooLarge)
      throw new TufError('TUF_TOO_LARGE', `TUF ${role} from ${url} is larger than the ${maxLength} bytes allowed`, { role });
    return response.body;
  }

  async downloadFile<T>(url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
    const bytes = await this.downloadBytes(url, maxLength);
    const file = join(this.tmpDir, `download-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, bytes);
    try {
      return await handler(file);
    } finally {
      // unlinkSync: fs.rmSync loads its recursive remover even for one file.
      try {
        unlinkSync(file);
      } catch {
        // already gone; the staging directory is removed in any case
      }
    }
  }
}

/** The TUF client workflow in `dir` (metadata/, targets/), then the targets we need. */
interface WorkflowMode {
  online: boolean;
  timeoutMs?: number | undefined;
  prefetch?: Prefetch | undefined;
}

async function runWorkflow(dir: string, mirror: string, mode: WorkflowMode): Promise<TufTrust> {
  const fetcher = new TrackingFetcher(mode.online, mode.timeoutMs ?? 5000, dir, mode.prefetch);
  const updater = new Updater({
    metadataDir: join(dir, 'metadata'),
    metadataBaseUrl: mirror,
    targetDir: join(dir, 'targets'),
    targetBaseUrl: `${mirror}/targets`,
    fetcher,
    forceCache: !mode.online,
    config: { fetchRetries: 0, fetchTimeout: mode.timeoutMs ?? 5000 },
  });
  try {
    await updater.refresh();
    const paths: Partial<Record<(typeof TARGET_NAMES)[number], string>> = {};
    for (const name of TARGET_NAMES) {
      fetcher.lastRole = `target ${name}`;
      const info = await updater.getTargetInfo(name);
      if (!info) {
        if (name === TRUSTED_ROOT_TARGET)
          throw new TufError('TUF_TARGET_MISSING', `the TUF repository at ${mirror} lists no ${name}`, { role: 'targets' });
        continue;
      }
      const path = join(dir, 'targets', name);
      paths[name] = (await updater.findCachedTarget(info, path)) ?? (await updater.downloadTarget(info, path));
    }
    return {
      mirror,
      trustedRootPath: paths[TRUSTED_ROOT_TARGET]!,
      signingConfigPath: paths[SIGNING_CONFIG_TARGET],
      ...readVersions(dir),
      note: undefined,
    };
  } catch (e) {
    throw classify(e, fetcher, mirror);
  }
}

/**
 * One error naming the role and the problem. tuf-js wraps snapshot and targets failures in
 * a RuntimeError whose message carries the original, so the problem is read from the text
 * (tuf-js is pinned; the tests cover each case).
 */
function classify(e: unknown, fetcher: TrackingFetcher, mirror: string): TufError {
  if (e instanceof TufError) return e;
  const text = String((e as Error)?.message ?? e);
  if (fetcher.lastError && (e instanceof DownloadHTTPError || text.includes(fetcher.lastError.message))) return fetcher.lastError;
  const lastRole = fetcher.lastRole;
  const named = /\b(root|timestamp|snapshot|targets)(?:\.json)?\b/.exec(stripWrap(text))?.[1];
  const role = lastRole.startsWith('target ') ? lastRole : (named ?? lastRole);
  const say = (code: TufErrorCode, problem: string) => new TufError(code, `TUF ${role} from ${mirror}: ${problem}`, { role, cause: e });
  if (/is expired/.test(text))
    return say(
      'TUF_METADATA_EXPIRED',
      `expired (${text.replace(/^.*?error (Error: )?/, '')}); the repository is not being re-signed (a stopped server, or a freeze attack)`,
    );
  if (/less than current version/.test(text)) return say('TUF_ROLLBACK', `rollback refused (${stripWrap(text)})`);
  if (/does not match|doesn't match|Expected version/.test(text))
    return say('TUF_VERSION_MISMATCH', `version mismatch (${stripWrap(text)})`);
  if (/was signed by \d+\/\d+ keys|failed to verify|no signature|no public key/.test(text))
    return say('TUF_SIGNATURE_INVALID', `signature threshold not met (${stripWrap(text)}): not signed by the keys the trusted root names`);
  if (/Expected hash|Expected length/.test(text))
    return say('TUF_HASH_MISMATCH', `content does not match the hash or length signed in the metadata (${stripWrap(text)})`);
  if (e instanceof SyntaxError || /JSON|must be|is not defined|invalid|Expected '|expected '/.test(text))
    return say('TUF_METADATA_MALFORMED', `malformed metadata (${stripWrap(text)})`);
  return say('TUF_METADATA_MALFORMED', stripWrap(text));
}

function stripWrap(text: string): string {
  return text.replace(/^Unable to load (snapshot metadata|targets) error (Error: )?/, '');
}
