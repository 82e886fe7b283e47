// @integration: starts real registries, `keyless serve` and peers on loopback
// What must fail, and how: tampered legacy signatures, bad registries, bad input — one
// line, a non-zero exit, no stack trace, and nothing half-written left in the registry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startServe, keyless, type Serve, type Run } from '../sign/serve-helper.js';
import { startDockerRegistry, type TestRegistry } from '../support/docker-registry.js';
import { startSpecRegistry, type SpecRegistry } from '../support/oci-registry.js';
import { pushImage } from '../support/images.js';
import { RegistryClient, OCI_MANIFEST, type Descriptor } from '../../src/registry/index.js';
import { sha256 } from '../../src/core/hash.js';

const EMAIL = 'failures@example.com';
let serve: Serve;
let registry: TestRegistry;
let basic: TestRegistry;
let spec: SpecRegistry;
let client: RegistryClient;
let token: string;
let issuer: string;

before(async () => {
  [serve, registry, basic, spec] = await Promise.all([
    startServe(),
    startDockerRegistry(),
    startDockerRegistry({ basicAuth: true }),
    startSpecRegistry(),
  ]);
  client = new RegistryClient();
  const t = await keyless(['dev-token', '--url', serve.url, '--email', EMAIL]);
  assert.equal(t.code, 0, t.stderr);
  token = t.stdout.trim();
  issuer = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iss as string;
});
after(async () => {
  await Promise.all([registry?.stop(), basic?.stop(), spec?.stop(), serve?.stop()]);
});

const signArgs = (v: 1 | 2 = 1) => [
  '--identity-token',
  token,
  '--signing-config',
  serve.signingConfig(v),
  '--trusted-root',
  serve.trustedRoot,
  '-y',
];
const verifyArgs = () => ['--certificate-identity', EMAIL, '--certificate-oidc-issuer', issuer, '--trusted-root', serve.trustedRoot];

function oneLineFailure(r: Run, pattern: RegExp, code = 1): void {
  assert.equal(r.code, code, `exit ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace: ${r.stderr}`);
}

test('a legacy .sig whose SET or certificate does not match fails', async () => {
  const repo = { registry: registry.host, repository: 'fail/legacy' };
  const image = await pushImage(client, repo, 'v1');
  assert.equal((await keyless(['sign', image.ref, '--new-bundle-format=false', ...signArgs()])).code, 0);
  const tag = `sha256-${image.digest.slice(7)}.sig`;
  const original = await client.getManifest(repo, tag);
  assert.equal((await keyless(['verify', image.ref, ...verifyArgs()])).code, 0);
  const layer = (original.json.layers as Descriptor[])[0]!;
  const rewrite = async (annotations: Record<string, string>) => {
    const m = { ...original.json, layers: [{ ...layer, annotations: { ...layer.annotations, ...annotations } }] };
    await client.putManifest(repo, tag, Buffer.from(JSON.stringify(m)), OCI_MANIFEST);
  };
  // The SET signed over another entry: flip a byte of it.
  const rekor = JSON.parse(layer.annotations!['dev.sigstore.cosign/bundle']!) as {
    SignedEntryTimestamp: string;
    Payload: Record<string, unknown>;
  };
  const set = Buffer.from(rekor.SignedEntryTimestamp, 'base64');
  set.writeUInt8(set.readUInt8(set.length - 5) ^ 1, set.length - 5);
  await rewrite({ 'dev.sigstore.cosign/bundle': JSON.stringify({ ...rekor, SignedEntryTimestamp: set.toString('base64') }) });
  oneLineFailure(await keyless(['verify', image.ref, ...verifyArgs()]), /none of the 1 signature\(s\)/);
  // Another signature's certificate (signed a second time: new key, new certificate).
  const other = await pushImage(client, repo, 'v2');
  assert.equal((await keyless(['sign', other.ref, '--new-bundle-format=false', ...signArgs()])).code, 0);
  const otherLayer = ((await client.getManifest(repo, `sha256-${other.digest.slice(7)}.sig`)).json.layers as Descriptor[])[0]!;
  await rewrite({ 'dev.sigstore.cosign/certificate': otherLayer.annotations!['dev.sigstore.cosign/certificate']! });
  oneLineFailure(await keyless(['verify', image.ref, ...verifyArgs()]), /none of the 1 signature\(s\)/);
  // Another image's whole legacy signature copied under this image's tag: the payload names the other digest.
  await client.putManifest(repo, tag, (await client.getManifest(repo, `sha256-${other.digest.slice(7)}.sig`)).bytes, OCI_MANIFEST);
  oneLineFailure(await keyless(['verify', image.ref, ...verifyArgs()]), /none of the 1 signature\(s\).*not this image/);
});

test('registries that fail: unreachable, wrong credentials, unknown repository or tag, an HTML answer, an oversized manifest', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  oneLineFailure(
    await keyless(['verify', `127.0.0.1:${deadPort}/a/b:v1`, ...verifyArgs()]),
    new RegExp(`registry 127\\.0\\.0\\.1:${deadPort}: cannot be reached`),
  );

  const repo = { registry: basic.host, repository: 'fail/private' };
  const authed = new RegistryClient({ credentials: async () => ({ kind: 'basic', username: basic.username!, password: basic.password! }) });
  const image = await pushImage(authed, repo, 'v1');
  const wrong = await keyless([
    'sign',
    `${basic.host}/${repo.repository}:v1`,
    '--registry-username',
    basic.username!,
    '--registry-password',
    'not-the-password',
    ...signArgs(),
  ]);
  oneLineFailure(wrong, new RegExp(`registry ${basic.host}: rejected the credentials`));
  assert.ok(!wrong.stderr.includes('not-the-password'), 'the password is never printed');
  oneLineFailure(await keyless(['verify', `${basic.host}/${repo.repository}:v1`, ...verifyArgs()]), /requires authentication/);
  const signed = await keyless([
    'sign',
    image.ref,
    '--registry-username',
    basic.username!,
    '--registry-password',
    basic.password!,
    ...signArgs(),
  ]);
  assert.equal(signed.code, 0, signed.stderr);

  oneLineFailure(await keyless(['verify', `${registry.host}/no/such-repo:v1`, ...verifyArgs()]), /not found/);
  await pushImage(client, { registry: registry.host, repository: 'fail/tags' }, 'v1');
  oneLineFailure(await keyless(['sign', `${registry.host}/fail/tags:v9`, ...signArgs()]), /fail\/tags:v9 not found/);

  const html = createServer((_req, res) =>
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!DOCTYPE html><html><body>Welcome</body></html>'),
  );
  await new Promise<void>((r) => html.listen(0, '127.0.0.1', () => r()));
  const htmlHost = `127.0.0.1:${(html.address() as AddressInfo).port}`;
  oneLineFailure(await keyless(['verify', `${htmlHost}/a/b:v1`, ...verifyArgs()]), /HTML page, not the registry API/);
  html.close();

  // A manifest over the 4 MiB limit (the spec registry stores any size).
  const big = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${sha256(Buffer.from('{}')).toString('hex')}`, size: 2 },
      layers: [],
      annotations: { pad: 'x'.repeat(5 * 1024 * 1024) },
    }),
  );
  const specRepo = { registry: spec.host, repository: 'fail/big' };
  await client.pushBlob(specRepo, Buffer.from('{}'));
  await client.putManifest(specRepo, 'huge', big, OCI_MANIFEST);
  oneLineFailure(await keyless(['verify', `${spec.host}/fail/big:huge`, ...verifyArgs()]), /larger than the 4194304-byte limit/);
});

test('--timeout bounds a registry that never answers', async () => {
  const silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
  try {
    oneLineFailure(await keyless(['verify', `${host}/a/b:v1`, ...verifyArgs(), '--timeout', '2s']), /gave up|no answer within/);
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});

test('nothing half-written: a sign that fails after resolving the image pushes nothing', async () => {
  const repo = { registry: registry.host, repository: 'fail/clean' };
  const image = await pushImage(client, repo, 'v1');
  const r = await keyless([
    'sign',
    image.ref,
    '--identity-token',
    'not-a-jwt',
    '--signing-config',
    serve.signingConfig(1),
    '--trusted-root',
    serve.trustedRoot,
  ]);
  assert.equal(r.code, 1);
  assert.ok(!/\n\s+at /.test(r.stderr));
  const tree = await keyless(['tree', image.ref]);
  assert.equal(tree.code, 0, tree.stderr);
  assert.match(tree.stdout, /nothing attached/);
  oneLineFailure(await keyless(['verify', image.ref, ...verifyArgs()]), /no signatures found/);
});

test('usage errors exit 2', async () => {
  oneLineFailure(await keyless(['verify', 'UPPER/Case:v1', ...verifyArgs()]), /not an image reference/, 2);
  oneLineFailure(await keyless(['sign', `${registry.host}/a:v1`, '-a', 'novalue', ...signArgs()]), /not key=value/, 2);
  oneLineFailure(await keyless(['sign', `${registry.host}/a:v1`, '--upload=false', ...signArgs()]), /--upload=false needs --bundle/, 2);
  oneLineFailure(await keyless(['verify', `${registry.host}/a:v1`, '--trusted-root', serve.trustedRoot]), /certificate-identity/, 2);
});

test('COSIGN_REPOSITORY stores and finds signatures in another repository', async () => {
  const repo = { registry: registry.host, repository: 'fail/app' };
  const image = await pushImage(client, repo, 'v1');
  const env = { COSIGN_REPOSITORY: `${registry.host}/fail/signatures` };
  assert.equal((await keyless(['sign', image.ref, ...signArgs()], env)).code, 0);
  assert.equal((await client.referrers(repo, image.digest)).manifests.length, 0);
  assert.equal((await client.referrers({ registry: registry.host, repository: 'fail/signatures' }, image.digest)).manifests.length, 1);
  assert.equal((await keyless(['verify', image.ref, ...verifyArgs()], env)).code, 0);
  oneLineFailure(await keyless(['verify', image.ref, ...verifyArgs()]), /no signatures found/);
});
