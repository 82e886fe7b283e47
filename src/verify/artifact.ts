// What was signed, as the caller has it: the artifact's bytes, or only its SHA-256
// digest (the conformance CLI's `sha256:<hex>` form).
import { KeylessError } from '../core/errors.js';
import { digest, type HashAlgorithm } from '../core/hash.js';

/** Bytes, `sha256:<64 hex>`, or `{ sha256: <32 bytes or 64 hex> }`. */
export type ArtifactInput = Uint8Array | string | { sha256: Uint8Array | string };

export class Artifact {
  private readonly digests = new Map<HashAlgorithm, Buffer>();

  private constructor(readonly bytes: Buffer | undefined, sha256: Buffer | undefined) {
    if (sha256) this.digests.set('sha256', sha256);
  }

  static from(input: ArtifactInput): Artifact {
    if (input instanceof Uint8Array) return new Artifact(Buffer.from(input.buffer, input.byteOffset, input.byteLength), undefined);
    if (typeof input === 'string') {
      const m = /^sha256:([0-9a-fA-F]{64})$/.exec(input);
      if (!m) throw invalid('an artifact given as a string must be sha256:<64 hex digits>');
      return new Artifact(undefined, Buffer.from(m[1]!, 'hex'));
    }
    if (typeof input === 'object' && input !== null && 'sha256' in input) {
      const d = input.sha256;
      if (typeof d === 'string') {
        if (!/^[0-9a-fA-F]{64}$/.test(d)) throw invalid('artifact sha256 must be 64 hex digits');
        return new Artifact(undefined, Buffer.from(d, 'hex'));
      }
      if (d instanceof Uint8Array && d.byteLength === 32) return new Artifact(undefined, Buffer.from(d));
      throw invalid('artifact sha256 must be 32 bytes');
    }
    throw invalid('artifact must be bytes, "sha256:<hex>" or { sha256 }');
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

  describe(): string {
    return this.bytes ? `${this.bytes.length} bytes` : `sha256:${this.digests.get('sha256')!.toString('hex')}`;
  }
}

function invalid(message: string): KeylessError {
  return new KeylessError('ARTIFACT_INVALID', message, { check: 'artifact' });
}
