import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Root } from '@tufjs/models';
import {
  SIGNING_CONFIG_TARGET,
  TRUSTED_ROOT_TARGET,
  keyIdOf,
  type AvailableKeys,
  type TargetContent,
  type TufSigningKey,
} from '../tuf/index.js';
import type { TufKeyProvider } from '../services/tuf/index.js';
import type { KeyStore, ServerKey } from './keys.js';
import { SIGNING_CONFIG_FILE, TRUSTED_ROOT_FILE } from './trust-files.js';

/**
 * Key-store names of the TUF keys: root and targets apart from the online snapshot/timestamp
 * key. A rotation stores the new key as `<name>-<root version>`; the current root says which is in use.
 */
export const TUF_KEY_NAMES = { root: 'tuf-root', targets: 'tuf-targets', online: 'tuf-online' } as const;
const KEY_TYPES = { root: 'ecdsa-p256', targets: 'ecdsa-p256', online: 'ed25519' } as const;
export type TufKeyRole = keyof typeof TUF_KEY_NAMES;

export function tufSigner(key: ServerKey): TufSigningKey {
  const hash = key.type === 'ecdsa-p384' ? 'sha384' : 'sha256';
  return { publicKey: key.publicKey, sign: (message) => key.sign(message, hash) };
}

/** Most keys one role may have (a rotation creates them all at once). */
export const MAX_TUF_KEYS_PER_ROLE = 16;

/**
 * Key-store name of key `index` (1-based) of the keys a root version introduces for a role:
 * `tuf-root`, `tuf-root-k2`, … for version 1, `tuf-root-3`, `tuf-root-3-k2`, … for version 3.
 */
function tufKeyName(role: TufKeyRole, version: number, index: number): string {
  const base = version === 1 ? TUF_KEY_NAMES[role] : `${TUF_KEY_NAMES[role]}-${version}`;
  return index === 1 ? base : `${base}-k${index}`;
}

/** The keys of a role that a root names and that are in the store (maybe fewer than the root lists). */
export function findTufKeys(keyStore: KeyStore, role: TufKeyRole, root: Root): TufSigningKey[] {
  const wanted = new Set(root.roles[role === 'online' ? 'timestamp' : role]!.keyIDs);
  const found = new Map<string, TufSigningKey>();
  for (let v = 1; v <= root.version + 1; v++) {
    for (let i = 1; i <= MAX_TUF_KEYS_PER_ROLE; i++) {
      const key = keyStore.load(tufKeyName(role, v, i));
      if (!key) continue;
      const id = keyIdOf(key.publicKey);
      if (wanted.has(id) && !found.has(id)) found.set(id, tufSigner(key));
    }
  }
  return [...found.values()];
}

/** One key of a role that a root names, among the store's TUF keys. */
export function findTufKey(keyStore: KeyStore, role: TufKeyRole, root: Root): TufSigningKey | undefined {
  return findTufKeys(keyStore, role, root)[0];
}

/** `count` new keys for a role, stored under the root version that introduces them. */
export function createTufKeys(keyStore: KeyStore, role: TufKeyRole, version: number, count = 1): TufSigningKey[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_TUF_KEYS_PER_ROLE)
    throw new Error(`a role has 1 to ${MAX_TUF_KEYS_PER_ROLE} keys, not ${count}`);
  const names = Array.from({ length: count }, (_, i) => tufKeyName(role, version, i + 1));
  for (const name of names) if (keyStore.load(name)) throw new Error(`key ${name} already exists`);
  return names.map((name) => tufSigner(keyStore.loadOrCreate(name, KEY_TYPES[role])));
}

/** A new key for a role, stored as `tuf-<role>-<version>` (the root version that introduces it). */
export function createTufKey(keyStore: KeyStore, role: TufKeyRole, version: number): TufSigningKey {
  return createTufKeys(keyStore, role, version, 1)[0]!;
}

/** TUF keys from the key store: P-256 root and targets keys (as the public-good root), an Ed25519 online key. */
export function tufKeyProvider(keyStore: KeyStore): TufKeyProvider {
  return (root): AvailableKeys => {
    if (!root) {
      const get = (role: TufKeyRole) => tufSigner(keyStore.loadOrCreate(TUF_KEY_NAMES[role], KEY_TYPES[role]));
      return { root: get('root'), targets: get('targets'), online: get('online') };
    }
    return {
      root: findTufKey(keyStore, 'root', root),
      targets: findTufKeys(keyStore, 'targets', root),
      online: findTufKey(keyStore, 'online', root),
    };
  };
}

/** The trust files as TUF targets, under the names sigstore clients fetch. */
export function tufTargetsFromTrustFiles(paths: string[]): TargetContent[] {
  const names: Record<string, string> = { [TRUSTED_ROOT_FILE]: TRUSTED_ROOT_TARGET, [SIGNING_CONFIG_FILE]: SIGNING_CONFIG_TARGET };
  return paths.filter((p) => names[basename(p)] !== undefined).map((p) => ({ name: names[basename(p)]!, bytes: readFileSync(p) }));
}
