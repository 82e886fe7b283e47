// A small in-memory OCI distribution v1.1 registry WITH the referrers API, for tests: no
// packaged registry here implements it (Debian's 2.8.2 does not). It follows the spec's
// wire behaviour that clients depend on: manifests by tag and digest (bytes kept exactly),
// POST+PUT blob uploads, `OCI-Subject` on pushes with a subject, `GET /v2/<name>/referrers/<digest>`
// (artifactType filter, `OCI-Filters-Applied`), and optional Bearer auth with a token endpoint.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface SpecRegistry {
  host: string;
  /** Requests seen, by `METHOD path` (for round-trip counts). */
  requests: string[];
  stop(): Promise<void>;
}

interface Stored {
  bytes: Buffer;
  mediaType: string;
}

const NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** `referrersApi: false` answers the referrers route 404 and sends no `OCI-Subject`, like distribution 2.8.2. */
export async function startSpecRegistry(
  options: { bearer?: { username: string; password: string }; referrersApi?: boolean } = {},
): Promise<SpecRegistry> {
  const referrersApi = options.referrersApi !== false;
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Map<string, Stored>>(); // repo -> digest -> manifest
  const tags = new Map<string, Map<string, string>>(); // repo -> tag -> digest
  const uploads = new Map<string, string>(); // uuid -> repo
  const tokens = new Map<string, string[]>(); // token -> scopes granted
  const requests: string[] = [];
  let base = '';

  const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const error = (res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify({ errors: [{ code, message }] }));
  };

  function authorized(req: IncomingMessage, res: ServerResponse, repo: string | undefined, action: 'pull' | 'push'): boolean {
    if (!options.bearer) return true;
    const scope = repo ? `repository:${repo}:${action === 'push' ? 'push,pull' : 'pull'}` : undefined;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const granted = m ? tokens.get(m[1] as string) : undefined;
    const ok =
      granted !== undefined &&
      (!repo ||
        granted.some((g) => g.startsWith(`repository:${repo}:`) && (action === 'pull' || g.endsWith('push,pull') || g.endsWith(':push'))));
    if (ok) return true;
    const challenge = `Bearer realm="${base}/token",service="spec-registry"${scope ? `,scope="${scope}"` : ''}${granted ? ',error="insufficient_scope"' : ''}`;
    error(res, 401, 'UNAUTHORIZED', 'authentication required', { 'WWW-Authenticate': challenge });
    return false;
  }

  function token(req: IncomingMessage, url: URL, res: ServerResponse): void {
    const b = options.bearer!;
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [user, pass] = m
      ? Buffer.from(m[1] as string, 'base64')
          .toString()
          .split(':')
      : [];
    if (!m || user !== b.username || pass !== b.password) return error(res, 401, 'UNAUTHORIZED', 'bad credentials');
    const t = randomBytes(16).toString('hex');
    tokens.set(t, url.searchParams.getAll('scope'));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: t, expires_in: 300 }));
  }

  function referrers(repo: string, digest: string, url: URL, res: ServerResponse): void {
    const filter = url.searchParams.get('artifactType');
    const out: unknown[] = [];
    for (const [d, m] of manifests.get(repo) ?? []) {
      let j: {
        subject?: { digest?: string };
        artifactType?: string;
        config?: { mediaType?: string };
        annotations?: Record<string, string>;
      };
      try {
        j = JSON.parse(m.bytes.toString());
      } catch {
        continue;
      }
      if (j.subject?.digest !== digest) continue;
      const artifactType = j.artifactType ?? j.config?.mediaType;
      if (filter && artifactType !== filter) continue;
      out.push({
        mediaType: m.mediaType,
        digest: d,
        size: m.bytes.length,
        artifactType,
        ...(j.annotations ? { annotations: j.annotations } : {}),
      });
    }
    res
      .writeHead(200, {
        'Content-Type': 'application/vnd.oci.image.index.v1+json',
        ...(filter ? { 'OCI-Filters-Applied': 'artifactType' } : {}),
      })
      .end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: out }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    requests.push(`${req.method} ${url.pathname}`);
    if (url.pathname === '/token' && options.bearer) return token(req, url, res);
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      if (!authorized(req, res, undefined, 'pull')) return;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Docker-Distribution-Api-Version': 'registry/2.0' }).end('{}');
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs|referrers|tags)\/(.*)$/.exec(url.pathname);
    if (!m) return error(res, 404, 'NOT_FOUND', 'no such route');
    const [, repo, kind, rest] = m as unknown as [string, string, string, string];
    if (!NAME.test(repo)) return error(res, 400, 'NAME_INVALID', 'invalid repository name');
    const write = req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH' || req.method === 'DELETE';
    if (!authorized(req, res, repo, write ? 'push' : 'pull')) return;
    const repoManifests = manifests.get(repo) ?? new Map<string, Stored>();
    manifests.set(repo, repoManifests);
    const repoTags = tags.get(repo) ?? new Map<string, string>();
    tags.set(repo, repoTags);

    if (kind === 'referrers') {
      if (!referrersApi) return error(res, 404, 'NOT_FOUND', 'no such route');
      if (req.method !== 'GET' || !/^sha256:[a-f0-9]{64}$/.test(rest)) return error(res, 400, 'DIGEST_INVALID', 'bad digest');
      return referrers(repo, rest, url, res);
    }
    if (kind === 'tags' && rest === 'list') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ name: repo, tags: [...repoTags.keys()].sort() }));
      return;
    }
    if (kind === 'blobs') {
      if (rest === 'uploads/' && req.method === 'POST') {
        const mount = url.searchParams.get('mount');
        if (mount && blobs.has(mount)) {
          res.writeHead(201, { Location: `/v2/${repo}/blobs/${mount}`, 'Docker-Content-Digest': mount }).end();
          return;
        }
        const uuid = randomBytes(8).toString('hex');
        uploads.set(uuid, repo);
        res
          .writeHead(202, { Location: `${base}/v2/${repo}/blobs/uploads/${uuid}?_state=x`, Range: '0-0', 'Docker-Upload-UUID': uuid })
          .end();
        return;
      }
      const up = /^uploads\/([a-f0-9]+)$/.exec(rest);
      if (up && req.method === 'PUT') {
        if (uploads.get(up[1] as string) !== repo) return error(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'unknown upload');
        const digest = url.searchParams.get('digest') ?? '';
        if (digestOf(body) !== digest) return error(res, 400, 'DIGEST_INVALID', 'digest does not match the content');
        uploads.delete(up[1] as string);
        blobs.set(digest, body);
        res.writeHead(201, { Location: `/v2/${repo}/blobs/${digest}`, 'Docker-Content-Digest': digest }).end();
        return;
      }
      const blob = blobs.get(rest);
      if (!blob) return error(res, 404, 'BLOB_UNKNOWN', 'blob unknown');
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'Content-Length': String(blob.length), 'Docker-Content-Digest': rest }).end();
        return;
      }
      if (req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': rest }).end(blob);
        return;
      }
      return error(res, 405, 'UNSUPPORTED', 'method not allowed');
    }
    // manifests
    if (req.method === 'PUT') {
      const mediaType = (req.headers['content-type'] ?? '').split(';')[0] as string;
      let j: {
        mediaType?: string;
        subject?: { digest?: string };
        manifests?: Array<{ digest: string }>;
        layers?: Array<{ digest: string }>;
        config?: { digest: string };
      };
      try {
        j = JSON.parse(body.toString());
      } catch {
        return error(res, 400, 'MANIFEST_INVALID', 'not JSON');
      }
      if (j.mediaType !== undefined && j.mediaType !== mediaType)
        return error(res, 400, 'MANIFEST_INVALID', 'mediaType does not match Content-Type');
      const digest = digestOf(body);
      if (rest.startsWith('sha256:') && rest !== digest) return error(res, 400, 'DIGEST_INVALID', 'digest does not match the content');
      for (const d of j.manifests ?? [])
        if (!repoManifests.has(d.digest)) return error(res, 400, 'MANIFEST_BLOB_UNKNOWN', `unknown manifest ${d.digest}`);
      for (const d of [...(j.layers ?? []), ...(j.config ? [j.config] : [])])
        if (!blobs.has(d.digest)) return error(res, 400, 'MANIFEST_BLOB_UNKNOWN', `unknown blob ${d.digest}`);
      repoManifests.set(digest, { bytes: body, mediaType });
      if (!rest.startsWith('sha256:')) repoTags.set(rest, digest);
      res
        .writeHead(201, {
          Location: `/v2/${repo}/manifests/${digest}`,
          'Docker-Content-Digest': digest,
          ...(j.subject?.digest && referrersApi ? { 'OCI-Subject': j.subject.digest } : {}),
        })
        .end();
      return;
    }
    const digest = rest.startsWith('sha256:') ? rest : repoTags.get(rest);
    const stored = digest ? repoManifests.get(digest) : undefined;
    if (!stored || !digest) return error(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
    const headers = { 'Content-Type': stored.mediaType, 'Docker-Content-Digest': digest, 'Content-Length': String(stored.bytes.length) };
    if (req.method === 'HEAD') {
      res.writeHead(200, headers).end();
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, headers).end(stored.bytes);
      return;
    }
    return error(res, 405, 'UNSUPPORTED', 'method not allowed');
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((e: Error) => error(res, 500, 'INTERNAL', e.message));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `http://${host}`;
  return {
    host,
    requests,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
