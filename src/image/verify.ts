// Verifying an image: the candidates (./collect.ts) are verified against the image digest
// and the policy; those that pass are kept.
import { parseStatement } from '../formats/index.js';
import type { RegistryClient, Repository } from '../registry/index.js';
import { verify, type VerificationPolicy, type VerificationResult } from '../verify/index.js';
import { isKeylessError } from '../core/errors.js';
import { ImageError } from './errors.js';
import { COSIGN_SIGN_PREDICATE_TYPE } from './layouts.js';
import { collectCandidates, type Candidate, type Collected, type Found } from './collect.js';
import type { ImageTarget } from './sign.js';

export interface ImageVerifyOptions {
  kind: 'signature' | 'attestation';
  /** Required `-a` annotations. */
  annotations?: Record<string, string>;
  /** For attestations: the expected predicate type (URI); any when absent. */
  predicateType?: string;
  signatureRepository?: Repository;
  trustedRoot?: unknown;
  /** The candidates, when already being fetched (collectCandidates) while the verifier loaded. */
  collected?: Promise<Collected>;
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

export interface ImageVerification {
  target: ImageTarget;
  verified: VerifiedSignature[];
  failed: Candidate[];
}

export async function verifyImage(
  client: RegistryClient,
  target: ImageTarget,
  policy: VerificationPolicy,
  o: ImageVerifyOptions,
): Promise<ImageVerification> {
  const repo = o.signatureRepository ?? { registry: target.reference.registry, repository: target.reference.repository };
  const digest = target.descriptor.digest;
  const collected = await (o.collected ?? collectCandidates(client, repo, digest, o.kind));
  const failed: Candidate[] = [...collected.notes];
  const found = collected.found;
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
