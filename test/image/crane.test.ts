// @integration: starts go-containerregistry's registry (crane registry serve) and `keyless serve` on loopback
// go-containerregistry, the registry library cosign is built on, as a peer: crane (its CLI)
// reads what Keyless writes as any conforming registry client would — the tags, the
// referrers fallback index, the referrer manifest with its subject, blobs whose digests and
// sizes match — and copies it to another repository, where Keyless still verifies it.
// `crane registry serve` answers the referrers API with 400, so this also runs Keyless's
// fallback path against a second real registry implementation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, keyless, type Serve } from '../sign/serve-helper.js';
import { findCrane, startCraneRegistry } from '../support/crane.js';
import { runPeer } from '../support/go-peers.js';
import { pushImage } from '../support/images.js';
import { RegistryClient } from '../../src/registry/index.js';

const EMAIL = 'crane-peer@example.com';
const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
let craneBin: string;
let serve: Serve;
let registry: { host: string; stop(): Promise<void> };
let token: string;
let work: string;

before(async () => {
  craneBin = findCrane();
  [serve, registry] = await Promise.all([startServe(), startCraneRegistry(findCrane())]);
  work = mkdtempSync(join(tmpdir(), 'keyless-image-crane-'));
  const t = await keyless(['dev-token', '--url', serve.url, '--email', EMAIL]);
  assert.equal(t.code, 0, t.stderr);
  token = t.stdout.trim();
});
after(async () => {
  await Promise.all([registry?.stop(), serve?.stop()]);
});

type Json = Record<string, any>;

async function crane(args: string[]): Promise<string> {
  const r = await runPeer(craneBin, args, { HOME: work });
  assert.equal(r.code, 0, `crane ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const signArgs = (v: 1 | 2) => [
  '--identity-token',
  token,
  '--signing-config',
  serve.signingConfig(v),
  '--trusted-root',
  serve.trustedRoot,
  '-y',
];
const verifyArgs = () => [
  '--certificate-identity',
  EMAIL,
  '--certificate-oidc-issuer',
  `${serve.url}/oidc`,
  '--trusted-root',
  serve.trustedRoot,
];

test('crane reads the tags, fallback index, referrer manifests and blobs Keyless writes, and validates them', async () => {
  const repo = { registry: registry.host, repository: 'peers/app' };
  const img = await pushImage(new RegistryClient(), repo, 'v1');
  const ref = `${registry.host}/${repo.repository}`;
  const hex = img.digest.slice('sha256:'.length);
  assert.equal((await keyless(['sign', `${ref}:v1`, '-a', 'team=payments', ...signArgs(2)])).code, 0);
  const predicate = join(work, 'predicate.json');
  writeFileSync(predicate, '{"builder":{"id":"https://example.com/b"}}');
  assert.equal((await keyless(['attest', `${ref}:v1`, '--predicate', predicate, '--type', 'slsaprovenance1', ...signArgs(2)])).code, 0);
  const legacy = await keyless(['sign', `${ref}:v1`, '--new-bundle-format=false', '-a', 'team=payments', ...signArgs(1)]);
  assert.equal(legacy.code, 0, legacy.stderr);

  assert.equal((await crane(['digest', `${ref}:v1`])).trim(), img.digest);
  assert.deepEqual((await crane(['ls', ref])).trim().split('\n').sort(), [`sha256-${hex}`, `sha256-${hex}.sig`, 'v1']);

  // The fallback index: an OCI index listing both referrers (signature and attestation).
  const index = JSON.parse(await crane(['manifest', `${ref}:sha256-${hex}`])) as Json;
  assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.equal(index.manifests.length, 2);
  const predicateTypes: string[] = [];
  for (const d of index.manifests as Json[]) {
    assert.equal(d.artifactType, BUNDLE_MEDIA_TYPE);
    const manifest = JSON.parse(await crane(['manifest', `${ref}@${d.digest}`])) as Json;
    assert.equal(manifest.subject.digest, img.digest);
    assert.equal(manifest.artifactType, BUNDLE_MEDIA_TYPE);
    assert.equal(manifest.config.mediaType, 'application/vnd.oci.empty.v1+json');
    // Every blob is there, with the digest and size the manifest names.
    assert.match(await crane(['validate', '--remote', `${ref}@${d.digest}`]), /^PASS/);
    const bundle = JSON.parse(await crane(['blob', `${ref}@${manifest.layers[0].digest}`])) as Json;
    assert.equal(bundle.mediaType, BUNDLE_MEDIA_TYPE);
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as Json;
    assert.equal(statement.subject[0].digest.sha256, hex);
    predicateTypes.push(statement.predicateType);
  }
  assert.deepEqual(predicateTypes.sort(), ['https://sigstore.dev/cosign/sign/v1', 'https://slsa.dev/provenance/v1']);
  // The legacy tag: an image whose layer is the simple-signing payload, its config listing
  // that layer as go-containerregistry writes it for cosign. (`crane validate` is not used
  // here: it refuses cosign's own .sig the same way, as it reads only tar layers.)
  const sig = JSON.parse(await crane(['manifest', `${ref}:sha256-${hex}.sig`])) as Json;
  assert.equal(sig.layers[0].mediaType, 'application/vnd.dev.cosign.simplesigning.v1+json');
  const config = JSON.parse(await crane(['config', `${ref}:sha256-${hex}.sig`])) as Json;
  assert.deepEqual(
    config.rootfs.diff_ids,
    (sig.layers as Json[]).map((l) => l.digest),
  );
  const payload = JSON.parse(await crane(['blob', `${ref}@${sig.layers[0].digest}`])) as Json;
  assert.equal(payload.critical.image['docker-manifest-digest'], img.digest);

  // Keyless reads the same through crane's registry (its 400 from the referrers API is "unsupported").
  const v = await keyless(['verify', `${ref}:v1`, ...verifyArgs(), '-a', 'team=payments', '--output', 'json']);
  assert.equal(v.code, 0, v.stderr);
  assert.deepEqual((JSON.parse(v.stdout) as Json[]).map((s) => s.layout).sort(), ['legacy', 'referrer']);
  assert.equal((await keyless(['verify-attestation', '--type', 'slsaprovenance1', `${ref}:v1`, ...verifyArgs()])).code, 0);

  // crane copies the image, the fallback index (with the referrer manifests it lists) and the
  // legacy tag to another repository; what arrives there still verifies.
  const copy = `${registry.host}/peers/copy`;
  for (const tag of ['v1', `sha256-${hex}`, `sha256-${hex}.sig`]) await crane(['copy', `${ref}:${tag}`, `${copy}:${tag}`]);
  const copied = await keyless(['verify', `${copy}:v1`, ...verifyArgs(), '--output', 'json']);
  assert.equal(copied.code, 0, copied.stderr);
  assert.deepEqual((JSON.parse(copied.stdout) as Json[]).map((s) => s.layout).sort(), ['legacy', 'referrer']);
});
