import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { SIGNING_CONFIG_TARGET, TRUSTED_ROOT_TARGET, type TargetContent, type TufSigningKey } from '../tuf/index.js';
import type { TufKeyProvider } from '../services/tuf/index.js';
import type { KeyStore, ServerKey } from './keys.js';
import { SIGNING_CONFIG_FILE, TRUSTED_ROOT_FILE } from './trust-files.js';

/** Key-store names of the TUF keys: root and targets apart from the online snapshot/timestamp key. */
export const TUF_KEY_NAMES = { root: 'tuf-root', targets: 'tuf-targets', online: 'tuf-online' } as const;

export function tufSigner(key: ServerKey): TufSigningKey {
  const hash = key.type === 'ecdsa-p384' ? 'sha384' : 'sha256';
  return { publicKey: key.publicKey, sign: (message) => key.sign(message, hash) };
}

/** TUF keys from the key store: P-256 root and targets keys (as the public-good root), an Ed25519 online key. */
export function tufKeyProvider(keyStore: KeyStore): TufKeyProvider {
  const get = (name: string, type: 'ecdsa-p256' | 'ed25519', create: boolean) => {
    const key = create ? keyStore.loadOrCreate(name, type) : keyStore.load(name);
    return key ? tufSigner(key) : undefined;
  };
  return {
    root: (create) => get(TUF_KEY_NAMES.root, 'ecdsa-p256', create),
    targets: (create) => get(TUF_KEY_NAMES.targets, 'ecdsa-p256', create),
    online: (create) => get(TUF_KEY_NAMES.online, 'ed25519', create),
  };
}

/** The trust files as TUF targets, under the names sigstore clients fetch. */
export function tufTargetsFromTrustFiles(paths: string[]): TargetContent[] {
  const names: Record<string, string> = { [TRUSTED_ROOT_FILE]: TRUSTED_ROOT_TARGET, [SIGNING_CONFIG_FILE]: SIGNING_CONFIG_TARGET };
  return paths.filter((p) => names[basename(p)] !== undefined).map((p) => ({ name: names[basename(p)]!, bytes: readFileSync(p) }));
}
