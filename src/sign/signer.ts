import { sha256 } from '../core/hash.js';
import { EphemeralKey } from './ephemeral-key.js';
import { requestSigningCertificate, type SigningCertificate } from './fulcio.js';
import { submitRekorV1, submitRekorV2, type LogContent, type LogVerifier, type TlogEntryJson } from './rekor.js';
import { requestTimestamp } from './tsa.js';
import { buildBundle, type SignedContent } from './bundle-builder.js';
import { checkToken, type CheckedToken, type TokenCheckOptions } from './token.js';
import { preAuthEncoding } from '../formats/index.js';
import type { SelectedServices } from './services.js';

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
  /** The certificate that signed (leaf first). */
  certificate: SigningCertificate;
}

/**
 * Keyless signing: one ephemeral key and certificate, reused for every artifact while the
 * certificate is valid; per artifact, the log submissions and timestamps run concurrently.
 * `dispose()` drops the private key.
 */
export class KeylessSigner {
  readonly #options: SignerOptions;
  /** Every key made, so that `dispose` drops them all (a batch may outlive one certificate). */
  #keys: EphemeralKey[] = [];
  #current: SigningIdentity | undefined;
  #pending: Promise<SigningIdentity> | undefined;

  constructor(options: SignerOptions) {
    this.#options = options;
  }

  /** Signs an artifact read as a stream (one too large to read into memory): a `messageSignature` bundle. */
  async signStream(chunks: AsyncIterable<Uint8Array>): Promise<SignResult & { digest: Buffer }> {
    const id = await this.#ensureCertificate();
    const { signature, digest } = await id.key.signStream(chunks);
    const result = await this.#finish(id, { kind: 'message', digest, signature }, { kind: 'message', digest, signature });
    return { ...result, digest };
  }

  /** Signs an artifact's bytes: a `messageSignature` bundle. */
  async signMessage(artifact: Uint8Array): Promise<SignResult> {
    const id = await this.#ensureCertificate();
    const digest = sha256(artifact);
    const signature = id.key.sign(artifact);
    return this.#finish(id, { kind: 'message', digest, signature }, { kind: 'message', digest, signature });
  }

  /** Signs a payload as a DSSE envelope (for in-toto statements). */
  async signDsse(payload: Buffer, payloadType: string): Promise<SignResult> {
    const id = await this.#ensureCertificate();
    const pae = preAuthEncoding(payloadType, payload);
    const signature = id.key.sign(pae);
    return this.#finish(
      id,
      { kind: 'dsse', payload, payloadType, signature },
      { kind: 'dsse', envelope: { payload, payloadType, signature }, paeDigest: sha256(pae) },
    );
  }

  /** The certificate in use (after the first signature). */
  get certificate(): SigningCertificate | undefined {
    return this.#current?.certificate;
  }

  dispose(): void {
    for (const k of this.#keys) k.dispose();
    this.#keys = [];
    this.#current = undefined;
  }

  async #finish(id: SigningIdentity, content: SignedContent, logContent: LogContent): Promise<SignResult> {
    const cert = id.certificate;
    const { entries, timestamps } = await witness(this.#options.services, content.signature, logContent, cert.leafDer);
    const bundle = buildBundle({ leafDer: cert.leafDer, content, tlogEntries: entries, timestamps });
    return { bundle, token: id.token, certificate: cert };
  }

  /** Gets (once, even under concurrent calls) a key and certificate, or a new pair when the old one runs out. */
  async #ensureCertificate(): Promise<SigningIdentity> {
    const now = (this.#options.now ?? (() => new Date()))().getTime();
    const current = this.#current;
    if (current && current.certificate.notAfter.getTime() - now > CERTIFICATE_REUSE_MARGIN_MS) return current;
    if (!this.#pending) {
      this.#pending = this.#newCertificate().finally(() => {
        this.#pending = undefined;
      });
    }
    return this.#pending;
  }

  async #newCertificate(): Promise<SigningIdentity> {
    const jwt = await this.#options.getToken();
    const token = checkToken(jwt, this.#options.tokenCheck);
    const key = new EphemeralKey();
    this.#keys.push(key);
    const certificate = await requestSigningCertificate(this.#options.services.ca.url, token, key);
    // Signing happens synchronously right after a caller gets its identity, so the old key has
    // no signature left to make by now.
    this.#current?.key.dispose();
    this.#current = { key, certificate, token };
    return this.#current;
  }
}

/** The services that witness a signature, whoever made it: the logs and the timestamp authorities. */
export type WitnessServices = Pick<SelectedServices, 'tlogs' | 'tsas'>;

/**
 * Logs a signature in every selected transparency log and has every selected TSA stamp it:
 * independent witnesses of the same signature, asked all at once.
 */
export async function witness(
  services: WitnessServices,
  signature: Buffer,
  logContent: LogContent,
  verifier: LogVerifier,
): Promise<{ entries: TlogEntryJson[]; timestamps: Buffer[] }> {
  const [entries, timestamps] = await Promise.all([
    Promise.all(
      services.tlogs.map((t): Promise<TlogEntryJson> =>
        t.majorApiVersion === 2 ? submitRekorV2(t.url, logContent, verifier) : submitRekorV1(t.url, logContent, verifier),
      ),
    ),
    Promise.all(services.tsas.map((t) => requestTimestamp(t.url, signature))),
  ]);
  return { entries, timestamps };
}

/** One ephemeral key with its certificate: what signs together must be bundled together. */
interface SigningIdentity {
  key: EphemeralKey;
  certificate: SigningCertificate;
  token: CheckedToken;
}
