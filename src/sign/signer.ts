import { sha256 } from '../core/hash.js';
import { EphemeralKey } from './ephemeral-key.js';
import { requestSigningCertificate, type SigningCertificate } from './fulcio.js';
import { submitRekorV1, submitRekorV2, type LogContent, type TlogEntryJson } from './rekor.js';
import { requestTimestamp } from './tsa.js';
import { buildBundle, type SignedContent } from './bundle-builder.js';
import { checkToken, type CheckedToken, type TokenCheckOptions } from './token.js';
import { paeBytes } from './dsse.js';
import type { SelectedServices } from './services.js';
import { SignError } from './errors.js';

/** A certificate is reused only while it has at least this long left. */
export const CERTIFICATE_REUSE_MARGIN_MS = 30_000;

export interface SignerOptions {
  services: SelectedServices;
  /** Gives the identity token when a certificate is needed (called at most once per certificate). */
  getToken: () => Promise<string>;
  tokenCheck?: TokenCheckOptions;
  now?: () => Date;
}

export interface SignResult {
  bundle: Record<string, unknown>;
  /** The identity the certificate was requested for. */
  token: CheckedToken;
}

/**
 * Keyless signing: one ephemeral key and certificate, reused for every artifact while the
 * certificate is valid; per artifact, the log submissions and timestamps run concurrently.
 * `dispose()` drops the private key.
 */
export class KeylessSigner {
  readonly #options: SignerOptions;
  #key: EphemeralKey | undefined;
  #certificate: SigningCertificate | undefined;
  #token: CheckedToken | undefined;
  #pendingCertificate: Promise<void> | undefined;

  constructor(options: SignerOptions) {
    this.#options = options;
  }

  /** Signs an artifact's bytes: a `messageSignature` bundle. */
  async signMessage(artifact: Uint8Array): Promise<SignResult> {
    await this.#ensureCertificate();
    const digest = sha256(artifact);
    const signature = this.#requireKey().sign(artifact);
    return this.#finish({ kind: 'message', digest, signature }, { kind: 'message', digest, signature });
  }

  /** Signs a payload as a DSSE envelope (for in-toto statements). */
  async signDsse(payload: Buffer, payloadType: string): Promise<SignResult> {
    await this.#ensureCertificate();
    const pae = paeBytes(payloadType, payload);
    const signature = this.#requireKey().sign(pae);
    return this.#finish(
      { kind: 'dsse', payload, payloadType, signature },
      { kind: 'dsse', envelope: { payload, payloadType, signature }, paeDigest: sha256(pae) },
    );
  }

  /** The certificate in use (after the first signature). */
  get certificate(): SigningCertificate | undefined {
    return this.#certificate;
  }

  dispose(): void {
    this.#key?.dispose();
    this.#key = undefined;
    this.#certificate = undefined;
  }

  async #finish(content: SignedContent, logContent: LogContent): Promise<SignResult> {
    const cert = this.#certificate as SigningCertificate;
    const { tlogs, tsas } = this.#options.services;
    const signature = content.signature;
    // Independent witnesses of the same signature: ask them all at once.
    const [entries, timestamps] = await Promise.all([
      Promise.all(tlogs.map((t): Promise<TlogEntryJson> =>
        t.majorApiVersion === 2 ? submitRekorV2(t.url, logContent, cert.leafDer) : submitRekorV1(t.url, logContent, cert.leafDer))),
      Promise.all(tsas.map((t) => requestTimestamp(t.url, signature))),
    ]);
    const bundle = buildBundle({ leafDer: cert.leafDer, content, tlogEntries: entries, timestamps });
    return { bundle, token: this.#token as CheckedToken };
  }

  #requireKey(): EphemeralKey {
    if (!this.#key) throw new SignError('KEY_DISPOSED', 'the ephemeral signing key was already discarded');
    return this.#key;
  }

  /** Gets (once, even under concurrent calls) a key and certificate, or a new pair when the old one runs out. */
  async #ensureCertificate(): Promise<void> {
    const now = (this.#options.now ?? (() => new Date()))().getTime();
    if (this.#certificate && this.#certificate.notAfter.getTime() - now > CERTIFICATE_REUSE_MARGIN_MS) return;
    if (!this.#pendingCertificate) {
      this.#pendingCertificate = this.#newCertificate().finally(() => {
        this.#pendingCertificate = undefined;
      });
    }
    await this.#pendingCertificate;
  }

  async #newCertificate(): Promise<void> {
    const jwt = await this.#options.getToken();
    const token = checkToken(jwt, this.#options.tokenCheck);
    this.#key?.dispose();
    const key = new EphemeralKey();
    this.#key = key;
    this.#certificate = await requestSigningCertificate(this.#options.services.ca.url, token, key);
    this.#token = token;
  }
}
