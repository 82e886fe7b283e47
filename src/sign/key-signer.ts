import { sha256 } from '../core/hash.js';
import { preAuthEncoding } from '../formats/index.js';
import { buildBundle, type SignedContent } from './bundle-builder.js';
import type { SigningKey } from './ephemeral-key.js';
import type { LogContent } from './rekor.js';
import { witness, type WitnessServices } from './signer.js';

/** A bundle made with a kept key: no certificate, so no identity; the verifier brings the public key. */
export interface KeySignResult {
  bundle: Record<string, unknown>;
  /** The public key that verifies the bundle (PEM). */
  publicKeyPem: string;
}

/**
 * Key-pair signing (cosign's `--key`): the user's own key signs, no CA is asked; the
 * signature is logged with the public key as verifier and timestamped, and the bundle
 * names the key by its hint. `dispose()` drops the private key.
 */
export class KeyPairSigner {
  readonly #key: SigningKey;
  readonly #services: WitnessServices;

  constructor(key: SigningKey, services: WitnessServices) {
    this.#key = key;
    this.#services = services;
  }

  async signMessage(artifact: Uint8Array): Promise<KeySignResult> {
    const digest = sha256(artifact);
    const signature = this.#key.sign(artifact);
    return this.#finish({ kind: 'message', digest, signature }, { kind: 'message', digest, signature });
  }

  async signStream(chunks: AsyncIterable<Uint8Array>): Promise<KeySignResult & { digest: Buffer }> {
    const { signature, digest } = await this.#key.signStream(chunks);
    return { ...(await this.#finish({ kind: 'message', digest, signature }, { kind: 'message', digest, signature })), digest };
  }

  async signDsse(payload: Buffer, payloadType: string): Promise<KeySignResult> {
    const pae = preAuthEncoding(payloadType, payload);
    const signature = this.#key.sign(pae);
    return this.#finish(
      { kind: 'dsse', payload, payloadType, signature },
      { kind: 'dsse', envelope: { payload, payloadType, signature }, paeDigest: sha256(pae) },
    );
  }

  dispose(): void {
    this.#key.dispose();
  }

  async #finish(content: SignedContent, logContent: LogContent): Promise<KeySignResult> {
    const { entries, timestamps } = await witness(this.#services, content.signature, logContent, {
      publicKeyDer: this.#key.publicKeyDer,
    });
    const bundle = buildBundle({ publicKeyHint: this.#key.hint, content, tlogEntries: entries, timestamps });
    return { bundle, publicKeyPem: this.#key.publicKeyPem };
  }
}
