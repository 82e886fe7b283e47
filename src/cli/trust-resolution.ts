// Where a command's trusted root and signing config come from, in this order: the flag,
// the environment variable, the TUF cache made by `keyless initialize` (refreshed from its
// mirror), the built-in public-good instance. The TUF client loads only when a cache exists.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
// The cache reader alone (not ../tuf/index.js, which loads tuf-js and @tufjs/models): a
// command with a valid cache must cost little more than one without TUF. Imported at once,
// so that a refresh has its requests out before the caller goes on to other work.
import { startTufRefresh, type TufTrust } from '../tuf/cache.js';
import { TufError } from '../tuf/errors.js';

export const TUF_ROOT_ENV = 'KEYLESS_TUF_ROOT';
const ENV = { 'trusted-root': 'KEYLESS_TRUSTED_ROOT', 'signing-config': 'KEYLESS_SIGNING_CONFIG' } as const;

export type TrustKind = keyof typeof ENV;

export interface ResolvedTrust {
  /** The file to read; undefined means the built-in public-good one. */
  path: string | undefined;
  source: 'flag' | 'env' | 'tuf' | 'built-in';
  /** For a person: e.g. "--trusted-root", "KEYLESS_TRUSTED_ROOT", the mirror. */
  detail: string;
  tuf?: TufTrust;
}

/** The TUF cache: `KEYLESS_TUF_ROOT`, else `<XDG_CACHE_HOME or ~/.cache>/keyless/tuf`. */
export function tufCacheDir(): string {
  const env = process.env[TUF_ROOT_ENV];
  if (env) return env;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'keyless', 'tuf');
}

let refreshed: Promise<TufTrust | undefined> | undefined;
let requestsSent: Promise<void> = Promise.resolve();

/** The TUF trust of this process, refreshed once however many files a command needs. */
export function tufTrust(options: { offline?: boolean } = {}): Promise<TufTrust | undefined> {
  refreshed ??= (async () => {
    const cacheDir = tufCacheDir();
    if (!existsSync(join(cacheDir, 'remote.json'))) return undefined;
    const started = startTufRefresh({ cacheDir, offline: options.offline ?? false });
    requestsSent = started.sent;
    const trust = await started.trust;
    if (trust?.note) process.stderr.write(`note: ${trust.note}\n`);
    return trust;
  })();
  return refreshed;
}

/** Settles once a TUF refresh started by tufTrust has its first requests written (at once if none). */
export function tufRequestsSent(): Promise<void> {
  return requestsSent;
}

export async function resolveTrust(
  kind: TrustKind,
  flag: string | undefined,
  options: { offline?: boolean; flagName?: string } = {},
): Promise<ResolvedTrust> {
  if (flag !== undefined && flag !== '') return { path: flag, source: 'flag', detail: options.flagName ?? `--${kind}` };
  const env = process.env[ENV[kind]];
  if (env) return { path: env, source: 'env', detail: ENV[kind] };
  const tuf = await tufTrust(options);
  if (tuf) {
    const path = kind === 'trusted-root' ? tuf.trustedRootPath : tuf.signingConfigPath;
    if (path === undefined) {
      throw new TufError(
        'TUF_TARGET_MISSING',
        `the TUF repository at ${tuf.mirror} publishes no signing config (signing_config.v0.2.json); pass --signing-config`,
        { role: 'targets' },
      );
    }
    return { path, source: 'tuf', detail: tuf.mirror, tuf };
  }
  return { path: undefined, source: 'built-in', detail: 'the public-good Sigstore instance' };
}
