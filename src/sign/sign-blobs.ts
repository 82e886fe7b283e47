// Signing as functions: artifacts in, self-verified bundles out through a sink. The CLI
// reads files and writes bundles to disk; a registry client or a monitor can pass bytes
// and keep the bundles wherever it likes.
import { availableParallelism } from 'node:os';
import { KeylessSigner, type SignResult, type WitnessServices } from './signer.js';
import { KeyPairSigner, type KeySignResult } from './key-signer.js';
import type { SigningKey } from './ephemeral-key.js';
import type { SelectedServices } from './services.js';
import type { TokenCheckOptions } from './token.js';
import { IN_TOTO_PAYLOAD_TYPE } from './statement.js';
import { createSelfVerifier } from './self-verify.js';

/** An artifact's bytes, or (for one too large to hold in memory) its bytes as a stream, read once. */
export type BlobSource = { bytes: Uint8Array } | { stream: () => AsyncIterable<Uint8Array> };

/** Where each verified bundle goes; `index` is the artifact's position in the input. */
export interface BundleSink {
  /** Receives the bundle's exact JSON text, the one that was verified. */
  write(index: number, bundleJson: string): void | Promise<void>;
}

export interface SigningOptions {
  services: SelectedServices;
  /** Gives the identity token when a certificate is needed (at most once per certificate). */
  getToken: () => Promise<string>;
  tokenCheck?: TokenCheckOptions;
  /** TrustedRoot JSON every bundle is verified with before it is handed on (default: the production root). */
  trustedRoot?: unknown;
}

/** Key-pair signing (`--key`): the user's key signs; no CA, no identity token. */
export interface KeySigningOptions {
  key: SigningKey;
  services: WitnessServices;
  /** TrustedRoot JSON every bundle is verified with before it is handed on (default: the production root). */
  trustedRoot?: unknown;
}

/** Whatever signs one artifact after another: keyless (ephemeral key + certificate) or a kept key. */
interface BlobSigner {
  signMessage(artifact: Uint8Array): Promise<SignResult | KeySignResult>;
  signStream(chunks: AsyncIterable<Uint8Array>): Promise<(SignResult | KeySignResult) & { digest: Buffer }>;
  signDsse(payload: Buffer, payloadType: string): Promise<SignResult | KeySignResult>;
  dispose(): void;
}

function makeSigner(options: SigningOptions | KeySigningOptions): BlobSigner {
  if ('key' in options) return new KeyPairSigner(options.key, options.services);
  return new KeylessSigner({ services: options.services, getToken: options.getToken, tokenCheck: options.tokenCheck });
}

/** How a batch runs. */
export interface BatchOptions {
  /** Verification worker threads (default: none below POOL_THRESHOLD artifacts, else one per spare core, up to 4). */
  verifyThreads?: number;
  /** Artifacts in flight at once (default BATCH_CONCURRENCY). */
  concurrency?: number;
}

export interface SignBlobsOptions extends SigningOptions, BatchOptions {}
export interface KeySignBlobsOptions extends KeySigningOptions, BatchOptions {}

/** Batches of at least this many artifacts verify their bundles in worker threads. */
export const POOL_THRESHOLD = 16;

/** How many artifacts are in flight at once in a batch (each waits on its log and TSA calls). */
export const BATCH_CONCURRENCY = 256;

/** One verification thread per core beyond the main thread's (at least one). */
function defaultVerifyThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/**
 * Signs each artifact (`loadArtifact(i)` is called once, when its turn comes) and hands
 * every self-verified bundle to `sink`. One certificate serves the whole batch while valid.
 * The first failure stops new work; what is in flight settles, and nothing more reaches
 * the sink, before the error is thrown.
 */
export async function signBlobs(
  count: number,
  loadArtifact: (index: number) => BlobSource,
  options: SignBlobsOptions | KeySignBlobsOptions,
  sink: BundleSink,
): Promise<void> {
  const threads = options.verifyThreads ?? (count >= POOL_THRESHOLD ? defaultVerifyThreads() : 0);
  const verifier = createSelfVerifier(options.trustedRoot, { threads });
  const signer = makeSigner(options);
  const sign = async (
    source: BlobSource,
  ): Promise<{ result: SignResult | KeySignResult; checked: Uint8Array | { sha256: Uint8Array } }> => {
    if ('bytes' in source) return { result: await signer.signMessage(source.bytes), checked: source.bytes };
    const streamed = await signer.signStream(source.stream());
    return { result: streamed, checked: { sha256: streamed.digest } };
  };
  try {
    if (count === 1) {
      const pending = sign(loadArtifact(0));
      // The trust material is parsed while the CA, log and TSA answer.
      setImmediate(() => verifier.warm());
      const { result, checked } = await pending;
      signer.dispose(); // the key's work is done: drop it before verifying and writing
      const text = JSON.stringify(result.bundle);
      await verifier.verify(text, checked, result);
      await sink.write(0, text);
      return;
    }
    let next = 0;
    let failure: unknown;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < count && failure === undefined; i = next++) {
        try {
          const { result, checked } = await sign(loadArtifact(i));
          // The text goes to the verification thread as a string (cheaper to post than the
          // object), and the exact text verified is the one handed on.
          const text = JSON.stringify(result.bundle);
          await verifier.verify(text, checked, result);
          if (failure === undefined) await sink.write(i, text);
        } catch (e) {
          failure ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? BATCH_CONCURRENCY, count) }, worker));
    if (failure !== undefined) throw failure;
  } finally {
    signer.dispose();
    await verifier.close();
  }
}

/**
 * Signs an in-toto statement as a DSSE envelope and returns the self-verified bundle's
 * JSON text. The statement's first sha256 subject (or `subjectDigest`) is what is verified.
 */
export async function signStatement(
  payload: Buffer,
  options: (SigningOptions | KeySigningOptions) & { subjectDigest?: Uint8Array | undefined },
): Promise<string> {
  const verifier = createSelfVerifier(options.trustedRoot);
  const signer = makeSigner(options);
  try {
    const pending = signer.signDsse(payload, IN_TOTO_PAYLOAD_TYPE);
    setImmediate(() => verifier.warm());
    const result = await pending;
    signer.dispose();
    const text = JSON.stringify(result.bundle);
    await verifier.verifyDsse(text, payload, options.subjectDigest, result);
    return text;
  } finally {
    signer.dispose();
    await verifier.close();
  }
}
