import { createHash, createSign, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { pemEncode } from '../core/encoding.js';
import { SignError } from './errors.js';
import { KeyDetailsValue } from '../formats/index.js';

/**
 * An ECDSA P-256 key that lives only in this process's memory: it is generated here,
 * never exported in private form, never written, and dropped (`dispose`) once signing
 * is over. Only the public half leaves, as SPKI.
 */
export class EphemeralKey {
  #privateKey: KeyObject | undefined;
  readonly publicKey: KeyObject;
  readonly publicKeyDer: Buffer;
  readonly publicKeyPem: string;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    this.#privateKey = privateKey;
    this.publicKey = publicKey;
    this.publicKeyDer = publicKey.export({ format: 'der', type: 'spki' });
    this.publicKeyPem = pemEncode('PUBLIC KEY', this.publicKeyDer);
  }

  /** ECDSA over SHA-256 of `data`, DER-encoded (what Sigstore stores). */
  sign(data: Uint8Array): Buffer {
    if (!this.#privateKey) throw new SignError('KEY_DISPOSED', 'the ephemeral signing key was already discarded');
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
    if (!this.#privateKey) throw new SignError('KEY_DISPOSED', 'the ephemeral signing key was already discarded');
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

/** Protobuf `keyDetails` name of the ephemeral key (what Rekor v2 and sigstore-go expect). */
export const EPHEMERAL_KEY_DETAILS = KeyDetailsValue.PKIX_ECDSA_P256_SHA_256;
