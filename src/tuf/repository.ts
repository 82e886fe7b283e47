// The repository side: TUF 1.0 metadata built and signed with @tufjs/models, laid out as
// clients fetch it (consistent snapshots): N.root.json, N.targets.json, N.snapshot.json,
// timestamp.json and targets/<sha256>.<name>. The files in the directory are the state:
// versions are read back from them, so there is no second record to drift.
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, MetadataKind, MetaFile, Root, Snapshot, TargetFile, Targets, Timestamp, type Key } from '@tufjs/models';
import { TufError } from './errors.js';
import { keyIdOf, signMetadata, tufKey, type TufSigningKey } from './keys.js';

/** Validity periods of each role's metadata, in milliseconds. */
export interface TufPeriods {
  root: number;
  targets: number;
  snapshot: number;
  timestamp: number;
}

const DAY = 86_400_000;
/** Timestamp 7 days (re-signed daily), root a year (TUF's and tuf-on-ci's conventions). */
export const DEFAULT_TUF_PERIODS: Readonly<TufPeriods> = Object.freeze({
  root: 365 * DAY,
  targets: 365 * DAY,
  snapshot: 365 * DAY,
  timestamp: 7 * DAY,
});

export const SPEC_VERSION = '1.0.31';

/** A file published as a TUF target (e.g. trusted_root.json). */
export interface TargetContent {
  name: string;
  bytes: Uint8Array;
}

/** The newest metadata of each top-level role. */
export interface RepositoryState {
  root: Metadata<Root>;
  targets: Metadata<Targets>;
  snapshot: Metadata<Snapshot>;
  timestamp: Metadata<Timestamp>;
}

/** Keys that sign a role; root may need several (the old and the new key during a rotation). */
export interface RoleKeys {
  root: TufSigningKey[];
  targets: TufSigningKey;
  online: TufSigningKey;
}

const VERSIONED = /^([1-9]\d{0,9})\.(root|targets|snapshot)\.json$/;
const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Expiry as TUF writes it: RFC 3339 UTC without fractions. */
export function expiresAt(now: Date, periodMs: number): string {
  return new Date(Math.floor((now.getTime() + periodMs) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function serializeMetadata(md: Metadata<Root | Targets | Snapshot | Timestamp>): Buffer {
  return Buffer.from(`${JSON.stringify(md.toJSON())}\n`);
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Public files, written atomically: a client never reads half a file. */
function writePublic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  writeFileSync(tmp, bytes, { mode: 0o644, flush: true });
  chmodSync(tmp, 0o644);
  renameSync(tmp, path);
}

function parseRole(dir: string, file: string, kind: MetadataKind): Metadata<Root | Targets | Snapshot | Timestamp> {
  const path = join(dir, file);
  try {
    return Metadata.fromJSON(kind as MetadataKind.Root, JSON.parse(readFileSync(path, 'utf8'))) as Metadata<
      Root | Targets | Snapshot | Timestamp
    >;
  } catch (e) {
    throw new TufError('TUF_REPOSITORY_INVALID', `${path}: not valid ${kind} metadata (${(e as Error).message})`, { role: kind });
  }
}

/** Highest version of a versioned role in the directory (0 when none). */
function latestVersion(dir: string, role: 'root' | 'targets' | 'snapshot'): number {
  let latest = 0;
  for (const name of readdirSync(dir)) {
    const m = VERSIONED.exec(name);
    if (m && m[2] === role) latest = Math.max(latest, Number(m[1]));
  }
  return latest;
}

/** The repository in `dir`, or undefined when none was created there yet. */
export function readRepository(dir: string): RepositoryState | undefined {
  if (!existsSync(join(dir, '1.root.json'))) return undefined;
  const root = parseRole(dir, `${latestVersion(dir, 'root')}.root.json`, MetadataKind.Root) as Metadata<Root>;
  const targetsVersion = latestVersion(dir, 'targets');
  if (targetsVersion === 0 || !existsSync(join(dir, 'timestamp.json'))) {
    throw new TufError('TUF_REPOSITORY_INVALID', `${dir} has a root but no targets or timestamp metadata`);
  }
  const targets = parseRole(dir, `${targetsVersion}.targets.json`, MetadataKind.Targets) as Metadata<Targets>;
  const timestamp = parseRole(dir, 'timestamp.json', MetadataKind.Timestamp) as Metadata<Timestamp>;
  const snapshot = parseRole(dir, `${timestamp.signed.snapshotMeta.version}.snapshot.json`, MetadataKind.Snapshot) as Metadata<Snapshot>;
  return { root, targets, snapshot, timestamp };
}

/** The bytes of a root version as published (what users pin and hand to `keyless initialize`). */
export function readRootBytes(dir: string, version: number): Buffer {
  return readFileSync(join(dir, `${version}.root.json`));
}

/** Sets a role's threshold, which must be 1..(its number of keys). */
function setThreshold(root: Root, role: 'root' | 'targets', threshold: number): void {
  const keys = root.roles[role]!.keyIDs.length;
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > keys) {
    throw new TufError('TUF_THRESHOLD_INVALID', `a ${role} threshold of ${threshold} must be between 1 and ${keys} (its number of keys)`, {
      role,
    });
  }
  // @tufjs/models does not export Role; its threshold is a plain field, readonly in the types only.
  (root.roles[role] as { threshold: number }).threshold = threshold;
}

function buildRoot(
  version: number,
  keys: { root: TufSigningKey[]; rootThreshold?: number; targets: Key[]; targetsThreshold?: number; online: Key },
  now: Date,
  periods: TufPeriods,
): Root {
  const root = new Root({ version, specVersion: SPEC_VERSION, expires: expiresAt(now, periods.root), consistentSnapshot: true });
  for (const k of keys.root) root.addKey(tufKey(k.publicKey), 'root');
  setThreshold(root, 'root', keys.rootThreshold ?? 1);
  for (const k of keys.targets) root.addKey(k, 'targets');
  setThreshold(root, 'targets', keys.targetsThreshold ?? 1);
  root.addKey(keys.online, 'snapshot');
  root.addKey(keys.online, 'timestamp');
  return root;
}

/**
 * A new repository: root v1, targets v1 with the given files, snapshot v1, timestamp v1.
 * Refuses to overwrite an existing one.
 */
export function createRepository(dir: string, keys: RoleKeys, contents: TargetContent[], now: Date, periods: TufPeriods): RepositoryState {
  mkdirSync(join(dir, 'targets'), { recursive: true });
  if (existsSync(join(dir, '1.root.json'))) throw new TufError('TUF_REPOSITORY_INVALID', `${dir} already holds a TUF repository`);
  const root = new Metadata(
    buildRoot(1, { root: keys.root, targets: [tufKey(keys.targets.publicKey)], online: tufKey(keys.online.publicKey) }, now, periods),
  );
  for (const k of keys.root) signMetadata(root, k);
  const targets = writeTargets(dir, 1, keys.targets, contents, now, periods);
  const { snapshot, timestamp } = writeOnline(
    dir,
    { snapshot: undefined, timestamp: undefined, targetsVersion: 1 },
    keys.online,
    now,
    periods,
    true,
  );
  // Root last: a directory with 1.root.json is a complete repository (readRepository's test).
  writePublic(join(dir, '1.root.json'), serializeMetadata(root));
  return { root, targets, snapshot, timestamp };
}

/** The TargetFile entries for some contents: one sha256 hash each (see §C1: go-tuf picks any listed hash). */
export function targetFiles(contents: TargetContent[]): Record<string, TargetFile> {
  const out: Record<string, TargetFile> = {};
  for (const c of contents) {
    if (!TARGET_NAME.test(c.name)) throw new TufError('TUF_REPOSITORY_INVALID', `invalid target name ${JSON.stringify(c.name)}`);
    out[c.name] = new TargetFile({ path: c.name, length: c.bytes.length, hashes: { sha256: sha256Hex(c.bytes) } });
  }
  return out;
}

function writeTargets(
  dir: string,
  version: number,
  keys: TufSigningKey | TufSigningKey[],
  contents: TargetContent[],
  now: Date,
  periods: TufPeriods,
): Metadata<Targets> {
  const files = targetFiles(contents);
  mkdirSync(join(dir, 'targets'), { recursive: true });
  for (const c of contents) {
    const path = join(dir, 'targets', `${files[c.name]!.hashes.sha256}.${c.name}`);
    // Content-addressed: an existing file already holds exactly these bytes.
    if (!existsSync(path)) writePublic(path, c.bytes);
  }
  const md = new Metadata(new Targets({ version, specVersion: SPEC_VERSION, expires: expiresAt(now, periods.targets), targets: files }));
  for (const key of [keys].flat()) signMetadata(md, key);
  writePublic(join(dir, `${version}.targets.json`), serializeMetadata(md));
  return md;
}

/** Whether the published targets list exactly these contents (names and hashes). */
export function targetsMatch(targets: Targets, contents: TargetContent[]): boolean {
  const wanted = targetFiles(contents);
  const names = Object.keys(targets.targets);
  if (names.length !== Object.keys(wanted).length) return false;
  return names.every(
    (n) =>
      wanted[n] !== undefined &&
      targets.targets[n]!.hashes.sha256 === wanted[n]!.hashes.sha256 &&
      targets.targets[n]!.length === wanted[n]!.length,
  );
}

/**
 * When metadata should be re-signed: online roles once a seventh of their period has
 * passed (daily for a 7-day timestamp), offline roles when half of it is left; and at once
 * when it expires later than a fresh signature would (the configured period was shortened).
 */
export function refreshAt(expires: string, periodMs: number, role: 'root' | 'targets' | 'snapshot' | 'timestamp'): number {
  const online = role === 'snapshot' || role === 'timestamp';
  return Date.parse(expires) - (online ? (periodMs * 6) / 7 : periodMs / 2);
}

export function isDue(signedExpires: string, periodMs: number, role: 'root' | 'targets' | 'snapshot' | 'timestamp', now: Date): boolean {
  const expires = Date.parse(signedExpires);
  return now.getTime() >= refreshAt(signedExpires, periodMs, role) || expires - now.getTime() > periodMs + 1000;
}

/**
 * New targets metadata when the contents changed, the targets key changed, or the targets
 * metadata is due for re-signing; undefined when the published version is still right.
 */
export function publishTargets(
  dir: string,
  state: RepositoryState,
  keys: TufSigningKey | TufSigningKey[],
  contents: TargetContent[],
  now: Date,
  periods: TufPeriods,
  force = false,
): Metadata<Targets> | undefined {
  const keyChanged = [keys].flat().some((key) => !(keyIdOf(key.publicKey) in state.targets.signatures));
  if (
    !force &&
    !keyChanged &&
    targetsMatch(state.targets.signed, contents) &&
    !isDue(state.targets.signed.expires, periods.targets, 'targets', now)
  )
    return undefined;
  return writeTargets(dir, state.targets.signed.version + 1, keys, contents, now, periods);
}

/** What the online timestamper has to do now; a pure function of the repository state and the clock. */
export interface OnlinePlan {
  snapshot: boolean;
  timestamp: boolean;
  /** When to look again (the earliest re-signing time once this plan is carried out). */
  nextAt: Date;
}

export function planOnlineSigning(state: RepositoryState, now: Date, periods: TufPeriods, onlineKeyId?: string): OnlinePlan {
  const targetsVersion = state.targets.signed.version;
  const keyChanged = onlineKeyId !== undefined && !(onlineKeyId in state.timestamp.signatures);
  const snapshot =
    keyChanged ||
    state.snapshot.signed.meta['targets.json']?.version !== targetsVersion ||
    isDue(state.snapshot.signed.expires, periods.snapshot, 'snapshot', now);
  const timestamp =
    snapshot ||
    state.timestamp.signed.snapshotMeta.version !== state.snapshot.signed.version ||
    isDue(state.timestamp.signed.expires, periods.timestamp, 'timestamp', now);
  // After this plan runs, the freshly signed roles next come due one seventh of a period from now.
  const snapshotNext = snapshot
    ? now.getTime() + periods.snapshot / 7
    : refreshAt(state.snapshot.signed.expires, periods.snapshot, 'snapshot');
  const timestampNext = timestamp
    ? now.getTime() + periods.timestamp / 7
    : refreshAt(state.timestamp.signed.expires, periods.timestamp, 'timestamp');
  return { snapshot, timestamp, nextAt: new Date(Math.min(snapshotNext, timestampNext)) };
}

function writeOnline(
  dir: string,
  prior: { snapshot: Metadata<Snapshot> | undefined; timestamp: Metadata<Timestamp> | undefined; targetsVersion: number },
  key: TufSigningKey,
  now: Date,
  periods: TufPeriods,
  newSnapshot: boolean,
): { snapshot: Metadata<Snapshot>; timestamp: Metadata<Timestamp> } {
  let snapshot = prior.snapshot;
  let snapshotBytes: Buffer;
  if (newSnapshot || !snapshot) {
    const version = (snapshot?.signed.version ?? 0) + 1;
    snapshot = new Metadata(
      new Snapshot({
        version,
        specVersion: SPEC_VERSION,
        expires: expiresAt(now, periods.snapshot),
        meta: { 'targets.json': new MetaFile({ version: prior.targetsVersion }) },
      }),
    );
    signMetadata(snapshot, key);
    snapshotBytes = serializeMetadata(snapshot);
    writePublic(join(dir, `${version}.snapshot.json`), snapshotBytes);
  } else {
    snapshotBytes = readFileSync(join(dir, `${snapshot.signed.version}.snapshot.json`));
  }
  const timestamp = new Metadata(
    new Timestamp({
      version: (prior.timestamp?.signed.version ?? 0) + 1,
      specVersion: SPEC_VERSION,
      expires: expiresAt(now, periods.timestamp),
      snapshotMeta: new MetaFile({
        version: snapshot.signed.version,
        length: snapshotBytes.length,
        hashes: { sha256: sha256Hex(snapshotBytes) },
      }),
    }),
  );
  signMetadata(timestamp, key);
  // The timestamp comes last: it names a snapshot that is already in place.
  writePublic(join(dir, 'timestamp.json'), serializeMetadata(timestamp));
  return { snapshot, timestamp };
}

/** Carries out an online plan with the online key; returns the new state. */
export function applyOnlinePlan(
  dir: string,
  state: RepositoryState,
  plan: OnlinePlan,
  key: TufSigningKey,
  now: Date,
  periods: TufPeriods,
): RepositoryState {
  if (!plan.snapshot && !plan.timestamp) return state;
  const { snapshot, timestamp } = writeOnline(
    dir,
    { snapshot: state.snapshot, timestamp: state.timestamp, targetsVersion: state.targets.signed.version },
    key,
    now,
    periods,
    plan.snapshot,
  );
  return { ...state, snapshot, timestamp };
}

export interface RootChange {
  /** Keys of the current root that sign the new version (at least the current threshold). */
  currentRootKeys: TufSigningKey[];
  /** The new root keys (they all sign too); the current ones when only re-signing. */
  newRootKeys: TufSigningKey[];
  /** How many of the new root keys must sign the next root version (default 1). */
  rootThreshold?: number;
  /** New targets key(s) and online key; the current root's when left out. */
  targets?: KeyObject | KeyObject[] | undefined;
  /** How many targets keys must sign targets metadata (default 1; with new targets keys only). */
  targetsThreshold?: number;
  online?: KeyObject | undefined;
}

/**
 * Root version N+1, signed by the current root keys at hand (at least the current root's
 * threshold of them) and by every new root key (TUF 5.3.4: a client accepts it only when
 * both the old and the new threshold are met). The caller re-signs targets and the online
 * roles when their keys changed.
 */
export function writeNextRoot(dir: string, state: RepositoryState, change: RootChange, now: Date, periods: TufPeriods): Metadata<Root> {
  const current = state.root.signed;
  const currentIds = new Set(current.roles.root!.keyIDs);
  const signing = change.currentRootKeys.filter((k) => currentIds.has(keyIdOf(k.publicKey)));
  if (signing.length < current.roles.root!.threshold) {
    throw new TufError(
      'TUF_KEY_MISSING',
      `root v${current.version} needs ${current.roles.root!.threshold} of its keys to sign the next version; ${signing.length} available`,
      { role: 'root' },
    );
  }
  const roleKeys = (role: 'targets' | 'timestamp') => current.roles[role]!.keyIDs.map((id) => current.keys[id]!);
  const targets = change.targets ? [change.targets].flat().map(tufKey) : roleKeys('targets');
  const targetsThreshold = change.targets ? (change.targetsThreshold ?? 1) : current.roles.targets!.threshold;
  const online = change.online ? tufKey(change.online) : roleKeys('timestamp')[0]!;
  const root = new Metadata(
    buildRoot(
      current.version + 1,
      { root: change.newRootKeys, rootThreshold: change.rootThreshold, targets, targetsThreshold, online },
      now,
      periods,
    ),
  );
  const seen = new Set<string>();
  for (const k of [...signing, ...change.newRootKeys]) {
    const id = keyIdOf(k.publicKey);
    if (seen.has(id)) continue;
    seen.add(id);
    signMetadata(root, k);
  }
  writePublic(join(dir, `${root.signed.version}.root.json`), serializeMetadata(root));
  return root;
}

/** Whether a key signs a role in this root. */
export function rootNamesKey(root: Root, role: 'root' | 'targets' | 'snapshot' | 'timestamp', key: TufSigningKey): boolean {
  return root.roles[role]!.keyIDs.includes(keyIdOf(key.publicKey));
}
