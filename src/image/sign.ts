// Signing images: resolve each reference to a manifest digest (never sign a tag), sign
// with one certificate for the whole command, verify the new bundle, then push it in the
// chosen layout. Nothing is pushed for a signature that did not verify.
import { sha256 } from '../core/hash.js';
import { hexEncode } from '../core/encoding.js';
import { BUNDLE_V03_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE, serializeStatement } from '../formats/index.js';
import {
  RegistryClient,
  isIndexMediaType,
  manifestReference,
  OCI_MANIFEST,
  EMPTY_JSON,
  OCI_EMPTY,
  type Descriptor,
  type ImageReference,
  type Repository,
} from '../registry/index.js';
import type { KeylessSigner, SelfVerifier, SignResult, SelectedServices } from '../sign/index.js';
import { ImageError } from './errors.js';
import { mapLimit } from './map-limit.js';
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  DSSE_ENVELOPE_MEDIA_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  ANNOTATION,
  referrerManifest,
  simpleSigningPayload,
  legacyAnnotations,
  legacyConfig,
  legacyManifest,
  legacyTag,
  type SignedBundleJson,
} from './layouts.js';

/** An image to sign: where it is and the manifest its reference resolved to. */
export interface ImageTarget {
  reference: ImageReference;
  descriptor: Descriptor;
}

export interface ImageSignOptions {
  layout: 'referrer' | 'legacy';
  /** `-a key=value`: in the statement subject (referrer) or the payload's `optional` (legacy). */
  annotations?: Record<string, string>;
  /** An attestation instead of a signature. */
  attestation?: { predicateType: string; predicate: unknown };
  /** Where signatures are stored (COSIGN_REPOSITORY); default the image's repository. */
  signatureRepository?: Repository;
  /** false: sign and verify, push nothing. */
  upload: boolean;
  now?: () => Date;
}

export interface ImageSignature {
  target: ImageTarget;
  /** The exact bundle text that was verified (and, in the referrer layout, pushed). */
  bundleText: string;
  /** Where it went: the referrer manifest's digest, or the legacy tag. */
  pushed?: { repository: Repository; manifestDigest: string; tag?: string; via?: 'api' | 'fallback' };
}

/** How many images are signed and pushed at once. */
export const IMAGE_CONCURRENCY = 16;

/** Resolves references to digests; with `recursive`, an index brings each platform manifest too. */
export async function resolveTargets(client: RegistryClient, references: ImageReference[], recursive: boolean): Promise<ImageTarget[]> {
  const resolved = await mapLimit(references, IMAGE_CONCURRENCY, async (reference) => ({
    reference,
    descriptor: await client.resolve(reference, manifestReference(reference)),
  }));
  if (!recursive) return resolved;
  const out: ImageTarget[] = [];
  for (const t of resolved) {
    out.push(t);
    if (!isIndexMediaType(t.descriptor.mediaType)) continue;
    const index = await client.getManifest(t.reference, t.descriptor.digest);
    for (const m of (Array.isArray(index.json.manifests) ? index.json.manifests : []) as Descriptor[]) {
      if (typeof m?.digest !== 'string' || typeof m.mediaType !== 'string' || typeof m.size !== 'number') continue;
      out.push({
        reference: { ...t.reference, tag: undefined, digest: m.digest },
        descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.size },
      });
    }
  }
  return out;
}

/** Refuses the legacy layout up front when no Rekor v1 log is configured: its tags carry a SET, which Rekor v2 has not. */
export function checkLegacyServices(services: SelectedServices): void {
  if (services.tlogs.length === 0 || services.tlogs.some((t) => t.majorApiVersion !== 1)) {
    throw new ImageError(
      'IMAGE_LEGACY_NEEDS_REKOR_V1',
      'the legacy layout (--new-bundle-format=false) stores a Rekor v1 signed entry timestamp, which a Rekor v2 log does not give: use a signing config with a Rekor v1 log, or the default bundle layout',
      { check: 'signing-config' },
    );
  }
}

/** Signs every target with one signer (one certificate), at most IMAGE_CONCURRENCY at a time. */
export async function signImages(
  client: RegistryClient,
  signer: KeylessSigner,
  verifier: SelfVerifier,
  chainOf: () => Buffer[],
  targets: ImageTarget[],
  options: ImageSignOptions,
  onSigned?: (s: ImageSignature) => void,
): Promise<ImageSignature[]> {
  const pushedEmpty = new EmptyConfigPushes(client);
  return mapLimit(targets, IMAGE_CONCURRENCY, async (target) => {
    const sig = await signOne(client, signer, verifier, chainOf, target, options, pushedEmpty);
    onSigned?.(sig);
    return sig;
  });
}

async function signOne(
  client: RegistryClient,
  signer: KeylessSigner,
  verifier: SelfVerifier,
  chainOf: () => Buffer[],
  target: ImageTarget,
  o: ImageSignOptions,
  pushedEmpty: EmptyConfigPushes,
): Promise<ImageSignature> {
  const digest = target.descriptor.digest;
  const digestBytes = Buffer.from(digest.slice('sha256:'.length), 'hex');
  const repo = o.signatureRepository ?? { registry: target.reference.registry, repository: target.reference.repository };
  const now = (o.now ?? (() => new Date()))();
  if (o.layout === 'referrer') {
    const predicateType = o.attestation?.predicateType ?? COSIGN_SIGN_PREDICATE_TYPE;
    const annotations = o.annotations && Object.keys(o.annotations).length > 0 ? o.annotations : undefined;
    const payload = serializeStatement({
      subjects: [{ name: '', digest: { sha256: hexEncode(digestBytes) }, annotations }],
      predicateType,
      predicate: o.attestation?.predicate ?? {},
    });
    const result = await signer.signDsse(payload, IN_TOTO_PAYLOAD_TYPE);
    const bundleText = JSON.stringify(result.bundle);
    await verifier.verifyDsse(bundleText, payload, digestBytes, result);
    if (!o.upload) return { target, bundleText };
    const bundleBytes = Buffer.from(bundleText);
    // On a registry without the referrers API the fallback index is read while the blobs go up.
    const fallbackIndex = client.prefetchFallbackIndex(repo, digest);
    const [, layer] = await Promise.all([
      pushedEmpty.ensure(repo),
      client.pushBlob(repo, bundleBytes, BUNDLE_V03_MEDIA_TYPE, { known: false }),
    ]);
    const manifest = referrerManifest(layer, target.descriptor, predicateType, now);
    const descriptor: Descriptor = {
      mediaType: OCI_MANIFEST,
      digest: `sha256:${sha256(manifest).toString('hex')}`,
      size: manifest.length,
      artifactType: BUNDLE_V03_MEDIA_TYPE,
    };
    const { via } = await client.pushReferrer(repo, manifest, descriptor, digest, { fallbackIndex });
    return { target, bundleText, pushed: { repository: repo, manifestDigest: descriptor.digest, via } };
  }
  // Legacy: a simple-signing payload (or a DSSE attestation) as one more layer of the tag.
  const kind = o.attestation ? 'att' : 'sig';
  let result: SignResult;
  let layerBytes: Buffer;
  let layerMediaType: string;
  if (o.attestation) {
    const payload = serializeStatement({
      subjects: [{ name: `${target.reference.registry}/${target.reference.repository}`, digest: { sha256: hexEncode(digestBytes) } }],
      predicateType: o.attestation.predicateType,
      predicate: o.attestation.predicate,
    });
    result = await signer.signDsse(payload, IN_TOTO_PAYLOAD_TYPE);
    await verifier.verifyDsse(JSON.stringify(result.bundle), payload, digestBytes, result);
    const env = result.bundle.dsseEnvelope as { payload: string; payloadType: string; signatures: Array<{ sig: string }> };
    // The layer must be the envelope text the log hashed (cosign compares the entry's envelopeHash with it).
    layerBytes = Buffer.from(
      JSON.stringify({ payload: env.payload, payloadType: env.payloadType, signatures: env.signatures.map((x) => ({ sig: x.sig })) }),
    );
    checkEnvelopeHash(result.bundle, layerBytes);
    layerMediaType = DSSE_ENVELOPE_MEDIA_TYPE;
  } else {
    const payload = simpleSigningPayload(`${target.reference.registry}/${target.reference.repository}`, digest, o.annotations);
    result = await signer.signMessage(payload);
    await verifier.verify(JSON.stringify(result.bundle), payload, result);
    layerBytes = payload;
    layerMediaType = SIMPLE_SIGNING_MEDIA_TYPE;
  }
  const bundleText = JSON.stringify(result.bundle);
  const annotations = legacyAnnotations(result.bundle as unknown as SignedBundleJson, chainOf(), kind);
  if (o.attestation) annotations[ANNOTATION.predicateType] = o.attestation.predicateType;
  if (!o.upload) return { target, bundleText };
  const layer: Descriptor = { ...(await client.pushBlob(repo, layerBytes, layerMediaType)), annotations };
  const tag = legacyTag(digest, kind);
  // Read-modify-write of the tag, as cosign does: earlier signatures stay.
  const existing = await client.tryGetManifest(repo, tag);
  const earlier = (Array.isArray(existing?.json.layers) ? existing.json.layers : []) as Descriptor[];
  const layers = [
    ...earlier.filter(
      (l) =>
        !(
          l.digest === layer.digest &&
          l.annotations?.[ANNOTATION.signature] === annotations[ANNOTATION.signature] &&
          l.annotations?.[ANNOTATION.certificate] === annotations[ANNOTATION.certificate]
        ),
    ),
    layer,
  ];
  const config = await client.pushBlob(repo, legacyConfig(layers.map((l) => l.digest)));
  const manifest = legacyManifest(config, layers);
  const { digest: manifestDigest } = await client.putManifest(repo, tag, manifest, OCI_MANIFEST);
  return { target, bundleText, pushed: { repository: repo, manifestDigest, tag } };
}

/**
 * The empty config every referrer manifest names, pushed once per repository of a command.
 * A registry's other repositories wait for its first push and mount the blob from there:
 * one request instead of a HEAD, a POST and a PUT.
 */
class EmptyConfigPushes {
  readonly #pushes = new Map<string, Promise<unknown>>();
  readonly #first = new Map<string, { repo: Repository; pushed: Promise<unknown> }>();
  constructor(readonly client: RegistryClient) {}

  ensure(repo: Repository): Promise<unknown> {
    const key = `${repo.registry}/${repo.repository}`;
    let p = this.#pushes.get(key);
    if (p) return p;
    const first = this.#first.get(repo.registry);
    if (!first) {
      p = this.client.pushBlob(repo, EMPTY_JSON, OCI_EMPTY);
      this.#first.set(repo.registry, { repo, pushed: p });
    } else {
      p = first.pushed.then(
        () => this.client.pushBlob(repo, EMPTY_JSON, OCI_EMPTY, { mountFrom: first.repo }),
        () => this.client.pushBlob(repo, EMPTY_JSON, OCI_EMPTY),
      );
    }
    this.#pushes.set(key, p);
    return p;
  }
}

/** The Rekor v1 dsse entry records the envelope's hash: the layer written must be that envelope. */
function checkEnvelopeHash(bundle: Record<string, unknown>, envelope: Buffer): void {
  const entries = (bundle.verificationMaterial as { tlogEntries?: Array<{ canonicalizedBody?: string }> }).tlogEntries ?? [];
  for (const e of entries) {
    const body = JSON.parse(Buffer.from(e.canonicalizedBody ?? '', 'base64').toString('utf8')) as {
      kind?: string;
      spec?: { envelopeHash?: { value?: string } };
    };
    const logged = body.kind === 'dsse' ? body.spec?.envelopeHash?.value : undefined;
    if (logged !== undefined && logged !== sha256(envelope).toString('hex')) {
      throw new ImageError(
        'IMAGE_BUNDLE_INVALID',
        'the transparency log recorded another serialization of the DSSE envelope than the one to be stored in the .att layer',
        { check: 'envelope-hash', expected: logged, actual: sha256(envelope).toString('hex') },
      );
    }
  }
}
