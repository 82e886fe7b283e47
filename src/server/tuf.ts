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

/** The key of a role that a root names, among the store's `tuf-<role>` and `tuf-<role>-<n>` keys. */
export function findTufKey(keyStore: KeyStore, role: TufKeyRole, root: Root): TufSigningKey | undefined {
  const wanted = new Set(root.roles[role === 'online' ? 'timestamp' : role]!.keyIDs);
  for (let v = 1; v <= root.version + 1; v++) {
    const key = keyStore.load(v === 1 ? TUF_KEY_NAMES[role] : `${TUF_KEY_NAMES[role]}-${v}`);
    if (key && wanted.has(keyIdOf(key.publicKey))) return tufSigner(key);
  }
  return undefined;
}

/** A new key for a role, stored as `tuf-<role>-<version>` (the root version that introduces it). */
export function createTufKey(keyStore: KeyStore, role: TufKeyRole, version: number): TufSigningKey {
  const name = version === 1 ? TUF_KEY_NAMES[role] : `${TUF_KEY_NAMES[role]}-${version}`;
  if (keyStore.load(name)) throw new Error(`key ${name} already exists`);
  return tufSigner(keyStore.loadOrCreate(name, KEY_TYPES[role]));
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
      targets: findTufKey(keyStore, 'targets', root),
      online: findTufKey(keyStore, 'online', root),
    };
  };
}

/** The trust files as TUF targets, under the names sigstore clients fetch. */
export function tufTargetsFromTrustFiles(paths: string[]): TargetContent[] {
  const names: Record<string, string> = { [TRUSTED_ROOT_FILE]: TRUSTED_ROOT_TARGET, [SIGNING_CONFIG_FILE]: SIGNING_CONFIG_TARGET };
  return paths.filter((p) => names[basename(p)] !== undefined).map((p) => ({ name: names[basename(p)]!, bytes: readFileSync(p) }));
}
