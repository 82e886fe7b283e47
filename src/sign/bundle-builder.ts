import { base64Encode } from '../core/encoding.js';
import type { TlogEntryJson } from './rekor.js';

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export type SignedContent =
  { kind: 'message'; digest: Buffer; signature: Buffer } | { kind: 'dsse'; payload: Buffer; payloadType: string; signature: Buffer };

export interface BundleParts {
  /** DER of the leaf certificate only: a bundle never carries the CA chain or the root. */
  leafDer?: Buffer;
  /** Key-pair signing instead: the hint that names the public key (the verifier brings the key). */
  publicKeyHint?: string;
  content: SignedContent;
  tlogEntries: TlogEntryJson[];
  /** DER TimeStampResp answers of the TSAs. */
  timestamps: Buffer[];
}

/** A v0.3 bundle in protobuf JSON (lowerCamelCase keys, standard base64, int64 as strings). */
export function buildBundle(parts: BundleParts): Record<string, unknown> {
  const verificationMaterial: Record<string, unknown> = {
    ...(parts.leafDer ? { certificate: { rawBytes: base64Encode(parts.leafDer) } } : { publicKey: { hint: parts.publicKeyHint ?? '' } }),
    tlogEntries: parts.tlogEntries,
    timestampVerificationData: { rfc3161Timestamps: parts.timestamps.map((t) => ({ signedTimestamp: base64Encode(t) })) },
  };
  const bundle: Record<string, unknown> = { mediaType: BUNDLE_V03_MEDIA_TYPE, verificationMaterial };
  const c = parts.content;
  if (c.kind === 'message') {
    bundle.messageSignature = {
      messageDigest: { algorithm: 'SHA2_256', digest: base64Encode(c.digest) },
      signature: base64Encode(c.signature),
    };
  } else {
    bundle.dsseEnvelope = {
      payload: base64Encode(c.payload),
      payloadType: c.payloadType,
      signatures: [{ sig: base64Encode(c.signature) }],
    };
  }
  return bundle;
}
