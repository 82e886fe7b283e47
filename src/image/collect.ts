// The candidates attached to an image: referrers (via the API or the fallback tag, each
// manifest opened — fallback entries written by other tools carry no reliable annotations),
// then the legacy tag's layers. Anything that is not a Sigstore bundle is skipped with a
// note, never fatal. Registry access only: this loads without the verifier, so a command
// can fetch while the verifier compiles.
import { RegistryClient, RegistryError, type Descriptor, type Repository } from '../registry/index.js';
import { SIMPLE_SIGNING_MEDIA_TYPE, DSSE_ENVELOPE_MEDIA_TYPE, bundleLayerOf, bundleFromLegacyLayer, legacyTag } from './layouts.js';
import { mapLimit } from './map-limit.js';

/** Bundles are a few KiB; a layer claiming more is not one. */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;
/** Candidates examined per image at most (a fallback index can be appended to by anyone). */
export const MAX_CANDIDATES = 256;
/** Candidates fetched at once (each costs a manifest and a blob round trip). */
const FETCH_CONCURRENCY = 8;

export interface Candidate {
  source: string;
  /** Why it did not verify, or was skipped. */
  reason: string;
  skipped: boolean;
}

/** A parsed bundle: only `dsseEnvelope.payload` is read here; the verifier checks the rest. */
export type BundleJson = { dsseEnvelope?: { payload?: unknown } } & Record<string, unknown>;

export interface Found {
  source: string;
  layout: 'referrer' | 'legacy';
  bundle: BundleJson;
  /** Legacy `.sig` payloads are verified against their bytes, then checked for the digest. */
  payload?: Buffer;
}

/** What was found: bundles to verify, and notes on what was skipped. */
export interface Collected {
  found: Found[];
  notes: Candidate[];
}

export async function collectCandidates(
  client: RegistryClient,
  repo: Repository,
  digest: string,
  kind: 'signature' | 'attestation',
): Promise<Collected> {
  const found: Found[] = [];
  const notes: Candidate[] = [];
  const tag = legacyTag(digest, kind === 'signature' ? 'sig' : 'att');
  // The legacy tag is read, and its layers opened, while the referrers are.
  const legacyCandidates = client.tryGetManifest(repo, tag).then((legacy) => {
    const layers = legacy && Array.isArray(legacy.json.layers) ? (legacy.json.layers as Descriptor[]) : [];
    return mapLimit([...layers.slice(0, MAX_CANDIDATES).entries()], FETCH_CONCURRENCY, ([i, layer]) =>
      openLegacyLayer(client, repo, kind, layer, `tag ${tag} layer ${i}`),
    );
  });
  legacyCandidates.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  const { manifests, via } = await client.referrers(repo, digest);
  // Candidates are opened concurrently; their order (and so the output's) is kept.
  const fromReferrers = await mapLimit(manifests.slice(0, MAX_CANDIDATES), FETCH_CONCURRENCY, (d) =>
    openReferrer(client, repo, digest, d, `referrer ${d.digest} (${via === 'api' ? 'referrers API' : 'fallback tag'})`),
  );
  const fromLegacy = await legacyCandidates;
  for (const r of [...fromReferrers, ...fromLegacy]) {
    if ('reason' in r) notes.push(r);
    else found.push(r);
  }
  return { found, notes };
}

async function openReferrer(
  client: RegistryClient,
  repo: Repository,
  digest: string,
  d: Descriptor,
  source: string,
): Promise<Found | Candidate> {
  const skip = (reason: string): Candidate => ({ source, reason, skipped: true });
  try {
    const m = await client.getManifest(repo, d.digest);
    if ((m.json.subject as Descriptor | undefined)?.digest !== digest) return skip('its subject is another manifest');
    const layer = bundleLayerOf(m.json);
    if (typeof layer === 'string') return skip(layer);
    const bytes = await client.getBlob(repo, layer.digest, MAX_BUNDLE_BYTES);
    let bundle: BundleJson;
    try {
      bundle = JSON.parse(bytes.toString('utf8')) as BundleJson;
    } catch {
      return skip('the bundle layer is not JSON');
    }
    if (!bundle || typeof bundle !== 'object' || !bundle.dsseEnvelope)
      return skip('the bundle holds no DSSE envelope (image signatures are in-toto statements)');
    return { source, layout: 'referrer', bundle };
  } catch (e) {
    if (!skippable(e)) throw e;
    return skip(e.message);
  }
}

async function openLegacyLayer(
  client: RegistryClient,
  repo: Repository,
  kind: 'signature' | 'attestation',
  layer: Descriptor,
  source: string,
): Promise<Found | Candidate> {
  const expected = kind === 'signature' ? SIMPLE_SIGNING_MEDIA_TYPE : DSSE_ENVELOPE_MEDIA_TYPE;
  if (layer?.mediaType !== expected || typeof layer.digest !== 'string')
    return { source, reason: `media type ${String(layer?.mediaType)} is not ${expected}`, skipped: true };
  try {
    const blob = await client.getBlob(repo, layer.digest, MAX_BUNDLE_BYTES);
    const b = bundleFromLegacyLayer(layer, blob);
    if ('skip' in b) return { source, reason: b.skip, skipped: false };
    return { source, layout: 'legacy', bundle: b.bundle, payload: kind === 'signature' ? blob : undefined };
  } catch (e) {
    if (!skippable(e)) throw e;
    return { source, reason: e.message, skipped: true };
  }
}

/** A candidate the registry cannot serve is skipped with a note; no access at all stops the search. */
function skippable(e: unknown): e is RegistryError {
  return (
    e instanceof RegistryError && e.code !== 'REGISTRY_UNAUTHORIZED' && e.code !== 'REGISTRY_UNREACHABLE' && e.code !== 'REGISTRY_TIMEOUT'
  );
}
