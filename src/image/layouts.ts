// The two ways signatures live in a registry. (1) cosign v3's default: a v0.3 bundle as an
// OCI 1.1 referrer manifest of the image. (2) The legacy `sha256-<hex>.sig` / `.att` tags:
// one layer per signature, the signature material in layer annotations.
import { base64Encode, hexEncode, pemEncode } from '../core/encoding.js';
import { sha256 } from '../core/hash.js';
import { BUNDLE_V01_MEDIA_TYPE, BUNDLE_V03_MEDIA_TYPE } from '../formats/index.js';
import { OCI_EMPTY, OCI_MANIFEST, OCI_IMAGE_CONFIG, EMPTY_JSON, fallbackTag, type Descriptor } from '../registry/index.js';

export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';
export const SIGSTORE_BUNDLE_LAYER_PREFIX = 'application/vnd.dev.sigstore.bundle';
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';

export const ANNOTATION = {
  bundleContent: 'dev.sigstore.bundle.content',
  bundlePredicateType: 'dev.sigstore.bundle.predicateType',
  created: 'org.opencontainers.image.created',
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  rekorBundle: 'dev.sigstore.cosign/bundle',
  timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
  predicateType: 'predicateType',
} as const;

export const EMPTY_CONFIG: Descriptor = {
  mediaType: OCI_EMPTY,
  digest: `sha256:${sha256(EMPTY_JSON).toString('hex')}`,
  size: EMPTY_JSON.length,
};

/** The referrer manifest that carries one bundle (cosign's `WriteAttestationNewBundleFormat` shape). */
export function referrerManifest(bundle: Descriptor, subject: Descriptor, predicateType: string, created: Date): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: BUNDLE_V03_MEDIA_TYPE,
      config: EMPTY_CONFIG,
      layers: [{ mediaType: bundle.mediaType, digest: bundle.digest, size: bundle.size }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: {
        [ANNOTATION.bundleContent]: 'dsse-envelope',
        [ANNOTATION.bundlePredicateType]: predicateType,
        [ANNOTATION.created]: created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    }),
  );
}

/** The one Sigstore bundle layer of a referrer manifest, or why it is not one. */
export function bundleLayerOf(manifest: Record<string, unknown>): Descriptor | string {
  const layers = manifest.layers;
  if (!Array.isArray(layers)) return 'not an image manifest (no layers)';
  const bundles = layers.filter(
    (l) => typeof (l as Descriptor)?.mediaType === 'string' && (l as Descriptor).mediaType.startsWith(SIGSTORE_BUNDLE_LAYER_PREFIX),
  );
  if (bundles.length === 0) return 'no Sigstore bundle layer';
  if (bundles.length > 1) return `${bundles.length} Sigstore bundle layers (one expected)`;
  const d = bundles[0] as Descriptor;
  if (typeof d.digest !== 'string' || typeof d.size !== 'number') return 'a bundle layer without digest or size';
  return d;
}

/** cosign's simple-signing payload, in Go's field order. `docker-reference` is informational. */
export function simpleSigningPayload(dockerReference: string, digest: string, annotations: Record<string, string> | undefined): Buffer {
  const optional = annotations && Object.keys(annotations).length > 0 ? annotations : null;
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional,
    }),
  );
}

export function legacyTag(digest: string, suffix: 'sig' | 'att'): string {
  return `${fallbackTag(digest)}.${suffix}`;
}

/** The parts of a v0.3 bundle (protobuf JSON, as the signer builds it) that the legacy layout copies. */
export interface SignedBundleJson {
  verificationMaterial: {
    certificate: { rawBytes: string };
    tlogEntries: Array<{
      logIndex: string;
      logId: { keyId: string };
      integratedTime: string;
      inclusionPromise?: { signedEntryTimestamp: string };
      canonicalizedBody: string;
    }>;
    timestampVerificationData?: { rfc3161Timestamps?: Array<{ signedTimestamp: string }> };
  };
  messageSignature?: { signature: string };
}

/** cosign's `dev.sigstore.cosign/bundle` annotation. */
interface RekorAnnotation {
  SignedEntryTimestamp?: unknown;
  Payload?: { body?: unknown; integratedTime?: unknown; logIndex?: unknown; logID?: unknown };
}

interface EnvelopeJson {
  payload?: unknown;
  payloadType?: unknown;
  signatures?: Array<{ sig?: unknown; keyid?: unknown }>;
}

/** The cosign layer annotations for a signature made as a v0.3 bundle with a Rekor v1 entry. */
export function legacyAnnotations(bundle: SignedBundleJson, chainDer: Buffer[], kind: 'sig' | 'att'): Record<string, string> {
  const vm = bundle.verificationMaterial;
  const leaf = Buffer.from(vm.certificate.rawBytes, 'base64');
  const entry = vm.tlogEntries.find((e) => e.inclusionPromise?.signedEntryTimestamp);
  if (!entry) throw new Error('legacy layout needs a Rekor v1 entry with a signed entry timestamp');
  const out: Record<string, string> = {
    [ANNOTATION.signature]: kind === 'sig' ? (bundle.messageSignature?.signature ?? '') : '',
    [ANNOTATION.certificate]: pemEncode('CERTIFICATE', leaf),
    [ANNOTATION.chain]: chainDer
      .slice(1)
      .map((d) => pemEncode('CERTIFICATE', d))
      .join(''),
    [ANNOTATION.rekorBundle]: JSON.stringify({
      SignedEntryTimestamp: entry.inclusionPromise?.signedEntryTimestamp,
      Payload: {
        body: entry.canonicalizedBody,
        integratedTime: Number(entry.integratedTime),
        logIndex: Number(entry.logIndex),
        logID: hexEncode(Buffer.from(entry.logId.keyId, 'base64')),
      },
    }),
  };
  const ts = vm.timestampVerificationData?.rfc3161Timestamps?.[0];
  if (ts) out[ANNOTATION.timestamp] = JSON.stringify({ SignedRFC3161Timestamp: ts.signedTimestamp });
  return out;
}

/** go-containerregistry's config for an empty image with these layers (verifiers never read it). */
export function legacyConfig(layerDigests: string[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: layerDigests.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layerDigests },
      config: {},
    }),
  );
}

export function legacyManifest(config: Descriptor, layers: Descriptor[]): Buffer {
  return Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...config, mediaType: OCI_IMAGE_CONFIG }, layers }),
  );
}

/**
 * A legacy layer as a v0.1 bundle (the layout's proofs are a SET, not an inclusion proof),
 * so that the one verifier checks it: certificate chain, SET, body against the signature.
 */
export function bundleFromLegacyLayer(layer: Descriptor, blob: Buffer): { bundle: Record<string, unknown> } | { skip: string } {
  const a = layer.annotations ?? {};
  // No certificate: a keyed signature (`cosign sign --key`), verified with the key given to --key.
  const cert = a[ANNOTATION.certificate] || undefined;
  const rekor = a[ANNOTATION.rekorBundle];
  if (!rekor) return { skip: 'no Rekor bundle annotation' };
  let r: RekorAnnotation;
  try {
    r = JSON.parse(rekor) as RekorAnnotation;
  } catch {
    return { skip: 'the Rekor bundle annotation is not JSON' };
  }
  const p = r?.Payload;
  if (typeof r.SignedEntryTimestamp !== 'string' || !p || typeof p.body !== 'string' || typeof p.logID !== 'string')
    return { skip: 'the Rekor bundle annotation lacks SignedEntryTimestamp or Payload' };
  let kindVersion: { kind: unknown; version: unknown };
  try {
    const body = JSON.parse(Buffer.from(p.body, 'base64').toString('utf8')) as { kind?: unknown; apiVersion?: unknown };
    kindVersion = { kind: body.kind, version: body.apiVersion };
  } catch {
    return { skip: 'the Rekor entry body is not JSON' };
  }
  // Only the leaf: the chain annotation usually ends in the root, which a bundle may not
  // carry; the chain is built from the trusted root instead.
  const leaf = cert === undefined ? undefined : /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(cert)?.[1];
  if (cert !== undefined && !leaf) return { skip: 'the certificate annotation holds no PEM certificate' };
  const vm: Record<string, unknown> = {
    ...(leaf ? { x509CertificateChain: { certificates: [{ rawBytes: leaf.replace(/\s+/g, '') }] } } : { publicKey: { hint: '' } }),
    tlogEntries: [
      {
        logIndex: String(p.logIndex),
        logId: { keyId: base64Encode(Buffer.from(p.logID, 'hex')) },
        kindVersion,
        integratedTime: String(p.integratedTime),
        inclusionPromise: { signedEntryTimestamp: r.SignedEntryTimestamp },
        canonicalizedBody: p.body,
      },
    ],
  };
  const ts = a[ANNOTATION.timestamp];
  if (ts) {
    try {
      vm.timestampVerificationData = {
        rfc3161Timestamps: [{ signedTimestamp: (JSON.parse(ts) as { SignedRFC3161Timestamp?: unknown }).SignedRFC3161Timestamp }],
      };
    } catch {
      return { skip: 'the RFC 3161 timestamp annotation is not JSON' };
    }
  }
  if (layer.mediaType === DSSE_ENVELOPE_MEDIA_TYPE) {
    let env: EnvelopeJson;
    try {
      env = JSON.parse(blob.toString('utf8')) as EnvelopeJson;
    } catch {
      return { skip: 'the DSSE envelope layer is not JSON' };
    }
    return {
      bundle: {
        mediaType: BUNDLE_V01_MEDIA_TYPE,
        verificationMaterial: vm,
        dsseEnvelope: {
          payload: env.payload,
          payloadType: env.payloadType,
          signatures: Array.isArray(env?.signatures) ? env.signatures.map((s) => ({ sig: s?.sig, keyid: s?.keyid ?? '' })) : undefined,
        },
      },
    };
  }
  const sig = a[ANNOTATION.signature];
  if (!sig) return { skip: 'no signature annotation' };
  return {
    bundle: {
      mediaType: BUNDLE_V01_MEDIA_TYPE,
      verificationMaterial: vm,
      messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: base64Encode(sha256(blob)) }, signature: sig },
    },
  };
}
