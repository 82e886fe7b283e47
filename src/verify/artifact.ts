// What was signed, as the caller has it: the artifact's bytes, or only a digest of it
// (the conformance CLI's `sha256:<hex>` form; `sha384:` and `sha512:` for the library,
// e.g. npm provenance subjects carry only sha512).
import { KeylessError } from '../core/errors.js';
import { digest, type HashAlgorithm } from '../core/hash.js';

/** Bytes, `sha256:<hex>` (or sha384/sha512), or `{ sha256 | sha384 | sha512: <bytes or hex> }`. */
export type ArtifactInput =
  Uint8Array | string | { sha256: Uint8Array | string } | { sha384: Uint8Array | string } | { sha512: Uint8Array | string };

const DIGEST_BYTES: Readonly<Record<string, number>> = { sha256: 32, sha384: 48, sha512: 64 };

export class Artifact {
  private readonly digests = new Map<HashAlgorithm, Buffer>();

  private constructor(
    readonly bytes: Buffer | undefined,
    given?: { algorithm: HashAlgorithm; digest: Buffer },
  ) {
    if (given) this.digests.set(given.algorithm, given.digest);
  }

  static from(input: ArtifactInput): Artifact {
    if (input instanceof Uint8Array) return new Artifact(Buffer.from(input.buffer, input.byteOffset, input.byteLength), undefined);
    if (typeof input === 'string') {
      const m = /^(sha256|sha384|sha512):([0-9a-fA-F]+)$/.exec(input);
      if (!m || m[2]!.length !== DIGEST_BYTES[m[1]!]! * 2)
        throw invalid('an artifact given as a string must be sha256:<64 hex digits> (or sha384:/sha512: with their lengths)');
      return new Artifact(undefined, { algorithm: m[1] as HashAlgorithm, digest: Buffer.from(m[2]!, 'hex') });
    }
    if (typeof input === 'object' && input !== null) {
      const keys = Object.keys(input).filter((k) => k in DIGEST_BYTES);
      if (keys.length === 1) {
        const algorithm = keys[0] as HashAlgorithm;
        const d = (input as Record<string, unknown>)[algorithm];
        const n = DIGEST_BYTES[algorithm]!;
        if (typeof d === 'string') {
          if (d.length !== n * 2 || !/^[0-9a-fA-F]+$/.test(d)) throw invalid(`artifact ${algorithm} must be ${n * 2} hex digits`);
          return new Artifact(undefined, { algorithm, digest: Buffer.from(d, 'hex') });
        }
        if (d instanceof Uint8Array && d.byteLength === n) return new Artifact(undefined, { algorithm, digest: Buffer.from(d) });
        throw invalid(`artifact ${algorithm} must be ${n} bytes`);
      }
    }
    throw invalid('artifact must be bytes, "sha256:<hex>" or { sha256 } (sha384/sha512 also accepted)');
  }

  get digestOnly(): boolean {
    return this.bytes === undefined;
  }

  /** The artifact's digest with `algorithm`, or undefined when only another digest is known. */
  digest(algorithm: HashAlgorithm): Buffer | undefined {
    let d = this.digests.get(algorithm);
    if (!d && this.bytes) {
      d = digest(algorithm, this.bytes);
      this.digests.set(algorithm, d);
    }
    return d;
  }

  /** An algorithm whose digest is available: sha256 when possible, else the one given. */
  knownAlgorithm(): HashAlgorithm {
    if (this.bytes || this.digests.has('sha256')) return 'sha256';
    return this.digests.keys().next().value!;
  }

  describe(): string {
    if (this.bytes) return `${this.bytes.length} bytes`;
    const [alg, d] = this.digests.entries().next().value!;
    return `${alg}:${d.toString('hex')}`;
  }
}

function invalid(message: string): KeylessError {
  return new KeylessError('ARTIFACT_INVALID', message, { check: 'artifact' });
}
