// Verifying an image: collect candidates (referrers via the API or the fallback tag, each
// manifest opened — fallback entries written by other tools carry no reliable annotations —
// then the legacy tag), verify each against the image digest and the policy, keep those
// that pass. Anything that is not a Sigstore bundle is skipped with a note, never fatal.
import { parseStatement } from '../formats/index.js';
import { RegistryClient, RegistryError, type Descriptor, type Repository } from '../registry/index.js';
import { verify, type VerificationPolicy, type VerificationResult } from '../verify/index.js';
import { isKeylessError } from '../core/errors.js';
import { ImageError } from './errors.js';
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  DSSE_ENVELOPE_MEDIA_TYPE,
  bundleLayerOf,
  bundleFromLegacyLayer,
  legacyTag,
} from './layouts.js';
import type { ImageTarget } from './sign.js';

/** Bundles are a few KiB; a layer claiming more is not one. */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;
/** Candidates examined per image at most (a fallback index can be appended to by anyone). */
export const MAX_CANDIDATES = 256;

export interface ImageVerifyOptions {
  kind: 'signature' | 'attestation';
  /** Required `-a` annotations. */
  annotations?: Record<string, string>;
  /** For attestations: the expected predicate type (URI); any when absent. */
  predicateType?: string;
  signatureRepository?: Repository;
  trustedRoot?: unknown;
}

export interface VerifiedSignature {
  digest: string;
  /** Where it was found: `referrer sha256:…` or `tag sha256-….sig`. */
  source: string;
  layout: 'referrer' | 'legacy';
  identity?: string;
  issuer?: string;
  signingTime?: string;
  logIndex?: string;
  predicateType?: string;
  annotations: Record<string, string>;
  result: VerificationResult;
}

export interface Candidate {
  source: string;
  /** Why it did not verify, or was skipped. */
  reason: string;
  skipped: boolean;
}

export interface ImageVerification {
  target: ImageTarget;
  verified: VerifiedSignature[];
  failed: Candidate[];
}

/** A parsed bundle: only `dsseEnvelope.payload` is read here; the verifier checks the rest. */
type BundleJson = { dsseEnvelope?: { payload?: unknown } } & Record<string, unknown>;

interface Found {
  source: string;
  layout: 'referrer' | 'legacy';
  bundle: BundleJson;
  /** Legacy `.sig` payloads are verified against their bytes, then checked for the digest. */
  payload?: Buffer;
}

export async function verifyImage(
  client: RegistryClient,
  target: ImageTarget,
  policy: VerificationPolicy,
  o: ImageVerifyOptions,
): Promise<ImageVerification> {
  const repo = o.signatureRepository ?? { registry: target.reference.registry, repository: target.reference.repository };
  const digest = target.descriptor.digest;
  const failed: Candidate[] = [];
  const found = await collect(client, repo, digest, o.kind, failed);
  const verified: VerifiedSignature[] = [];
  for (const f of found) {
    try {
      verified.push(await check(f, digest, policy, o));
    } catch (e) {
      if (!isKeylessError(e)) throw e;
      failed.push({ source: f.source, reason: e.message, skipped: false });
    }
  }
  return { target, verified, failed };
}

/** The one-line failure for an image with nothing that verified. */
export function verificationFailure(v: ImageVerification, name: string): ImageError {
  const candidates = v.failed.filter((c) => !c.skipped);
  if (candidates.length === 0) {
    return new ImageError(
      'IMAGE_NO_SIGNATURES',
      `no signatures found for ${name}@${v.target.descriptor.digest}${v.failed.length ? ` (${v.failed.length} attached artifact(s) skipped: not Sigstore bundles)` : ''}`,
      { check: 'signatures' },
    );
  }
  const first = candidates[0] as Candidate;
  return new ImageError(
    'IMAGE_NOT_VERIFIED',
    `none of the ${candidates.length} signature(s) found for ${name}@${v.target.descriptor.digest} verified: ${first.reason}`,
    { check: 'signatures' },
  );
}

async function check(f: Found, digest: string, policy: VerificationPolicy, o: ImageVerifyOptions): Promise<VerifiedSignature> {
  let result: VerificationResult;
  let annotations: Record<string, string> = {};
  let predicateType: string | undefined;
  if (f.payload) {
    // Legacy simple signing: the signature is over the payload; the payload names the digest.
    result = await verify(f.bundle, f.payload, policy, o.trustedRoot);
    let p: { critical?: { image?: Record<string, unknown> }; optional?: unknown };
    try {
      p = JSON.parse(f.payload.toString('utf8')) as typeof p;
    } catch {
      throw new ImageError('IMAGE_BUNDLE_INVALID', 'the simple-signing payload is not JSON', { check: 'payload' });
    }
    const claimed = p?.critical?.image?.['docker-manifest-digest'];
    if (claimed !== digest)
      throw new ImageError('IMAGE_BUNDLE_INVALID', `the payload signs ${String(claimed)}, not this image`, {
        check: 'payload.digest',
        expected: digest,
        actual: claimed,
      });
    if (p.optional && typeof p.optional === 'object')
      for (const [k, v] of Object.entries(p.optional)) if (typeof v === 'string') annotations[k] = v;
  } else {
    const kindPolicy: VerificationPolicy = { ...policy, payloadType: 'application/vnd.in-toto+json' };
    const wanted = o.kind === 'signature' ? COSIGN_SIGN_PREDICATE_TYPE : o.predicateType;
    if (wanted) kindPolicy.predicateType = wanted;
    result = await verify(f.bundle, digest, kindPolicy, o.trustedRoot);
    const statement = parseStatement(Buffer.from(String(f.bundle.dsseEnvelope?.payload), 'base64'));
    predicateType = statement.predicateType;
    if (o.kind === 'attestation' && predicateType === COSIGN_SIGN_PREDICATE_TYPE) {
      throw new ImageError('IMAGE_BUNDLE_INVALID', 'a signature, not an attestation', { check: 'predicate-type' });
    }
    const subject = statement.subjects.find((s) => s.digest.sha256 === digest.slice('sha256:'.length));
    annotations = subject?.annotations ?? {};
  }
  for (const [k, v] of Object.entries(o.annotations ?? {})) {
    if (annotations[k] !== v) {
      throw new ImageError(
        'IMAGE_ANNOTATION_INVALID',
        `required annotation ${k}=${v} is ${k in annotations ? `${k}=${annotations[k]}` : 'missing'}`,
        { check: 'annotations', expected: v, actual: annotations[k] ?? null },
      );
    }
  }
  return {
    digest,
    source: f.source,
    layout: f.layout,
    identity: result.identity,
    issuer: result.issuer,
    signingTime: result.signingTime?.toISOString(),
    logIndex: result.tlogEntries[0]?.logIndex,
    predicateType,
    annotations,
    result,
  };
}

async function collect(
  client: RegistryClient,
  repo: Repository,
  digest: string,
  kind: 'signature' | 'attestation',
  notes: Candidate[],
): Promise<Found[]> {
  const found: Found[] = [];
  // The legacy tag is read while the referrers are: one round trip less on the critical path.
  const tag = legacyTag(digest, kind === 'signature' ? 'sig' : 'att');
  const legacyRead = client.tryGetManifest(repo, tag);
  legacyRead.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  const { manifests, via } = await client.referrers(repo, digest);
  for (const d of manifests.slice(0, MAX_CANDIDATES)) {
    const source = `referrer ${d.digest} (${via === 'api' ? 'referrers API' : 'fallback tag'})`;
    try {
      const m = await client.getManifest(repo, d.digest);
      if ((m.json.subject as Descriptor | undefined)?.digest !== digest) {
        notes.push({ source, reason: 'its subject is another manifest', skipped: true });
        continue;
      }
      const layer = bundleLayerOf(m.json);
      if (typeof layer === 'string') {
        notes.push({ source, reason: layer, skipped: true });
        continue;
      }
      const bytes = await client.getBlob(repo, layer.digest, MAX_BUNDLE_BYTES);
      let bundle: BundleJson;
      try {
        bundle = JSON.parse(bytes.toString('utf8')) as BundleJson;
      } catch {
        notes.push({ source, reason: 'the bundle layer is not JSON', skipped: true });
        continue;
      }
      if (!bundle || typeof bundle !== 'object' || !bundle.dsseEnvelope) {
        notes.push({ source, reason: 'the bundle holds no DSSE envelope (image signatures are in-toto statements)', skipped: true });
        continue;
      }
      found.push({ source, layout: 'referrer', bundle });
    } catch (e) {
      if (!skippable(e)) throw e;
      notes.push({ source, reason: e.message, skipped: true });
    }
  }
  const legacy = await legacyRead;
  if (legacy) {
    const layers = (Array.isArray(legacy.json.layers) ? legacy.json.layers : []) as Descriptor[];
    for (const [i, layer] of layers.slice(0, MAX_CANDIDATES).entries()) {
      const source = `tag ${tag} layer ${i}`;
      const expected = kind === 'signature' ? SIMPLE_SIGNING_MEDIA_TYPE : DSSE_ENVELOPE_MEDIA_TYPE;
      if (layer?.mediaType !== expected || typeof layer.digest !== 'string') {
        notes.push({ source, reason: `media type ${String(layer?.mediaType)} is not ${expected}`, skipped: true });
        continue;
      }
      try {
        const blob = await client.getBlob(repo, layer.digest, MAX_BUNDLE_BYTES);
        const b = bundleFromLegacyLayer(layer, blob);
        if ('skip' in b) {
          notes.push({ source, reason: b.skip, skipped: false });
          continue;
        }
        found.push({ source, layout: 'legacy', bundle: b.bundle, payload: kind === 'signature' ? blob : undefined });
      } catch (e) {
        if (!skippable(e)) throw e;
        notes.push({ source, reason: e.message, skipped: true });
      }
    }
  }
  return found;
}

/** A candidate the registry cannot serve is skipped with a note; no access at all stops the search. */
function skippable(e: unknown): e is RegistryError {
  return (
    e instanceof RegistryError && e.code !== 'REGISTRY_UNAUTHORIZED' && e.code !== 'REGISTRY_UNREACHABLE' && e.code !== 'REGISTRY_TIMEOUT'
  );
}
