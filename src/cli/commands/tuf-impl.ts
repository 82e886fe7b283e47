// Implementations of the TUF commands (loaded only when one runs).
import { createHash, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KeylessError } from '../../core/errors.js';
import {
  TufError,
  applyOnlinePlan,
  formatDuration,
  initializeTufCache,
  isDue,
  keyIdOf,
  planOnlineSigning,
  readRepository,
  syncRepository,
  targetsMatch,
  writeNextRoot,
  type RepositoryState,
  type TufPeriods,
} from '../../tuf/index.js';
import {
  DEFAULT_CONFIG,
  FileKeyStore,
  SIGNING_CONFIG_FILE,
  TRUSTED_ROOT_FILE,
  createTufKey,
  createTufKeys,
  findTufKey,
  findTufKeys,
  loadConfigFile,
  lockDataDir,
  tufTargetsFromTrustFiles,
} from '../../server/index.js';
import { tufPaths, writeCurrentRoot } from '../../services/tuf/index.js';
import { tufCacheDir } from '../trust-resolution.js';

const out = (s: string) => process.stdout.write(s);
const err = (s: string) => process.stderr.write(s);

async function readRoot(root: string, checksum: string | undefined): Promise<Uint8Array> {
  if (checksum !== undefined && !/^[0-9a-fA-F]{64}$/.test(checksum))
    throw new TufError('TUF_ROOT_INVALID', `--root-checksum ${checksum} is not a hex SHA-256`, { role: 'root' });
  let bytes: Uint8Array;
  if (/^https?:\/\//i.test(root)) {
    if (checksum === undefined)
      err(`warning: --root ${root} is fetched over the network without --root-checksum: whoever serves it decides what you trust\n`);
    let response: Response;
    try {
      response = await fetch(root, { signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      throw new TufError(
        'TUF_MIRROR_UNREACHABLE',
        `cannot fetch --root ${root} (${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message})`,
        { role: 'root' },
      );
    }
    if (!response.ok) throw new TufError('TUF_HTTP_ERROR', `--root ${root}: HTTP ${response.status}`, { role: 'root' });
    bytes = new Uint8Array(await response.arrayBuffer());
  } else {
    try {
      bytes = readFileSync(root);
    } catch (e) {
      throw new TufError('TUF_ROOT_INVALID', `cannot read --root ${root} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
        role: 'root',
      });
    }
  }
  if (checksum !== undefined) {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== checksum.toLowerCase()) {
      throw new TufError('TUF_ROOT_INVALID', `--root ${root} has SHA-256 ${actual}, not the --root-checksum ${checksum.toLowerCase()}`, {
        role: 'root',
        expected: checksum.toLowerCase(),
        actual,
      });
    }
  }
  return bytes;
}

export async function initializeCommand(opts: { mirror: string; root: string; rootChecksum?: string }): Promise<void> {
  const rootBytes = await readRoot(opts.root, opts.rootChecksum);
  const cacheDir = tufCacheDir();
  const trust = await initializeTufCache({ cacheDir, mirror: opts.mirror, rootBytes, rootSource: `--root ${opts.root}` });
  out(
    `Initialized the TUF cache ${cacheDir} from ${trust.mirror}\n` +
      `  root v${trust.versions.root} (expires ${trust.expires.root}), targets v${trust.versions.targets}, snapshot v${trust.versions.snapshot}, timestamp v${trust.versions.timestamp} (expires ${trust.expires.timestamp})\n` +
      `  trusted root: ${trust.trustedRootPath}\n` +
      `  signing config: ${trust.signingConfigPath ?? '(none published)'}\n`,
  );
}

interface AdminOptions {
  dataDir: string;
  config?: string;
}

function periodsOf(opts: AdminOptions): TufPeriods {
  return (opts.config ? loadConfigFile(opts.config) : DEFAULT_CONFIG).tuf.periods;
}

/** Runs an operation on a stopped server's data directory: refuses while `keyless serve` holds it. */
function withStoppedServer<T>(opts: AdminOptions, fn: (dataDir: string, keyStore: FileKeyStore) => T): T {
  const dataDir = resolve(opts.dataDir);
  if (!existsSync(join(dataDir, 'keys')) || !statSync(dataDir).isDirectory()) {
    throw new KeylessError(
      'DATA_DIR_INVALID',
      `${dataDir} is not a Keyless data directory (no keys/; start keyless serve once to create it)`,
    );
  }
  const unlock = lockDataDir(dataDir);
  try {
    return fn(dataDir, new FileKeyStore(dataDir, (m) => err(`warning: ${m}\n`)));
  } finally {
    unlock();
  }
}

function repositoryOf(dataDir: string): { dir: string; state: RepositoryState } {
  const dir = tufPaths(dataDir).repository;
  const state = existsSync(dir) ? readRepository(dir) : undefined;
  if (!state) throw new TufError('TUF_REPOSITORY_MISSING', `${dataDir} has no TUF repository yet (keyless serve creates it on start)`);
  return { dir, state };
}

function trustContents(dataDir: string) {
  return tufTargetsFromTrustFiles([join(dataDir, TRUSTED_ROOT_FILE), join(dataDir, SIGNING_CONFIG_FILE)].filter((p) => existsSync(p)));
}

/** One online round when the online key is here, so the directory is complete before the next start. */
function signOnline(dataDir: string, keyStore: FileKeyStore, dir: string, periods: TufPeriods): string[] {
  const state = readRepository(dir)!;
  const online = findTufKey(keyStore, 'online', state.root.signed);
  if (!online) return [];
  const now = new Date();
  const plan = planOnlineSigning(state, now, periods, keyIdOf(online.publicKey));
  const next = applyOnlinePlan(dir, state, plan, online, now, periods);
  writeCurrentRoot(dataDir, next.root.signed.version);
  return [
    ...(plan.snapshot ? [`snapshot v${next.snapshot.signed.version}`] : []),
    ...(plan.timestamp ? [`timestamp v${next.timestamp.signed.version}`] : []),
  ];
}

export function tufRotateRootCommand(
  opts: AdminOptions & {
    rootKeys: number;
    rootThreshold: number;
    keepRootKey?: boolean;
    targets?: boolean;
    targetsKeys: number;
    targetsThreshold: number;
    online?: boolean;
  },
): void {
  const periods = periodsOf(opts);
  withStoppedServer(opts, (dataDir, keyStore) => {
    const { dir, state } = repositoryOf(dataDir);
    const current = state.root.signed;
    const currentKeys = findTufKeys(keyStore, 'root', current);
    const currentThreshold = current.roles.root!.threshold;
    if (currentKeys.length < currentThreshold)
      throw new TufError(
        'TUF_KEY_MISSING',
        `root v${current.version} needs ${currentThreshold} of its ${current.roles.root!.keyIDs.length} root keys to sign the next version; ${currentKeys.length} ${currentKeys.length === 1 ? 'is' : 'are'} in ${keyStore.dir}: rotate where the root keys are kept`,
        { role: 'root' },
      );
    const version = current.version + 1;
    const newRootKeys = opts.keepRootKey ? currentKeys : createTufKeys(keyStore, 'root', version, opts.rootKeys);
    const rootThreshold = opts.keepRootKey ? Math.min(currentThreshold, currentKeys.length) : opts.rootThreshold;
    const targets = opts.targets ? createTufKeys(keyStore, 'targets', version, opts.targetsKeys) : undefined;
    const online = opts.online ? createTufKey(keyStore, 'online', version) : undefined;
    const next = writeNextRoot(
      dir,
      state,
      {
        currentRootKeys: currentKeys,
        newRootKeys,
        rootThreshold,
        targets: targets?.map((k) => k.publicKey),
        targetsThreshold: opts.targetsThreshold,
        online: online?.publicKey,
      },
      new Date(),
      periods,
    );
    const signed = [`root v${next.signed.version} (expires ${next.signed.expires})`];
    // New targets or online keys re-sign their roles now.
    const sync = syncRepository(
      dir,
      trustContents(dataDir),
      { root: newRootKeys[0], targets: findTufKeys(keyStore, 'targets', next.signed), online: findTufKey(keyStore, 'online', next.signed) },
      new Date(),
      periods,
    );
    signed.push(...sync.signed, ...signOnline(dataDir, keyStore, dir, periods));
    for (const w of sync.warnings) err(`warning: ${w}\n`);
    const root = writeCurrentRoot(dataDir, next.signed.version);
    const ids = (keys: { publicKey: KeyObject }[]) => keys.map((k) => keyIdOf(k.publicKey).slice(0, 16)).join(', ');
    out(`Signed ${signed.join(', ')}\n`);
    out(
      `Root keys: ${currentThreshold} of [${ids(currentKeys)}] -> ${rootThreshold} of [${ids(newRootKeys)}] (signed by ${currentKeys.length} current and ${newRootKeys.length} new)\n`,
    );
    if (!opts.keepRootKey) out(`The previous root keys stay in ${keyStore.dir}; move them offline or delete them.\n`);
    if (targets) out(`Targets keys: ${next.signed.roles.targets!.threshold} of [${ids(targets)}]\n`);
    if (newRootKeys.length > 1)
      out(
        `The ${newRootKeys.length} new root keys are all in ${keyStore.dir}; keep ${rootThreshold} where the next rotation runs and the rest apart.\n`,
      );
    out(`TUF root: ${root.path} sha256:${root.sha256}\n`);
  });
}

export function tufSignTargetsCommand(opts: AdminOptions): void {
  const periods = periodsOf(opts);
  withStoppedServer(opts, (dataDir, keyStore) => {
    const { dir, state } = repositoryOf(dataDir);
    const targets = findTufKeys(keyStore, 'targets', state.root.signed);
    const threshold = state.root.signed.roles.targets!.threshold;
    if (targets.length === 0)
      throw new TufError('TUF_KEY_MISSING', `no key in ${keyStore.dir} is the targets key of root v${state.root.signed.version}`, {
        role: 'targets',
      });
    if (targets.length < threshold)
      throw new TufError(
        'TUF_KEY_MISSING',
        `targets metadata needs ${threshold} of the targets keys root v${state.root.signed.version} names; ${targets.length} ${targets.length === 1 ? 'is' : 'are'} in ${keyStore.dir}`,
        { role: 'targets' },
      );
    const contents = trustContents(dataDir);
    if (contents.length === 0)
      throw new TufError('TUF_REPOSITORY_INVALID', `${dataDir} has no trust files to sign (keyless serve writes them)`);
    const sync = syncRepository(dir, contents, { root: undefined, targets, online: undefined }, new Date(), periods);
    const signed = [...sync.signed, ...signOnline(dataDir, keyStore, dir, periods)];
    out(
      signed.length ? `Signed ${signed.join(', ')}\n` : `targets v${state.targets.signed.version} already lists the current trust files\n`,
    );
  });
}

export function tufStatusCommand(opts: AdminOptions): void {
  const periods = periodsOf(opts);
  const dataDir = resolve(opts.dataDir);
  const { dir, state } = repositoryOf(dataDir);
  const keyStore = new FileKeyStore(dataDir, (m) => err(`warning: ${m}\n`));
  const now = new Date();
  const line = (role: 'root' | 'targets' | 'snapshot' | 'timestamp', signed: { version: number; expires: string }, extra = '') => {
    const expired = Date.parse(signed.expires) <= now.getTime();
    const due = !expired && isDue(signed.expires, periods[role], role, now);
    out(
      `  ${role.padEnd(9)} v${String(signed.version).padEnd(4)} expires ${signed.expires}${expired ? '  EXPIRED' : due ? '  due for re-signing' : ''}${extra}\n`,
    );
  };
  const here = (role: 'root' | 'targets' | 'online') => (findTufKey(keyStore, role, state.root.signed) ? 'key here' : 'key not here');
  out(`TUF repository ${dir} (served at <public-url>/tuf)\n`);
  line('root', state.root.signed, `  (${here('root')})`);
  const contents = trustContents(dataDir);
  line(
    'targets',
    state.targets.signed,
    `  (${here('targets')}; ${targetsMatch(state.targets.signed, contents) ? 'lists the current trust files' : 'OUT OF DATE: the trust files changed, run keyless tuf sign-targets'})`,
  );
  line('snapshot', state.snapshot.signed, `  (${here('online')})`);
  line('timestamp', state.timestamp.signed);
  out(
    `  periods: root ${formatDuration(periods.root)}, targets ${formatDuration(periods.targets)}, snapshot ${formatDuration(periods.snapshot)}, timestamp ${formatDuration(periods.timestamp)}\n`,
  );
  for (const [name, t] of Object.entries(state.targets.signed.targets))
    out(`  target ${name} sha256:${t.hashes.sha256} (${t.length} bytes)\n`);
}
