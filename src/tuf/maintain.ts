import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TufError } from './errors.js';
import { keyIdOf, type TufSigningKey } from './keys.js';
import {
  createRepository,
  isDue,
  publishTargets,
  readRepository,
  rootNamesKey,
  targetsMatch,
  writeNextRoot,
  type RepositoryState,
  type TargetContent,
  type TufPeriods,
} from './repository.js';

/** The keys available where the repository is maintained; root and targets may be kept elsewhere. */
export interface AvailableKeys {
  root: TufSigningKey | undefined;
  /** Every targets key at hand (targets metadata needs the root's threshold of them). */
  targets: TufSigningKey | TufSigningKey[] | undefined;
  online: TufSigningKey | undefined;
}

export interface SyncResult {
  state: RepositoryState;
  /** What was signed, one line each (e.g. "targets v3"). */
  signed: string[];
  /** What needs an offline key (e.g. changed trust files without the targets key). */
  warnings: string[];
}

/**
 * Brings the repository in `dir` up to date with the files to publish: creates it (root,
 * targets and online keys needed), re-signs root or targets when due and their key is
 * here, publishes new targets when the contents changed. Snapshot and timestamp are the
 * timestamper's (planOnlineSigning). Never signs with a key the current root does not name.
 */
export function syncRepository(dir: string, contents: TargetContent[], keys: AvailableKeys, now: Date, periods: TufPeriods): SyncResult {
  const signed: string[] = [];
  const warnings: string[] = [];
  let state = readRepository(dir);
  if (!state) {
    if (existsSync(join(dir, 'timestamp.json')))
      throw new TufError('TUF_REPOSITORY_INVALID', `${dir} holds TUF metadata without 1.root.json`);
    const targets = [keys.targets ?? []].flat()[0];
    if (!keys.root || !targets || !keys.online) {
      throw new TufError('TUF_KEY_MISSING', `creating the TUF repository in ${dir} needs the root, targets and online keys`);
    }
    state = createRepository(dir, { root: [keys.root], targets, online: keys.online }, contents, now, periods);
    return { state, signed: ['root v1', 'targets v1', 'snapshot v1', 'timestamp v1'], warnings };
  }
  const root = state.root.signed;
  if (keys.online && !rootNamesKey(root, 'timestamp', keys.online)) {
    throw new TufError(
      'TUF_KEY_MISSING',
      `the online key (${keyIdOf(keys.online.publicKey).slice(0, 16)}…) is not the timestamp key root v${root.version} names; rotate it with keyless tuf rotate-root --online`,
      { role: 'timestamp' },
    );
  }
  if (isDue(root.expires, periods.root, 'root', now)) {
    if (keys.root && rootNamesKey(root, 'root', keys.root) && root.roles.root!.threshold <= 1) {
      const next = writeNextRoot(dir, state, { currentRootKeys: [keys.root], newRootKeys: [keys.root] }, now, periods);
      state = { ...state, root: next };
      signed.push(`root v${next.signed.version} (re-signed before expiry)`);
    } else {
      warnings.push(`root v${root.version} expires ${root.expires}: re-sign it with keyless tuf rotate-root where the root key is kept`);
    }
  }
  const targetsKeys = [keys.targets ?? []].flat().filter((k) => rootNamesKey(state!.root.signed, 'targets', k));
  const targetsThreshold = state.root.signed.roles.targets!.threshold;
  if (targetsKeys.length > 0 && targetsKeys.length < targetsThreshold) {
    if (!targetsMatch(state.targets.signed, contents) || isDue(state.targets.signed.expires, periods.targets, 'targets', now))
      warnings.push(
        `targets needs ${targetsThreshold} of its keys and ${targetsKeys.length} ${targetsKeys.length === 1 ? 'is' : 'are'} here: clients keep targets v${state.targets.signed.version} until keyless tuf sign-targets runs where ${targetsThreshold} are`,
      );
  } else if (targetsKeys.length > 0) {
    const targets = publishTargets(dir, state, targetsKeys, contents, now, periods);
    if (targets) {
      state = { ...state, targets };
      signed.push(`targets v${targets.signed.version}`);
    }
  } else if (!targetsMatch(state.targets.signed, contents)) {
    warnings.push(
      `the trust files changed but the targets key is not here: clients keep targets v${state.targets.signed.version} until keyless tuf sign-targets is run`,
    );
  } else if (isDue(state.targets.signed.expires, periods.targets, 'targets', now)) {
    warnings.push(
      `targets v${state.targets.signed.version} expires ${state.targets.signed.expires}: re-sign with keyless tuf sign-targets`,
    );
  }
  return { state, signed, warnings };
}
