import { createHash, type KeyObject } from 'node:crypto';
import { Key, Signature, type Metadata, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { canonicalize } from '../core/canonical-json.js';
import { TufError } from './errors.js';

/**
 * What the repository needs from a key in the key store: its public half and a signature
 * over bytes (ECDSA: DER over SHA-256 or SHA-384 by curve; Ed25519: raw). The private key
 * itself never reaches this component.
 */
export interface TufSigningKey {
  readonly publicKey: KeyObject;
  sign(message: Uint8Array): Uint8Array;
}

/** The TUF key entry for a public key, in the forms every TUF client reads (python-tuf, go-tuf, tuf-js). */
export function tufKey(publicKey: KeyObject): Key {
  let keyType: string;
  let scheme: string;
  let keyVal: Record<string, string>;
  if (publicKey.asymmetricKeyType === 'ed25519') {
    keyType = 'ed25519';
    scheme = 'ed25519';
    // The raw 32-byte key is the tail of its SPKI encoding.
    keyVal = { public: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex') };
  } else if (publicKey.asymmetricKeyType === 'ec') {
    const curve = publicKey.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1' && curve !== 'secp384r1')
      throw new TufError('TUF_KEY_UNSUPPORTED', `TUF keys must be Ed25519, ECDSA P-256 or P-384 (got curve ${curve})`);
    keyType = 'ecdsa';
    scheme = curve === 'prime256v1' ? 'ecdsa-sha2-nistp256' : 'ecdsa-sha2-nistp384';
    keyVal = { public: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
  } else {
    throw new TufError('TUF_KEY_UNSUPPORTED', `TUF keys must be Ed25519 or ECDSA (got ${publicKey.asymmetricKeyType})`);
  }
  // The key ID is the SHA-256 of the key's canonical JSON, as python-tuf computes it.
  const keyID = createHash('sha256')
    .update(canonicalize({ keytype: keyType, scheme, keyval: keyVal }))
    .digest('hex');
  return new Key({ keyID, keyType, scheme, keyVal });
}

export function keyIdOf(publicKey: KeyObject): string {
  return tufKey(publicKey).keyID;
}

/** Adds (append) this key's signature over the metadata's canonical form. */
export function signMetadata(
  metadata: Metadata<Root> | Metadata<Targets> | Metadata<Snapshot> | Metadata<Timestamp>,
  key: TufSigningKey,
  append = true,
): void {
  const keyID = keyIdOf(key.publicKey);
  metadata.sign((bytes) => new Signature({ keyID, sig: Buffer.from(key.sign(bytes)).toString('hex') }), append);
}
