import { createHash, createPublicKey, createSign, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { base64Encode, pemEncode } from '../core/encoding.js';
import { sha256 } from '../core/hash.js';
import { SignError } from './errors.js';
import { KeyDetailsValue } from '../formats/index.js';

/**
 * An ECDSA P-256 private key held in memory, signing with SHA-256 (what Sigstore stores),
 * until `dispose` drops it. Only the public half leaves, as SPKI.
 */
abstract class P256Key {
  #privateKey: KeyObject | undefined;
  readonly publicKey: KeyObject;
  readonly publicKeyDer: Buffer;
  readonly publicKeyPem: string;

  protected constructor(privateKey: KeyObject) {
    this.#privateKey = privateKey;
    this.publicKey = createPublicKey(privateKey);
    this.publicKeyDer = this.publicKey.export({ format: 'der', type: 'spki' });
    this.publicKeyPem = pemEncode('PUBLIC KEY', this.publicKeyDer);
  }

  /** ECDSA over SHA-256 of `data`, DER-encoded (what Sigstore stores). */
  sign(data: Uint8Array): Buffer {
    if (!this.#privateKey) throw new SignError('KEY_DISPOSED', 'the signing key was already discarded');
    return nodeSign('sha256', data, this.#privateKey);
  }

  /** True when a certificate's SPKI is this key's (the CA must not swap it). */
  matchesCertificate(cert: { spkiDer: Uint8Array }): boolean {
    return this.publicKeyDer.equals(cert.spkiDer);
  }

  /**
   * Signs bytes read as a stream (artifacts too large to hold in memory), computing their
   * SHA-256 in the same pass: ECDSA over SHA-256 of the bytes, exactly as `sign`.
   */
  async signStream(chunks: AsyncIterable<Uint8Array>): Promise<{ signature: Buffer; digest: Buffer }> {
    const signer = createSign('sha256');
    const hash = createHash('sha256');
    for await (const chunk of chunks) {
      signer.update(chunk);
      hash.update(chunk);
    }
    if (!this.#privateKey) throw new SignError('KEY_DISPOSED', 'the signing key was already discarded');
    return { signature: signer.sign(this.#privateKey), digest: hash.digest() };
  }

  get disposed(): boolean {
    return this.#privateKey === undefined;
  }

  /** Drops the private key; later `sign` calls fail. */
  dispose(): void {
    this.#privateKey = undefined;
  }
}

/**
 * A key that lives only in this process's memory: generated here, never exported in
 * private form, never written, and dropped once signing is over.
 */
export class EphemeralKey extends P256Key {
  constructor() {
    super(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
  }
}

/** A key the user keeps (key-pair signing, `--key FILE`): ECDSA P-256, as cosign's and generate-key-pair's. */
export class SigningKey extends P256Key {
  /** Base64 SHA-256 of the SPKI DER: the bundle's `publicKey.hint`, which names the key without carrying it. */
  readonly hint: string;

  constructor(privateKey: KeyObject, source: string) {
    const curve = privateKey.asymmetricKeyType === 'ec' ? privateKey.asymmetricKeyDetails?.namedCurve : undefined;
    if (curve !== 'prime256v1') {
      const what = curve ? `an EC key on ${curve}` : `a key of type ${privateKey.asymmetricKeyType ?? 'unknown'}`;
      throw new SignError(
        'SIGNING_KEY_UNSUPPORTED',
        `${source} holds ${what}; key-pair signing takes ECDSA P-256 keys (keyless or cosign generate-key-pair)`,
        {
          check: 'key-type',
          actual: curve ?? privateKey.asymmetricKeyType,
        },
      );
    }
    super(privateKey);
    this.hint = base64Encode(sha256(this.publicKeyDer));
  }
}

/** Protobuf `keyDetails` of every key that signs here, ephemeral or kept (what Rekor v2 and sigstore-go expect). */
export const EPHEMERAL_KEY_DETAILS = KeyDetailsValue.PKIX_ECDSA_P256_SHA_256;
