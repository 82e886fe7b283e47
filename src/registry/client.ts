// A small OCI distribution v1.1 client: manifests, blobs (POST then PUT), the referrers
// API and its tag-schema fallback. Everything read is size-limited and digest-checked;
// auth is anonymous, Basic or Bearer (tokens cached per scope).
import { sha256 } from '../core/hash.js';
import { RegistryError } from './errors.js';
import { parseChallenge, basicHeader, tokenFromAnswer, tokenRequest, type Challenge } from './auth.js';
import type { CredentialSource, Credentials } from './credentials.js';
import { DOCKER_HUB, DOCKER_HUB_API_HOST, DIGEST, fallbackTag, isLoopbackRegistry, type Repository } from './reference.js';
import { Transport, headerOf, type HttpAnswer } from './transport.js';
import { MANIFEST_ACCEPT, OCI_INDEX, OCI_MANIFEST } from './media-types.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string; variant?: string };
}

export interface Manifest {
  descriptor: Descriptor;
  bytes: Buffer;
  json: Record<string, unknown>;
}

export interface RegistryClientOptions {
  credentials?: CredentialSource;
  /** Plain HTTP for registries that are not on loopback (loopback always may). */
  allowHttp?: boolean;
  /** HTTPS without checking the registry's certificate. */
  allowInsecure?: boolean;
  /** Overall time for everything this client does (the command's --timeout). */
  timeoutMs?: number;
  requestTimeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  maxManifestBytes?: number;
  maxBlobBytes?: number;
}

/** Registries commonly refuse manifests over 4 MiB; nothing we read needs more. */
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_BLOB_BYTES = 32 * 1024 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;
const MAX_REFERRER_PAGES = 100;

type Scope = 'pull' | 'push,pull';

interface RegistryState {
  challenge?: Challenge;
  credentials?: Promise<Credentials | undefined>;
  tokens: Map<string, { token: string; expiresAt: number }>;
  referrersApi: Map<string, boolean>;
  /** Referrers-API probes in flight, per repository. */
  referrersProbes: Map<string, Promise<boolean>>;
}

/** A read of a fallback index made ahead of its update (`prefetchFallbackIndex`). */
export interface FallbackIndexRead {
  readonly key: string;
  /** This client's updates of the tag when the read started. */
  readonly writes: number;
  readonly read: Promise<Manifest | undefined>;
}

const fallbackKey = (repo: Repository, subjectDigest: string) => `${repo.registry}/${repo.repository}:${fallbackTag(subjectDigest)}`;

export class RegistryClient {
  readonly #options: RegistryClientOptions;
  readonly #transport: Transport;
  readonly #state = new Map<string, RegistryState>();
  readonly #maxManifest: number;
  readonly #maxBlob: number;
  /** Per fallback tag (`fallbackKey`): this client's update in progress, and how many it has made. */
  readonly #fallbackUpdates = new Map<string, Promise<void>>();
  readonly #fallbackWrites = new Map<string, number>();

  constructor(options: RegistryClientOptions = {}) {
    this.#options = options;
    this.#maxManifest = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.#maxBlob = options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
    this.#transport = new Transport({
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      retries: options.retries ?? 3,
      backoffMs: options.backoffMs ?? 200,
      deadline: options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs,
      insecureTls: options.allowInsecure === true,
    });
  }

  /** HTTP requests made so far. */
  get roundTrips(): number {
    return this.#transport.roundTrips;
  }

  /** The manifest's descriptor (HEAD; a GET when the registry leaves out the digest). */
  async resolve(repo: Repository, reference: string): Promise<Descriptor> {
    const res = await this.#request(repo, 'pull', 'HEAD', `/manifests/${reference}`, {
      headers: { Accept: MANIFEST_ACCEPT },
      maxBytes: 0,
      what: 'manifest',
    });
    if (res.status === 200) {
      const digest = headerOf(res.headers, 'docker-content-digest');
      const mediaType = contentType(res);
      const size = Number(headerOf(res.headers, 'content-length'));
      if (digest && DIGEST.test(digest) && mediaType && Number.isSafeInteger(size) && (!DIGEST.test(reference) || reference === digest)) {
        if (size > this.#maxManifest) throw this.#tooLarge(repo, size);
        return { mediaType, digest, size };
      }
    } else if (res.status !== 404 && res.status !== 405) {
      this.#raise(repo, res, `HEAD manifest ${reference}`);
    }
    return (await this.getManifest(repo, reference)).descriptor;
  }

  /** The manifest, digest-checked; REGISTRY_NOT_FOUND when absent. */
  async getManifest(repo: Repository, reference: string): Promise<Manifest> {
    const m = await this.tryGetManifest(repo, reference);
    if (!m)
      throw new RegistryError(
        'REGISTRY_NOT_FOUND',
        repo.registry,
        `${repo.repository}:${reference} not found (no such repository, tag or digest)`,
        { check: 'manifest', status: 404 },
      );
    return m;
  }

  async tryGetManifest(repo: Repository, reference: string): Promise<Manifest | undefined> {
    const res = await this.#request(repo, 'pull', 'GET', `/manifests/${reference}`, {
      headers: { Accept: MANIFEST_ACCEPT },
      maxBytes: this.#maxManifest,
      what: `manifest ${repo.repository}:${reference}`,
    });
    if (res.status === 404) {
      this.#rejectHtml(repo, res);
      return undefined;
    }
    if (res.status !== 200) this.#raise(repo, res, `GET manifest ${reference}`);
    this.#rejectHtml(repo, res);
    const digest = `sha256:${sha256(res.body).toString('hex')}`;
    const claimed = headerOf(res.headers, 'docker-content-digest');
    if (DIGEST.test(reference) && digest !== reference) {
      throw new RegistryError(
        'REGISTRY_DIGEST_MISMATCH',
        repo.registry,
        `manifest ${repo.repository}@${reference} has content with digest ${digest}`,
        { check: 'manifest.digest', expected: reference, actual: digest },
      );
    }
    if (claimed && DIGEST.test(claimed) && claimed !== digest) {
      throw new RegistryError(
        'REGISTRY_DIGEST_MISMATCH',
        repo.registry,
        `manifest ${repo.repository}:${reference}: Docker-Content-Digest ${claimed} does not match the content (${digest})`,
        { check: 'manifest.digest', expected: claimed, actual: digest },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new RegistryError('REGISTRY_BAD_RESPONSE', repo.registry, `manifest ${repo.repository}:${reference} is not JSON`, {
        check: 'manifest',
      });
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new RegistryError('REGISTRY_BAD_RESPONSE', repo.registry, `manifest ${repo.repository}:${reference} is not a JSON object`, {
        check: 'manifest',
      });
    }
    const mediaType =
      typeof (json as { mediaType?: unknown }).mediaType === 'string'
        ? (json as { mediaType: string }).mediaType
        : (contentType(res) ?? OCI_MANIFEST);
    return { descriptor: { mediaType, digest, size: res.body.length }, bytes: res.body, json: json as Record<string, unknown> };
  }

  /** Pushes a manifest under a tag or its digest; returns its digest and the `OCI-Subject` answer. */
  async putManifest(
    repo: Repository,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<{ digest: string; ociSubject?: string }> {
    const digest = `sha256:${sha256(bytes).toString('hex')}`;
    if (DIGEST.test(reference) && reference !== digest)
      throw new Error(`putManifest: reference ${reference} is not the digest of the bytes`);
    const res = await this.#request(repo, 'push,pull', 'PUT', `/manifests/${reference}`, {
      headers: { 'Content-Type': mediaType },
      body: bytes,
      maxBytes: MAX_ERROR_BYTES,
      what: 'answer',
    });
    if (res.status !== 201 && res.status !== 200) this.#raise(repo, res, `PUT manifest ${reference}`);
    const claimed = headerOf(res.headers, 'docker-content-digest');
    if (claimed && DIGEST.test(claimed) && claimed !== digest) {
      throw new RegistryError(
        'REGISTRY_DIGEST_MISMATCH',
        repo.registry,
        `stored manifest ${reference} as ${claimed}, but its bytes have digest ${digest}`,
        { check: 'manifest.digest', expected: digest, actual: claimed },
      );
    }
    return { digest, ociSubject: headerOf(res.headers, 'oci-subject') };
  }

  async blobExists(repo: Repository, digest: string): Promise<boolean> {
    const res = await this.#request(repo, 'pull', 'HEAD', `/blobs/${digest}`, { maxBytes: 0, what: 'blob' });
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.#raise(repo, res, `HEAD blob ${digest}`);
  }

  /**
   * Uploads a blob unless present: POST for an upload URL, then PUT with the digest (monolithic
   * POST is not honoured everywhere). `mountFrom`, another repository of the same registry that
   * holds the blob, turns that into one cross-repository mount request (a registry that will not
   * mount answers with an upload URL instead, and the upload goes on from there).
   */
  async pushBlob(
    repo: Repository,
    bytes: Buffer,
    mediaType = 'application/octet-stream',
    o: { known?: boolean; mountFrom?: Repository } = {},
  ): Promise<Descriptor> {
    const digest = `sha256:${sha256(bytes).toString('hex')}`;
    const descriptor = { mediaType, digest, size: bytes.length };
    const from = o.mountFrom;
    const mount = from !== undefined && from.registry === repo.registry && from.repository !== repo.repository;
    // `known: false` (content that cannot be there yet, like a new signature) skips the HEAD;
    // so does a mount, which succeeds whether the blob is already here or not.
    if (!mount && o.known !== false && (await this.blobExists(repo, digest))) return descriptor;
    const start = await this.#request(
      repo,
      'push,pull',
      'POST',
      mount ? `/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from.repository)}` : '/blobs/uploads/',
      { maxBytes: MAX_ERROR_BYTES, what: 'answer' },
    );
    if (mount && start.status === 201) return descriptor;
    if (start.status !== 202) this.#raise(repo, start, mount ? `POST blob mount from ${from.repository}` : 'POST blob upload');
    const location = headerOf(start.headers, 'location');
    if (!location)
      throw new RegistryError('REGISTRY_BAD_RESPONSE', repo.registry, 'started a blob upload without a Location', { check: 'blob.upload' });
    const url = new URL(location, start.url);
    url.searchParams.set('digest', digest);
    const put = await this.#request(repo, 'push,pull', 'PUT', url, {
      headers: { 'Content-Type': 'application/octet-stream' },
      body: bytes,
      maxBytes: MAX_ERROR_BYTES,
      what: 'answer',
    });
    if (put.status !== 201 && put.status !== 204) this.#raise(repo, put, 'PUT blob upload');
    return descriptor;
  }

  /** A blob's bytes, digest-checked, at most `maxBytes`. */
  async getBlob(repo: Repository, digest: string, maxBytes = this.#maxBlob): Promise<Buffer> {
    if (!DIGEST.test(digest))
      throw new RegistryError('REGISTRY_BAD_RESPONSE', repo.registry, `blob digest ${JSON.stringify(digest)} is not sha256:<hex>`, {
        check: 'blob.digest',
      });
    const res = await this.#request(repo, 'pull', 'GET', `/blobs/${digest}`, { maxBytes, what: `blob ${digest}` });
    if (res.status === 404)
      throw new RegistryError('REGISTRY_NOT_FOUND', repo.registry, `blob ${digest} not found in ${repo.repository}`, {
        check: 'blob',
        status: 404,
      });
    if (res.status !== 200) this.#raise(repo, res, `GET blob ${digest}`);
    const actual = `sha256:${sha256(res.body).toString('hex')}`;
    if (actual !== digest)
      throw new RegistryError('REGISTRY_DIGEST_MISMATCH', repo.registry, `blob ${digest} has content with digest ${actual}`, {
        check: 'blob.digest',
        expected: digest,
        actual,
      });
    return res.body;
  }

  /** Whether the registry implements `GET /v2/<name>/referrers/<digest>` (404, 400 and 406 mean no, as go-containerregistry reads them). */
  async referrersApiSupported(repo: Repository, digest: string): Promise<boolean> {
    const state = this.#stateOf(repo.registry);
    const known = state.referrersApi.get(repo.repository);
    if (known !== undefined) return known;
    // The images of a batch ask at once: one probe per repository answers them all.
    let probe = state.referrersProbes.get(repo.repository);
    if (!probe) {
      probe = this.#referrersFromApi(repo, digest).then((found) => found !== undefined);
      state.referrersProbes.set(repo.repository, probe);
      probe.then(
        () => state.referrersProbes.delete(repo.repository),
        () => state.referrersProbes.delete(repo.repository),
      );
    }
    return probe;
  }

  /** Every referrer of `digest`: from the referrers API, else from the `sha256-<hex>` fallback index. */
  async referrers(repo: Repository, digest: string): Promise<{ manifests: Descriptor[]; via: 'api' | 'fallback' }> {
    const known = this.#stateOf(repo.registry).referrersApi.get(repo.repository);
    // Until this repository's answer is known, the fallback tag is read while the API is
    // asked: one round trip on the critical path instead of two on a registry without it.
    const fallback = known === true ? undefined : this.tryGetManifest(repo, fallbackTag(digest));
    fallback?.catch(() => undefined); // awaited below only when the API is missing
    if (known !== false) {
      const fromApi = await this.#referrersFromApi(repo, digest);
      if (fromApi) return { manifests: fromApi, via: 'api' };
    }
    const index = await (fallback ?? this.tryGetManifest(repo, fallbackTag(digest)));
    return { manifests: index ? descriptorsOf(index.json, repo) : [], via: 'fallback' };
  }

  async #referrersFromApi(repo: Repository, digest: string): Promise<Descriptor[] | undefined> {
    const state = this.#stateOf(repo.registry);
    const out: Descriptor[] = [];
    let target: string | URL = `/referrers/${digest}`;
    for (let page = 0; page < MAX_REFERRER_PAGES; page++) {
      const res = await this.#request(repo, 'pull', 'GET', target, {
        headers: { Accept: OCI_INDEX },
        maxBytes: this.#maxManifest,
        what: 'referrers index',
      });
      if (page === 0 && (res.status === 404 || res.status === 400 || res.status === 406)) {
        state.referrersApi.set(repo.repository, false);
        return undefined;
      }
      if (res.status !== 200) this.#raise(repo, res, `GET referrers ${digest}`);
      this.#rejectHtml(repo, res);
      let json: unknown;
      try {
        json = JSON.parse(res.body.toString('utf8'));
      } catch {
        throw new RegistryError('REGISTRY_BAD_RESPONSE', repo.registry, `the referrers answer for ${digest} is not JSON`, {
          check: 'referrers',
        });
      }
      state.referrersApi.set(repo.repository, true);
      out.push(...descriptorsOf(json, repo));
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(headerOf(res.headers, 'link') ?? '')?.[1];
      if (!next) return out;
      target = new URL(next, res.url);
    }
    return out;
  }

  /**
   * Starts reading the `sha256-<hex>` fallback index of `subjectDigest` ahead of `pushReferrer`
   * (to run beside the blob pushes), when this repository is already known to lack the
   * referrers API; otherwise undefined.
   */
  prefetchFallbackIndex(repo: Repository, subjectDigest: string): FallbackIndexRead | undefined {
    if (this.#stateOf(repo.registry).referrersApi.get(repo.repository) !== false) return undefined;
    const key = fallbackKey(repo, subjectDigest);
    const read = this.tryGetManifest(repo, fallbackTag(subjectDigest));
    read.catch(() => undefined); // a failed read is made again by the update
    return { key, writes: this.#fallbackWrites.get(key) ?? 0, read };
  }

  /**
   * Pushes a manifest that has a `subject` (by digest) and makes it findable: the registry
   * indexes it when it implements the referrers API; otherwise the fallback index is
   * updated after the manifest exists, keeping every entry already there. `fallbackIndex`:
   * a read from `prefetchFallbackIndex`, used as the update's first read when still current.
   */
  async pushReferrer(
    repo: Repository,
    manifest: Buffer,
    descriptor: Descriptor,
    subjectDigest: string,
    o: { fallbackIndex?: FallbackIndexRead } = {},
  ): Promise<{ via: 'api' | 'fallback' }> {
    const { ociSubject } = await this.putManifest(repo, descriptor.digest, manifest, descriptor.mediaType);
    if (ociSubject === subjectDigest) return { via: 'api' };
    if (await this.referrersApiSupported(repo, subjectDigest)) return { via: 'api' };
    await this.addToFallbackIndex(repo, subjectDigest, descriptor, o.fallbackIndex);
    return { via: 'fallback' };
  }

  /**
   * Read-modify-write of the `sha256-<hex>` index; re-read afterwards to catch a concurrent
   * writer. This client's updates of one tag run one after another (a command may sign the
   * same digest twice: `--recursive` with a platform named too), and a prefetched read that
   * an update of the same tag by this client has overtaken since is not used.
   */
  async addToFallbackIndex(repo: Repository, subjectDigest: string, descriptor: Descriptor, prefetched?: FallbackIndexRead): Promise<void> {
    const key = fallbackKey(repo, subjectDigest);
    const earlier = this.#fallbackUpdates.get(key);
    const run = (async () => {
      await earlier?.catch(() => undefined);
      const current = prefetched?.key === key && prefetched.writes === (this.#fallbackWrites.get(key) ?? 0) ? prefetched.read : undefined;
      try {
        await this.#updateFallbackIndex(repo, fallbackTag(subjectDigest), descriptor, current);
      } finally {
        this.#fallbackWrites.set(key, (this.#fallbackWrites.get(key) ?? 0) + 1);
      }
    })();
    this.#fallbackUpdates.set(key, run);
    try {
      await run;
    } finally {
      if (this.#fallbackUpdates.get(key) === run) this.#fallbackUpdates.delete(key);
    }
  }

  async #updateFallbackIndex(
    repo: Repository,
    tag: string,
    descriptor: Descriptor,
    prefetched?: Promise<Manifest | undefined>,
  ): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const first = attempt === 0 && prefetched ? await prefetched.catch(() => null) : null;
      const current = first === null ? await this.tryGetManifest(repo, tag) : first;
      const index = current ? current.json : { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
      const manifests = Array.isArray(index.manifests) ? [...(index.manifests as unknown[])] : [];
      if (manifests.some((m) => (m as { digest?: unknown })?.digest === descriptor.digest)) return;
      manifests.push(descriptor);
      const bytes = Buffer.from(JSON.stringify({ ...index, schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
      await this.putManifest(repo, tag, bytes, OCI_INDEX);
      const after = await this.tryGetManifest(repo, tag);
      const kept = after && Array.isArray(after.json.manifests) ? (after.json.manifests as Array<{ digest?: unknown }>) : [];
      const ours = kept.some((m) => m?.digest === descriptor.digest);
      const theirs = manifests.every((m) => kept.some((k) => k?.digest === (m as { digest?: unknown })?.digest));
      if (ours && theirs) return;
    }
    throw new RegistryError(
      'REGISTRY_CONFLICT',
      repo.registry,
      `the referrers fallback tag ${repo.repository}:${tag} kept changing under concurrent writers; try again`,
      { check: 'referrers.fallback' },
    );
  }

  // --- requests, auth ---

  #stateOf(registry: string): RegistryState {
    let s = this.#state.get(registry);
    if (!s) {
      s = { tokens: new Map(), referrersApi: new Map(), referrersProbes: new Map() };
      this.#state.set(registry, s);
    }
    return s;
  }

  #baseUrl(registry: string): string {
    const host = registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
    const plain = isLoopbackRegistry(registry) || this.#options.allowHttp === true;
    return `${plain ? 'http' : 'https'}://${host}`;
  }

  async #request(
    repo: Repository,
    scope: Scope,
    method: 'GET' | 'HEAD' | 'PUT' | 'POST',
    target: string | URL,
    o: { headers?: Record<string, string>; body?: Buffer; maxBytes: number; what: string },
  ): Promise<HttpAnswer> {
    const url = typeof target === 'string' ? new URL(`${this.#baseUrl(repo.registry)}/v2/${repo.repository}${target}`) : target;
    const state = this.#stateOf(repo.registry);
    const send = async (authorization: string | undefined) =>
      this.#transport.exchange({
        registry: repo.registry,
        method,
        url,
        body: o.body,
        maxBytes: o.maxBytes,
        what: o.what,
        headers: { ...o.headers, ...(authorization ? { Authorization: authorization } : {}) },
      });
    let res = await send(await this.#authorization(state, repo, scope, false));
    if (res.status !== 401) return res;
    const challenge = parseChallenge(headerOf(res.headers, 'www-authenticate'));
    if (!challenge)
      throw new RegistryError(
        'REGISTRY_UNAUTHORIZED',
        repo.registry,
        `${method} ${url.pathname} answered 401 without an authentication challenge`,
        { check: 'auth', status: 401 },
      );
    const fresh = !state.challenge || state.challenge.scheme !== challenge.scheme || challenge.params.error === 'insufficient_scope';
    state.challenge = { scheme: challenge.scheme, params: { ...state.challenge?.params, ...challenge.params } };
    if (fresh || challenge.scheme === 'bearer') {
      const authorization = await this.#authorization(state, repo, scope, true);
      if (authorization) res = await send(authorization);
    }
    if (res.status === 401) {
      const credentials = await this.#credentials(state, repo.registry);
      const again = parseChallenge(headerOf(res.headers, 'www-authenticate'));
      if (again?.params.error === 'insufficient_scope') {
        throw new RegistryError(
          'REGISTRY_DENIED',
          repo.registry,
          `the credentials do not allow ${scope === 'pull' ? 'reading' : 'pushing to'} ${repo.repository}`,
          { check: 'auth', status: 401 },
        );
      }
      throw new RegistryError(
        'REGISTRY_UNAUTHORIZED',
        repo.registry,
        credentials
          ? 'rejected the credentials (401 Unauthorized): check --registry-username/--registry-password or `docker login`'
          : 'requires authentication (401 Unauthorized): pass --registry-username/--registry-password, --registry-token, or `docker login`',
        { check: 'auth', status: 401 },
      );
    }
    return res;
  }

  #credentials(state: RegistryState, registry: string): Promise<Credentials | undefined> {
    state.credentials ??= this.#options.credentials ? this.#options.credentials(registry) : Promise.resolve(undefined);
    return state.credentials;
  }

  /** The Authorization header for a request, once a challenge is known (none before: anonymous first). */
  async #authorization(state: RegistryState, repo: Repository, scope: Scope, refresh: boolean): Promise<string | undefined> {
    const credentials = state.challenge || refresh ? await this.#credentials(state, repo.registry) : undefined;
    if (credentials?.kind === 'bearer') return `Bearer ${credentials.token}`;
    const challenge = state.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') return credentials?.kind === 'basic' ? basicHeader(credentials) : undefined;
    const scopeText = `repository:${repo.repository}:${scope}`;
    const now = Date.now();
    if (!refresh) {
      const cached =
        state.tokens.get(scopeText) ?? (scope === 'pull' ? state.tokens.get(`repository:${repo.repository}:push,pull`) : undefined);
      if (cached && cached.expiresAt > now) return `Bearer ${cached.token}`;
    }
    if (!challenge.params.realm)
      throw new RegistryError('REGISTRY_BAD_RESPONSE', repo.registry, 'sent a Bearer challenge without a realm', { check: 'auth' });
    let req;
    try {
      req = tokenRequest(challenge, [scopeText], credentials);
    } catch {
      throw new RegistryError(
        'REGISTRY_BAD_RESPONSE',
        repo.registry,
        `sent a Bearer realm that is not a URL: ${JSON.stringify(challenge.params.realm)}`,
        { check: 'auth' },
      );
    }
    if (req.url.protocol !== 'https:' && !(req.url.protocol === 'http:' && (isLoopbackRegistry(req.url.host) || this.#options.allowHttp))) {
      throw new RegistryError(
        'REGISTRY_BAD_RESPONSE',
        repo.registry,
        `token realm ${req.url.origin} is neither HTTPS nor loopback: credentials are not sent there`,
        { check: 'auth' },
      );
    }
    const res = await this.#transport.exchange({
      registry: repo.registry,
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body === undefined ? undefined : Buffer.from(req.body),
      maxBytes: 1024 * 1024,
      what: 'token answer',
    });
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(
        'REGISTRY_UNAUTHORIZED',
        repo.registry,
        `the token service ${req.url.origin} refused ${credentials ? 'the credentials' : 'an anonymous token'} (${res.status})`,
        { check: 'auth', status: res.status },
      );
    }
    if (res.status !== 200)
      throw new RegistryError('REGISTRY_BAD_RESPONSE', repo.registry, `the token service ${req.url.origin} answered ${res.status}`, {
        check: 'auth',
        status: res.status,
      });
    let parsed: ReturnType<typeof tokenFromAnswer>;
    try {
      parsed = tokenFromAnswer(JSON.parse(res.body.toString('utf8')));
    } catch {
      parsed = undefined;
    }
    if (!parsed)
      throw new RegistryError('REGISTRY_BAD_RESPONSE', repo.registry, `the token service ${req.url.origin} answered without a token`, {
        check: 'auth',
      });
    state.tokens.set(scopeText, { token: parsed.token, expiresAt: now + Math.max(0, parsed.expiresInS - 10) * 1000 });
    return `Bearer ${parsed.token}`;
  }

  #rejectHtml(repo: Repository, res: HttpAnswer): void {
    if (/text\/html/i.test(headerOf(res.headers, 'content-type') ?? '') || /^\s*<(!doctype|html)/i.test(res.body.toString('utf8', 0, 64))) {
      throw new RegistryError(
        'REGISTRY_BAD_RESPONSE',
        repo.registry,
        `answered ${res.status} with an HTML page, not the registry API: is ${repo.registry} an OCI registry?`,
        { check: 'registry.api', status: res.status },
      );
    }
  }

  #tooLarge(repo: Repository, size: number): RegistryError {
    return new RegistryError(
      'REGISTRY_TOO_LARGE',
      repo.registry,
      `manifest is larger than the ${this.#maxManifest}-byte limit (${size} bytes)`,
      { check: 'size-limit', expected: `<= ${this.#maxManifest}`, actual: size },
    );
  }

  /** Turns an unexpected answer into one clear error (the registry's own error code when it gives one). */
  #raise(repo: Repository, res: HttpAnswer, what: string): never {
    this.#rejectHtml(repo, res);
    let detail = '';
    try {
      const j = JSON.parse(res.body.toString('utf8')) as { errors?: Array<{ code?: unknown; message?: unknown }> };
      const e = j.errors?.[0];
      if (e) detail = `: ${String(e.code ?? '')}${e.message ? ` ${String(e.message)}` : ''}`.replace(/\s+/g, ' ').slice(0, 300);
    } catch {
      const text = res.body.toString('utf8', 0, 300).replace(/\s+/g, ' ').trim();
      if (text) detail = `: ${text}`;
    }
    const code =
      res.status === 403
        ? 'REGISTRY_DENIED'
        : res.status === 404
          ? 'REGISTRY_NOT_FOUND'
          : res.status >= 500 || res.status === 429
            ? 'REGISTRY_FAILED'
            : 'REGISTRY_BAD_RESPONSE';
    throw new RegistryError(code, repo.registry, `${what} in ${repo.repository} answered ${res.status}${detail}`, { status: res.status });
  }
}

function contentType(res: HttpAnswer): string | undefined {
  return headerOf(res.headers, 'content-type')?.split(';')[0]?.trim() || undefined;
}

/** The well-formed descriptors of an index (others are skipped: a fallback index is written by any tool). */
function descriptorsOf(json: unknown, repo: Repository): Descriptor[] {
  const list = (json as { manifests?: unknown })?.manifests;
  if (!Array.isArray(list))
    throw new RegistryError('REGISTRY_BAD_RESPONSE', repo.registry, 'a referrers index without a manifests list', { check: 'referrers' });
  return list.filter((d): d is Descriptor => {
    const x = d as Partial<Descriptor>;
    return typeof x?.mediaType === 'string' && typeof x.digest === 'string' && DIGEST.test(x.digest) && typeof x.size === 'number';
  });
}
