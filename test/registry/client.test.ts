// @integration: starts real registries, `keyless serve` and peers on loopback
// The registry client against Debian's docker-registry 2.8.2 (anonymous and htpasswd Basic;
// no referrers API: the fallback tag), against the spec-following referrers-API registry in
// test/support (with Bearer tokens), and against small servers that misbehave.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import type { AddressInfo } from 'node:net';
import { sha256 } from '../../src/core/hash.js';
import {
  RegistryClient,
  dockerConfigCredentials,
  fallbackTag,
  OCI_MANIFEST,
  OCI_INDEX,
  OCI_EMPTY,
  EMPTY_JSON,
  type Repository,
  type Descriptor,
} from '../../src/registry/index.js';
import { startDockerRegistry, type TestRegistry } from '../support/docker-registry.js';
import { startSpecRegistry, type SpecRegistry } from '../support/oci-registry.js';
import { pushImage, pushIndex } from '../support/images.js';

let anon: TestRegistry;
let basic: TestRegistry;
let spec: SpecRegistry;
let work: string;

before(async () => {
  [anon, basic, spec] = await Promise.all([
    startDockerRegistry(),
    startDockerRegistry({ basicAuth: true }),
    startSpecRegistry({ bearer: { username: 'u', password: 'p' } }),
  ]);
  work = mkdtempSync(join(tmpdir(), 'keyless-registry-test-'));
});
after(async () => {
  await Promise.all([anon?.stop(), basic?.stop(), spec?.stop()]);
});

async function pushArtifact(
  client: RegistryClient,
  repo: Repository,
  subject: Descriptor,
  payload: string,
): Promise<{ bytes: Buffer; descriptor: Descriptor }> {
  const config = await client.pushBlob(repo, EMPTY_JSON, OCI_EMPTY);
  const layer = await client.pushBlob(repo, Buffer.from(payload), 'application/example');
  const bytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/example', config, layers: [layer], subject }),
  );
  return {
    bytes,
    descriptor: {
      mediaType: OCI_MANIFEST,
      digest: `sha256:${sha256(bytes).toString('hex')}`,
      size: bytes.length,
      artifactType: 'application/example',
    },
  };
}

test('docker-registry: push an image and an index, resolve tags, digests are checked', async () => {
  const client = new RegistryClient();
  const repo = { registry: anon.host, repository: 'team/app' };
  const image = await pushImage(client, repo, 'v1');
  const resolved = await client.resolve(repo, 'v1');
  assert.deepEqual(resolved, image.descriptor);
  const m = await client.getManifest(repo, image.digest);
  assert.equal(m.descriptor.digest, image.digest);
  const index = await pushIndex(client, repo, 'multi');
  assert.equal((await client.resolve(repo, 'multi')).digest, index.digest);
  assert.equal((await client.getManifest(repo, 'multi')).json.manifests instanceof Array, true);
  // A new blob: HEAD, POST, PUT; an existing one: HEAD only.
  const before = client.roundTrips;
  await client.pushBlob(repo, EMPTY_JSON);
  await client.pushBlob(repo, EMPTY_JSON);
  assert.equal(client.roundTrips - before, 4);
  await assert.rejects(client.getManifest(repo, 'nope'), { code: 'REGISTRY_NOT_FOUND' });
  await assert.rejects(client.getManifest({ registry: anon.host, repository: 'no/such' }, 'v1'), { code: 'REGISTRY_NOT_FOUND' });
});

test('docker-registry (no referrers API): referrers go to the fallback index, entries of others are kept', async () => {
  const client = new RegistryClient();
  const repo = { registry: anon.host, repository: 'team/referred' };
  const image = await pushImage(client, repo, 'v1');
  assert.equal(await client.referrersApiSupported(repo, image.digest), false);
  assert.deepEqual(await client.referrers(repo, image.digest), { manifests: [], via: 'fallback' });
  // Another tool's entry already in the index.
  const other = await pushArtifact(client, repo, image.descriptor, 'other tool');
  await client.putManifest(repo, other.descriptor.digest, other.bytes, OCI_MANIFEST);
  const foreign = { ...other.descriptor, annotations: { 'org.example': 'kept' } };
  await client.putManifest(
    repo,
    fallbackTag(image.digest),
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [foreign] })),
    'application/vnd.oci.image.index.v1+json',
  );
  const ours = await pushArtifact(client, repo, image.descriptor, 'ours');
  assert.deepEqual(await client.pushReferrer(repo, ours.bytes, ours.descriptor, image.digest), { via: 'fallback' });
  // Pushing the same referrer again does not duplicate it.
  await client.pushReferrer(repo, ours.bytes, ours.descriptor, image.digest);
  const found = await client.referrers(repo, image.digest);
  assert.equal(found.via, 'fallback');
  assert.deepEqual(
    found.manifests.map((d) => d.digest),
    [other.descriptor.digest, ours.descriptor.digest],
  );
  assert.deepEqual(found.manifests[0]!.annotations, { 'org.example': 'kept' });
});

test('docker-registry with htpasswd: no credentials, wrong ones, flags, docker config.json, a credential helper', async () => {
  const repo = { registry: basic.host, repository: 'private/app' };
  await assert.rejects(
    new RegistryClient().resolve(repo, 'v1'),
    (e: Error & { code?: string }) =>
      e.code === 'REGISTRY_UNAUTHORIZED' && e.message.includes(basic.host) && /requires authentication/.test(e.message),
  );
  const wrong = new RegistryClient({ credentials: async () => ({ kind: 'basic', username: 'ci-user', password: 'nope' }) });
  await assert.rejects(
    wrong.resolve(repo, 'v1'),
    (e: Error & { code?: string }) =>
      e.code === 'REGISTRY_UNAUTHORIZED' && /rejected the credentials/.test(e.message) && !e.message.includes('nope'),
  );
  const good = new RegistryClient({ credentials: async () => ({ kind: 'basic', username: basic.username!, password: basic.password! }) });
  const image = await pushImage(good, repo, 'v1');
  assert.equal((await good.resolve(repo, 'v1')).digest, image.digest);

  const configDir = mkdtempSync(join(work, 'docker-'));
  writeFileSync(
    join(configDir, 'config.json'),
    JSON.stringify({ auths: { [basic.host]: { auth: Buffer.from(`${basic.username}:${basic.password}`).toString('base64') } } }),
  );
  assert.equal((await new RegistryClient({ credentials: dockerConfigCredentials(configDir) }).resolve(repo, 'v1')).digest, image.digest);

  // credHelpers: docker-credential-<name> get, server URL on stdin, JSON back.
  const bin = mkdtempSync(join(work, 'bin-'));
  const helper = join(bin, 'docker-credential-keylesstest');
  writeFileSync(
    helper,
    `#!/bin/sh\nread server\nif [ "$server" = "${basic.host}" ]; then printf '{"ServerURL":"%s","Username":"${basic.username}","Secret":"${basic.password}"}' "$server"; else echo "credentials not found in native keychain"; exit 1; fi\n`,
  );
  chmodSync(helper, 0o755);
  const helperDir = mkdtempSync(join(work, 'docker-'));
  writeFileSync(join(helperDir, 'config.json'), JSON.stringify({ credHelpers: { [basic.host]: 'keylesstest' } }));
  const oldPath = process.env.PATH;
  process.env.PATH = `${bin}${delimiter}${oldPath}`;
  try {
    assert.equal((await new RegistryClient({ credentials: dockerConfigCredentials(helperDir) }).resolve(repo, 'v1')).digest, image.digest);
    assert.equal(await dockerConfigCredentials(helperDir)('other.example.com'), undefined);
  } finally {
    process.env.PATH = oldPath;
  }
  writeFileSync(join(configDir, 'config.json'), '{not json');
  await assert.rejects(new RegistryClient({ credentials: dockerConfigCredentials(configDir) }).resolve(repo, 'v1'), {
    code: 'REGISTRY_CREDENTIALS_UNREADABLE',
  });
});

test('referrers-API registry with Bearer tokens: OCI-Subject, API listing, tokens cached per scope', async () => {
  const repo = { registry: spec.host, repository: 'team/app' };
  await assert.rejects(new RegistryClient().resolve(repo, 'v1'), { code: 'REGISTRY_UNAUTHORIZED' });
  const client = new RegistryClient({ credentials: async () => ({ kind: 'basic', username: 'u', password: 'p' }) });
  const image = await pushImage(client, repo, 'v1');
  const art = await pushArtifact(client, repo, image.descriptor, 'x');
  assert.deepEqual(await client.pushReferrer(repo, art.bytes, art.descriptor, image.digest), { via: 'api' });
  const found = await client.referrers(repo, image.digest);
  assert.equal(found.via, 'api');
  assert.deepEqual(
    found.manifests.map((d) => [d.digest, d.artifactType]),
    [[art.descriptor.digest, 'application/example']],
  );
  assert.equal(await client.tryGetManifest(repo, fallbackTag(image.digest)), undefined, 'no fallback tag where the API exists');
  const tokenRequests = spec.requests.filter((r) => r.startsWith('GET /token')).length;
  assert.ok(tokenRequests <= 3, `one token per scope, got ${tokenRequests}`);
  const wrong = new RegistryClient({ credentials: async () => ({ kind: 'basic', username: 'u', password: 'bad' }) });
  await assert.rejects(
    wrong.resolve(repo, 'v1'),
    (e: Error & { code?: string }) => e.code === 'REGISTRY_UNAUTHORIZED' && e.message.includes(spec.host),
  );
  // --registry-token: a bearer token obtained elsewhere is sent as it is.
  const answer = await fetch(`http://${spec.host}/token?service=spec-registry&scope=repository:team/app:pull`, {
    headers: { Authorization: `Basic ${Buffer.from('u:p').toString('base64')}` },
  });
  const { token } = (await answer.json()) as { token: string };
  const withToken = new RegistryClient({ credentials: async () => ({ kind: 'bearer', token }) });
  assert.equal((await withToken.resolve(repo, 'v1')).digest, image.digest);
  await assert.rejects(withToken.pushBlob(repo, Buffer.from('no push scope')), { code: 'REGISTRY_DENIED' });
});

async function misbehaving(
  handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void,
): Promise<{ host: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

test('bad registries: HTML answers, oversized manifests, wrong digests, unreachable, 503 retried', async () => {
  const html = await misbehaving((_req, res) =>
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!DOCTYPE html><html><body>login</body></html>'),
  );
  await assert.rejects(
    new RegistryClient().getManifest({ registry: html.host, repository: 'a' }, 'v1'),
    (e: Error & { code?: string }) => e.code === 'REGISTRY_BAD_RESPONSE' && /HTML/.test(e.message),
  );
  html.server.close();

  const big = Buffer.from(JSON.stringify({ schemaVersion: 2, pad: 'x'.repeat(5 * 1024 * 1024) }));
  let calls = 0;
  const odd = await misbehaving((req, res) => {
    calls++;
    if (req.url?.includes('/big')) res.writeHead(200, { 'Content-Type': OCI_MANIFEST }).end(big);
    else if (req.url?.includes('/flaky') && calls % 2 === 1) res.writeHead(503).end();
    else if (req.url?.includes('/liar'))
      res.writeHead(200, { 'Content-Type': OCI_MANIFEST, 'Docker-Content-Digest': `sha256:${'0'.repeat(64)}` }).end('{"schemaVersion":2}');
    else res.writeHead(200, { 'Content-Type': OCI_MANIFEST }).end('{"schemaVersion":2}');
  });
  const client = new RegistryClient({ backoffMs: 1 });
  await assert.rejects(client.getManifest({ registry: odd.host, repository: 'big' }, 'v1'), { code: 'REGISTRY_TOO_LARGE' });
  await assert.rejects(client.getManifest({ registry: odd.host, repository: 'liar' }, 'v1'), { code: 'REGISTRY_DIGEST_MISMATCH' });
  await assert.rejects(client.getManifest({ registry: odd.host, repository: 'ok' }, `sha256:${'1'.repeat(64)}`), {
    code: 'REGISTRY_DIGEST_MISMATCH',
  });
  const flaky = await client.getManifest({ registry: odd.host, repository: 'flaky' }, 'v1');
  assert.equal(flaky.json.schemaVersion, 2);
  odd.server.close();

  const closed = await misbehaving(() => undefined);
  const port = closed.host;
  await new Promise<void>((r) => closed.server.close(() => r()));
  await assert.rejects(
    new RegistryClient({ retries: 1, backoffMs: 1 }).resolve({ registry: port, repository: 'a' }, 'v1'),
    (e: Error & { code?: string }) => e.code === 'REGISTRY_UNREACHABLE' && e.message.includes(port),
  );
});

test('referrers: the API and the fallback tag are asked at once, and the answer is remembered per repository', async () => {
  const hex = 'ab'.repeat(32);
  const seen: string[] = [];
  let fallbackAsked!: () => void;
  const asked = new Promise<void>((r) => (fallbackAsked = r));
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{ mediaType: OCI_MANIFEST, digest: `sha256:${'cd'.repeat(32)}`, size: 10 }],
  });
  // The referrers API answers only once the fallback tag has been asked for: a client that
  // waited for one before the other would get a 500 after 3 s instead.
  const { host, server } = await misbehaving((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url?.includes('/referrers/')) {
      const late = setTimeout(() => res.writeHead(500).end(), 3000);
      void asked.then(() => {
        clearTimeout(late);
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found');
      });
      return;
    }
    if (req.url === `/v2/team/app/manifests/sha256-${hex}`) {
      fallbackAsked();
      res.writeHead(200, { 'Content-Type': OCI_INDEX }).end(index);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
  });
  try {
    const client = new RegistryClient({ retries: 0 });
    const repo = { registry: host, repository: 'team/app' };
    const found = await client.referrers(repo, `sha256:${hex}`);
    assert.equal(found.via, 'fallback');
    assert.deepEqual(
      found.manifests.map((d) => d.digest),
      [`sha256:${'cd'.repeat(32)}`],
    );
    // Known now: the next lookup in this repository goes to the fallback tag alone.
    const before = seen.length;
    await client.referrers(repo, `sha256:${hex}`);
    assert.deepEqual(seen.slice(before), [`GET /v2/team/app/manifests/sha256-${hex}`]);
  } finally {
    server.close();
  }
});
