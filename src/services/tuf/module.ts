import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Root } from '@tufjs/models';
import {
  Timestamper,
  TufError,
  readRepository,
  readRootBytes,
  syncRepository,
  type AvailableKeys,
  type TargetContent,
} from '../../tuf/index.js';
import type { TufConfig } from './config.js';
import { tufService } from './plugin.js';

/**
 * The TUF keys in the server's key store: new ones when there is no repository yet
 * (`root` undefined), else those the current root names that are present.
 */
export type TufKeyProvider = (root: Root | undefined) => AvailableKeys;

export interface TufPublishOptions {
  dataDir: string;
  config: TufConfig;
  keys: TufKeyProvider;
  /** The files to publish (trusted_root.json, signing_config.v0.2.json), exactly as written for clients. */
  contents: TargetContent[];
  publicUrl: string;
  warn: (message: string) => void;
  now?: () => Date;
}

export interface TufPublished {
  /** `<public-url>/tuf`: the mirror clients initialize with. */
  mirror: string;
  /** `<data-dir>/tuf/root.json`, the current root, and its SHA-256 (for `keyless initialize --root-checksum`). */
  rootPath: string;
  rootSha256: string;
  /** What this start signed (e.g. "targets v2"). */
  signed: string[];
  timestamper: Timestamper;
}

/** Directories of a data directory's TUF repository. */
export function tufPaths(dataDir: string): { tufDir: string; repository: string; root: string } {
  const tufDir = join(dataDir, 'tuf');
  return { tufDir, repository: join(tufDir, 'repository'), root: join(tufDir, 'root.json') };
}

/** Writes `<data-dir>/tuf/root.json` (the newest root, as published) and returns its SHA-256. */
export function writeCurrentRoot(dataDir: string, version: number): { path: string; sha256: string } {
  const paths = tufPaths(dataDir);
  const bytes = readRootBytes(paths.repository, version);
  const tmp = `${paths.root}.tmp-${randomBytes(6).toString('hex')}`;
  writeFileSync(tmp, bytes, { mode: 0o644 });
  renameSync(tmp, paths.root);
  return { path: paths.root, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * The TUF module of `keyless serve`: brings the repository up to date with the trust
 * files, serves it at `<public-url><path>` and keeps timestamp and snapshot fresh while
 * the server runs.
 */
export async function publishTufRepository(app: FastifyInstance, options: TufPublishOptions): Promise<TufPublished> {
  const { config, keys, warn } = options;
  const now = options.now ?? (() => new Date());
  const paths = tufPaths(options.dataDir);
  mkdirSync(paths.repository, { recursive: true, mode: 0o755 });
  const available = keys(readRepository(paths.repository)?.root.signed);
  const online = available.online;
  const result = syncRepository(paths.repository, options.contents, available, now(), config.periods);
  for (const w of result.warnings) warn(`tuf: ${w}`);
  if (!online)
    throw new TufError('TUF_KEY_MISSING', `the TUF online (snapshot/timestamp) key is missing from the key store of ${options.dataDir}`, {
      role: 'timestamp',
    });
  const timestamper = new Timestamper({
    dir: paths.repository,
    state: result.state,
    periods: config.periods,
    key: online,
    now,
    onError: (e) => warn(`tuf: re-signing timestamp/snapshot failed: ${(e as Error).message}`),
  });
  timestamper.start();
  app.addHook('onClose', async () => timestamper.stop());
  await app.register(tufService({ dir: paths.repository }), { prefix: config.path });
  const root = writeCurrentRoot(options.dataDir, timestamper.current.root.signed.version);
  return { mirror: `${options.publicUrl}${config.path}`, rootPath: root.path, rootSha256: root.sha256, signed: result.signed, timestamper };
}
