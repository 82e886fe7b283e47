// Image references as Docker and cosign read them: `[host[:port]/]path[:tag][@sha256:hex]`.
// A first component without `.` or `:` (and not `localhost`) is a Docker Hub path:
// `alpine` is `index.docker.io/library/alpine`.
import { KeylessError } from '../core/errors.js';

export const DOCKER_HUB = 'index.docker.io';
/** Where Docker Hub's registry API actually lives. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

/** A repository in a registry: `registry` is `host[:port]` (Docker Hub: index.docker.io). */
export interface Repository {
  registry: string;
  repository: string;
}

export interface ImageReference extends Repository {
  tag?: string;
  /** `sha256:<64 hex>`, when the reference pins a digest. */
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const DIGEST = /^sha256:[a-f0-9]{64}$/;

function invalid(ref: string, why: string): KeylessError {
  return new KeylessError('REGISTRY_REFERENCE_INVALID', `${JSON.stringify(ref)} is not an image reference: ${why}`, { check: 'reference' });
}

export function parseReference(ref: string): ImageReference {
  if (typeof ref !== 'string' || ref.length === 0 || ref.length > 4096) throw invalid(String(ref), 'empty or too long');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(ref, `digest ${JSON.stringify(digest)} is not sha256:<64 lower-case hex>`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref, `tag ${JSON.stringify(tag)} has characters a tag cannot have`);
  }
  let registry = DOCKER_HUB;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    registry = first;
    rest = rest.slice(slash + 1);
    if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(registry))
      throw invalid(ref, `registry ${JSON.stringify(registry)} is not host[:port]`);
  }
  if (registry === 'docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !rest.includes('/')) rest = `library/${rest}`;
  if (rest.length === 0 || rest.length > 255 || !rest.split('/').every((c) => COMPONENT.test(c))) {
    throw invalid(ref, `repository ${JSON.stringify(rest)} must be lower-case path components (a-z, 0-9, separators . _ -)`);
  }
  return { registry, repository: rest, tag: tag ?? (digest ? undefined : 'latest'), digest };
}

/** `host/repo`, `host/repo:tag` or `host/repo@sha256:…` (Docker Hub keeps its full name). */
export function formatReference(r: ImageReference): string {
  const base = `${r.registry}/${r.repository}`;
  if (r.digest) return `${base}@${r.digest}`;
  return r.tag ? `${base}:${r.tag}` : base;
}

/** The tag or digest used in `/v2/<name>/manifests/<reference>`. */
export function manifestReference(r: ImageReference): string {
  return r.digest ?? r.tag ?? 'latest';
}

/** The OCI 1.1 referrers tag-schema fallback tag: `sha256-<hex>`. */
export function fallbackTag(digest: string): string {
  const [alg, hex] = digest.split(':') as [string, string];
  return `${alg.slice(0, 32)}-${hex.slice(0, 64)}`.replace(/[^A-Za-z0-9_.-]/g, '-');
}

/** Registries reached over plain HTTP without being asked: the loopback ones. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
