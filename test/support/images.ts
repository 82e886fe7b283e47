// Builds and pushes small images with the registry client (no container daemon): a config
// blob, a layer, an OCI manifest; and an index of two platform manifests.
import { randomBytes } from 'node:crypto';
import { sha256 } from '../../src/core/hash.js';
import { RegistryClient, OCI_MANIFEST, OCI_INDEX, OCI_IMAGE_CONFIG, type Descriptor, type Repository } from '../../src/registry/index.js';

export interface PushedImage {
  repo: Repository;
  digest: string;
  descriptor: Descriptor;
  /** `host/repo@sha256:…` */
  ref: string;
}

export async function pushImage(
  client: RegistryClient,
  repo: Repository,
  tag: string | undefined,
  platform = { architecture: 'amd64', os: 'linux' },
): Promise<PushedImage> {
  const layer = await client.pushBlob(repo, randomBytes(512), 'application/vnd.oci.image.layer.v1.tar+gzip');
  const config = await client.pushBlob(
    repo,
    Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: [layer.digest] }, config: {} })),
    OCI_IMAGE_CONFIG,
  );
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }));
  const { digest } = await client.putManifest(repo, tag ?? `sha256:${sha256(bytes).toString('hex')}`, bytes, OCI_MANIFEST);
  return {
    repo,
    digest,
    descriptor: { mediaType: OCI_MANIFEST, digest, size: bytes.length },
    ref: `${repo.registry}/${repo.repository}@${digest}`,
  };
}

/** An image index with linux/amd64 and linux/arm64 manifests, tagged. */
export async function pushIndex(
  client: RegistryClient,
  repo: Repository,
  tag: string,
): Promise<PushedImage & { platforms: PushedImage[] }> {
  const platforms = [
    await pushImage(client, repo, undefined, { architecture: 'amd64', os: 'linux' }),
    await pushImage(client, repo, undefined, { architecture: 'arm64', os: 'linux' }),
  ];
  const manifests = platforms.map((p, i) => ({ ...p.descriptor, platform: { architecture: i === 0 ? 'amd64' : 'arm64', os: 'linux' } }));
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  const { digest } = await client.putManifest(repo, tag, bytes, OCI_INDEX);
  return {
    repo,
    digest,
    descriptor: { mediaType: OCI_INDEX, digest, size: bytes.length },
    ref: `${repo.registry}/${repo.repository}@${digest}`,
    platforms,
  };
}
