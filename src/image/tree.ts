// `tree`: what is attached to an image — referrers (each manifest opened) and legacy tags.
import { RegistryClient, RegistryError, type Descriptor, type Repository } from '../registry/index.js';
import { ANNOTATION, COSIGN_SIGN_PREDICATE_TYPE, bundleLayerOf, legacyTag } from './layouts.js';

export interface TreeEntry {
  /** `signature`, `attestation`, or `artifact` for other referrers. */
  kind: 'signature' | 'attestation' | 'artifact';
  layout: 'referrer' | 'legacy';
  digest: string;
  artifactType?: string;
  predicateType?: string;
  /** Legacy tags: the tag and its layer digests. */
  tag?: string;
  layers?: string[];
}

export async function imageTree(
  client: RegistryClient,
  repo: Repository,
  digest: string,
): Promise<{ via: 'api' | 'fallback'; entries: TreeEntry[] }> {
  const entries: TreeEntry[] = [];
  const { manifests, via } = await client.referrers(repo, digest);
  for (const d of manifests) {
    let artifactType = d.artifactType;
    let predicateType: string | undefined;
    let isBundle = false;
    try {
      const m = await client.getManifest(repo, d.digest);
      artifactType = typeof m.json.artifactType === 'string' ? m.json.artifactType : (m.json.config as Descriptor | undefined)?.mediaType;
      isBundle = typeof bundleLayerOf(m.json) !== 'string';
      const a = m.json.annotations as Record<string, unknown> | undefined;
      predicateType = typeof a?.[ANNOTATION.bundlePredicateType] === 'string' ? (a[ANNOTATION.bundlePredicateType] as string) : undefined;
    } catch (e) {
      if (!(e instanceof RegistryError) || e.code !== 'REGISTRY_NOT_FOUND') throw e;
    }
    const kind = !isBundle ? 'artifact' : predicateType === COSIGN_SIGN_PREDICATE_TYPE ? 'signature' : 'attestation';
    entries.push({ kind, layout: 'referrer', digest: d.digest, artifactType, predicateType });
  }
  for (const suffix of ['sig', 'att'] as const) {
    const tag = legacyTag(digest, suffix);
    const m = await client.tryGetManifest(repo, tag);
    if (!m) continue;
    const layers = (Array.isArray(m.json.layers) ? m.json.layers : []) as Descriptor[];
    entries.push({
      kind: suffix === 'sig' ? 'signature' : 'attestation',
      layout: 'legacy',
      digest: m.descriptor.digest,
      tag,
      layers: layers.map((l) => l.digest),
    });
  }
  return { via, entries };
}
