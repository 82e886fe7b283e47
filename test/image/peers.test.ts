// @integration: starts real registries, `keyless serve` and peers on loopback
// Images and the peers users come from: cosign v3 verifies what Keyless pushes (both
// layouts, signatures and attestations), Keyless verifies what cosign pushes against the
// same `keyless serve` (on docker-registry's fallback tags and on go-containerregistry's
// referrers API), and a bundle made by sigstore-js and attached with @sigstore/oci
// (GitHub's attestation layout) verifies with `keyless verify-attestation`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sigstore from 'sigstore';
import { attachArtifactToImage } from '@sigstore/oci';
import { startServe, keyless, type Serve } from '../sign/serve-helper.js';
import { startDockerRegistry, type TestRegistry } from '../support/docker-registry.js';
import { startGgcrRegistry } from '../support/ggcr-registry.js';
import { pushImage } from '../support/images.js';
import { findCosign, cosign } from '../support/cosign.js';
import { RegistryClient, type Repository } from '../../src/registry/index.js';

const EMAIL = 'peer-signer@example.com';
let serve: Serve;
let registry: TestRegistry;
let client: RegistryClient;
let token: string;
let tokenFile: string;
let issuer: string;
let work: string;
let cosignBin: string;

before(async () => {
  cosignBin = findCosign();
  [serve, registry] = await Promise.all([startServe(), startDockerRegistry()]);
  client = new RegistryClient();
  work = mkdtempSync(join(tmpdir(), 'keyless-image-peers-'));
  const t = await keyless(['dev-token', '--url', serve.url, '--email', EMAIL]);
  assert.equal(t.code, 0, t.stderr);
  token = t.stdout.trim();
  tokenFile = join(work, 'token');
  writeFileSync(tokenFile, token);
  issuer = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iss as string;
});
after(async () => {
  await Promise.all([registry?.stop(), serve?.stop()]);
});

function signArgs(v: 1 | 2): string[] {
  return ['--identity-token', token, '--signing-config', serve.signingConfig(v), '--trusted-root', serve.trustedRoot, '-y'];
}
function keylessVerifyArgs(): string[] {
  return ['--certificate-identity', EMAIL, '--certificate-oidc-issuer', issuer, '--trusted-root', serve.trustedRoot];
}
function cosignVerifyArgs(): string[] {
  return ['--trusted-root', serve.trustedRoot, '--certificate-identity', EMAIL, '--certificate-oidc-issuer', issuer];
}
/** cosign sign against keyless serve (its Rekor v`v` log), the token from a file. */
function cosignSignArgs(v: 1 | 2): string[] {
  return ['--identity-token', tokenFile, '--signing-config', serve.signingConfig(v), '--trusted-root', serve.trustedRoot, '-y'];
}
const cosignEnv = () => ({ HOME: work });

async function image(name: string): Promise<{ repo: Repository; ref: string; tagRef: string; digest: string }> {
  const repo = { registry: registry.host, repository: `peers/${name}` };
  const img = await pushImage(client, repo, 'v1');
  return { repo, ref: img.ref, tagRef: `${registry.host}/${repo.repository}:v1`, digest: img.digest };
}

for (const v of [1, 2] as const) {
  test(`cosign verify accepts a Keyless referrer signature (Rekor v${v}), and checks the annotations`, async () => {
    const img = await image(`ref-v${v}`);
    const s = await keyless(['sign', img.tagRef, '-a', 'team=payments', ...signArgs(v)]);
    assert.equal(s.code, 0, s.stderr);
    const r = await cosign(cosignBin, ['verify', ...cosignVerifyArgs(), '-a', 'team=payments', img.tagRef], cosignEnv());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(img.digest));
    const wrong = await cosign(cosignBin, ['verify', ...cosignVerifyArgs(), '-a', 'team=other', img.tagRef], cosignEnv());
    assert.notEqual(wrong.code, 0);
    const otherId = await cosign(
      cosignBin,
      [
        'verify',
        '--trusted-root',
        serve.trustedRoot,
        '--certificate-identity',
        'mallory@example.com',
        '--certificate-oidc-issuer',
        issuer,
        img.tagRef,
      ],
      cosignEnv(),
    );
    assert.notEqual(otherId.code, 0);
  });
}

test('cosign verify accepts a Keyless legacy .sig signature (--new-bundle-format=false, Rekor v1); appending keeps earlier layers', async () => {
  const img = await image('legacy');
  for (let i = 0; i < 2; i++) {
    const s = await keyless(['sign', img.tagRef, '--new-bundle-format=false', ...signArgs(1)]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stderr, /\.sig/);
  }
  const sig = await client.getManifest(img.repo, `sha256-${img.digest.slice(7)}.sig`);
  assert.equal((sig.json.layers as unknown[]).length, 2);
  const r = await cosign(cosignBin, ['verify', '--new-bundle-format=false', ...cosignVerifyArgs(), img.tagRef], cosignEnv());
  assert.equal(r.code, 0, r.stderr);
  const k = await keyless(['verify', img.tagRef, ...keylessVerifyArgs(), '--output', 'json']);
  assert.equal(k.code, 0, k.stderr);
  const list = JSON.parse(k.stdout) as Array<{ layout: string }>;
  assert.deepEqual(
    list.map((s) => s.layout),
    ['legacy', 'legacy'],
  );
  // A Rekor v2-only signing config cannot make a legacy signature: refused before anything is signed.
  const refused = await keyless(['sign', img.tagRef, '--new-bundle-format=false', ...signArgs(2)]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /legacy layout.*Rekor v1/);
});

test('cosign verify-attestation accepts a Keyless attestation (referrer layout)', async () => {
  const img = await image('attest');
  const predicate = join(work, 'predicate.json');
  writeFileSync(predicate, JSON.stringify({ builder: { id: 'https://example.com/builder' }, buildType: 'https://example.com/t' }));
  const a = await keyless(['attest', img.tagRef, '--predicate', predicate, '--type', 'https://slsa.dev/provenance/v1', ...signArgs(1)]);
  assert.equal(a.code, 0, a.stderr);
  const r = await cosign(
    cosignBin,
    ['verify-attestation', '--type', 'https://slsa.dev/provenance/v1', ...cosignVerifyArgs(), img.tagRef],
    cosignEnv(),
  );
  assert.equal(r.code, 0, r.stderr);
  const k = await keyless(['verify-attestation', '--type', 'https://slsa.dev/provenance/v1', img.tagRef, ...keylessVerifyArgs()]);
  assert.equal(k.code, 0, k.stderr);
  // Not a signature: `verify` finds no signature among the attachments; another type does not match.
  assert.equal((await keyless(['verify', img.tagRef, ...keylessVerifyArgs()])).code, 1);
  assert.equal((await keyless(['verify-attestation', '--type', 'spdxjson', img.tagRef, ...keylessVerifyArgs()])).code, 1);
  const tree = await keyless(['tree', img.tagRef, '--output', 'json']);
  assert.equal(tree.code, 0, tree.stderr);
  const t = JSON.parse(tree.stdout) as { attached: Array<{ kind: string; predicateType?: string }> };
  assert.deepEqual(
    t.attached.map((e) => [e.kind, e.predicateType]),
    [['attestation', 'https://slsa.dev/provenance/v1']],
  );
});

test('keyless verify accepts an image signed by cosign against keyless serve', async () => {
  const img = await image('by-cosign');
  const s = await cosign(cosignBin, ['sign', ...cosignSignArgs(1), '-a', 'built-by=cosign', img.ref], cosignEnv());
  assert.equal(s.code, 0, s.stderr);
  const k = await keyless(['verify', img.tagRef, ...keylessVerifyArgs(), '-a', 'built-by=cosign', '--output', 'json']);
  assert.equal(k.code, 0, k.stderr);
  const [sig] = JSON.parse(k.stdout) as Array<{ identity: string; digest: string; annotations: Record<string, string> }>;
  assert.equal(sig!.identity, EMAIL);
  assert.equal(sig!.digest, img.digest);
  assert.deepEqual(sig!.annotations, { 'built-by': 'cosign' });
  assert.equal(
    (
      await keyless([
        'verify',
        img.tagRef,
        '--certificate-identity',
        'mallory@example.com',
        '--certificate-oidc-issuer',
        issuer,
        '--trusted-root',
        serve.trustedRoot,
      ])
    ).code,
    1,
  );
});

test("on go-containerregistry's referrers API: cosign verifies what Keyless signs, and Keyless what cosign signs", async () => {
  const api = await startGgcrRegistry();
  try {
    const repo = { registry: api.host, repository: 'peers/referrers-api' };
    const ours = await pushImage(client, repo, 'ours');
    const s = await keyless(['sign', `${api.host}/${repo.repository}:ours`, ...signArgs(2)]);
    assert.equal(s.code, 0, s.stderr);
    const byCosign = await cosign(cosignBin, ['verify', ...cosignVerifyArgs(), ours.ref], cosignEnv());
    assert.equal(byCosign.code, 0, byCosign.stderr);
    assert.match(byCosign.stdout, new RegExp(ours.digest));

    const theirs = await pushImage(client, repo, 'theirs');
    const c = await cosign(cosignBin, ['sign', ...cosignSignArgs(2), theirs.ref], cosignEnv());
    assert.equal(c.code, 0, c.stderr);
    const k = await keyless(['verify', theirs.ref, ...keylessVerifyArgs(), '--output', 'json']);
    assert.equal(k.code, 0, k.stderr);
    assert.equal((JSON.parse(k.stdout) as Array<{ digest: string }>)[0]!.digest, theirs.digest);
    // Both went through the registry's referrers API, not a fallback tag.
    for (const img of [ours, theirs]) {
      const { manifests, via } = await client.referrers(repo, img.digest);
      assert.equal(via, 'api');
      assert.equal(manifests.length, 1);
    }
    // An image nothing signed: both tools say no.
    const none = await pushImage(client, repo, 'none');
    assert.notEqual((await cosign(cosignBin, ['verify', ...cosignVerifyArgs(), none.ref], cosignEnv())).code, 0);
    assert.equal((await keyless(['verify', none.ref, ...keylessVerifyArgs()])).code, 1);
  } finally {
    await api.stop();
  }
});

test('keyless verify-attestation accepts a cosign attestation', async () => {
  const img = await image('attest-by-cosign');
  const predicate = join(work, 'cosign-predicate.json');
  writeFileSync(predicate, JSON.stringify({ hello: 'world' }));
  const s = await cosign(
    cosignBin,
    [
      'attest',
      '--identity-token',
      tokenFile,
      '--signing-config',
      serve.signingConfig(1),
      '--trusted-root',
      serve.trustedRoot,
      '-y',
      '--predicate',
      predicate,
      '--type',
      'custom',
      img.ref,
    ],
    cosignEnv(),
  );
  assert.equal(s.code, 0, s.stderr);
  const k = await keyless(['verify-attestation', '--type', 'custom', img.tagRef, ...keylessVerifyArgs()]);
  assert.equal(k.code, 0, k.stderr);
});

test('a sigstore-js attestation attached with @sigstore/oci (to an htpasswd registry) verifies with keyless verify-attestation', async () => {
  // @sigstore/oci expects an auth challenge, so this runs against the Basic-auth registry.
  const basic = await startDockerRegistry({ basicAuth: true });
  try {
    await sigstoreJsAttestation(basic);
  } finally {
    await basic.stop();
  }
});

async function sigstoreJsAttestation(basic: TestRegistry): Promise<void> {
  const creds = { username: basic.username!, password: basic.password! };
  const authed = new RegistryClient({ credentials: async () => ({ kind: 'basic', ...creds }) });
  const repo = { registry: basic.host, repository: 'peers/by-sigstore-js' };
  const pushed = await pushImage(authed, repo, 'v1');
  const img = { repo, digest: pushed.digest, tagRef: `${basic.host}/${repo.repository}:v1` };
  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: `${registry.host}/${img.repo.repository}`, digest: { sha256: img.digest.slice(7) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { buildDefinition: { buildType: 'https://example.com/t' } },
    }),
  );
  const bundle = await sigstore.attest(statement, 'application/vnd.in-toto+json', {
    fulcioURL: serve.url,
    rekorURL: serve.url,
    tsaServerURL: serve.url,
    identityToken: token,
  });
  await attachArtifactToImage({
    imageName: `${basic.host}/${img.repo.repository}`,
    imageDigest: img.digest,
    artifact: Buffer.from(JSON.stringify(bundle)),
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' },
    credentials: creds,
  });
  const noCreds = await keyless(['verify-attestation', img.tagRef, ...keylessVerifyArgs()]);
  assert.equal(noCreds.code, 1);
  assert.match(noCreds.stderr, new RegExp(`registry ${basic.host}: requires authentication`));
  const k = await keyless([
    'verify-attestation',
    '--type',
    'slsaprovenance1',
    img.tagRef,
    ...keylessVerifyArgs(),
    '--output',
    'json',
    '--registry-username',
    creds.username,
    '--registry-password',
    creds.password,
  ]);
  assert.equal(k.code, 0, k.stderr);
  const [a] = JSON.parse(k.stdout) as Array<{ predicateType: string; identity: string }>;
  assert.equal(a!.predicateType, 'https://slsa.dev/provenance/v1');
  assert.equal(a!.identity, EMAIL);
}

test('legacy attestations (.att): Keyless writes, cosign verify-attestation and keyless verify-attestation read', async () => {
  const img = await image('legacy-att');
  const predicate = join(work, 'legacy-predicate.json');
  writeFileSync(predicate, JSON.stringify({ scanner: { uri: 'https://example.com/scanner' } }));
  const a = await keyless(['attest', img.tagRef, '--new-bundle-format=false', '--predicate', predicate, '--type', 'vuln', ...signArgs(1)]);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stderr, /\.att/);
  const r = await cosign(
    cosignBin,
    ['verify-attestation', '--new-bundle-format=false', '--type', 'vuln', ...cosignVerifyArgs(), img.tagRef],
    cosignEnv(),
  );
  assert.equal(r.code, 0, r.stderr);
  const k = await keyless(['verify-attestation', '--type', 'vuln', img.tagRef, ...keylessVerifyArgs(), '--output', 'json']);
  assert.equal(k.code, 0, k.stderr);
  assert.deepEqual(
    (JSON.parse(k.stdout) as Array<{ layout: string }>).map((x) => x.layout),
    ['legacy'],
  );
});

test('keyless verify accepts a legacy .sig written by cosign (--new-bundle-format=false)', async () => {
  const img = await image('legacy-by-cosign');
  // cosign's legacy path takes the service URLs instead of a signing config.
  const s = await cosign(
    cosignBin,
    [
      'sign',
      '--new-bundle-format=false',
      '--use-signing-config=false',
      '--fulcio-url',
      serve.url,
      '--rekor-url',
      serve.url,
      '--identity-token',
      tokenFile,
      '--trusted-root',
      serve.trustedRoot,
      '-y',
      img.ref,
    ],
    cosignEnv(),
  );
  assert.equal(s.code, 0, s.stderr);
  const k = await keyless(['verify', img.tagRef, ...keylessVerifyArgs(), '--output', 'json']);
  assert.equal(k.code, 0, k.stderr);
  assert.deepEqual(
    (JSON.parse(k.stdout) as Array<{ layout: string }>).map((x) => x.layout),
    ['legacy'],
  );
});

test('keyless verify --key accepts images signed by cosign sign --key (cosign-generated key pair), in both layouts', async () => {
  const img = await image('keyed-by-cosign');
  const keys = mkdtempSync(join(work, 'cosign-keys-'));
  const other = mkdtempSync(join(work, 'cosign-other-keys-'));
  const env = { ...cosignEnv(), COSIGN_PASSWORD: 'keyless-test-password' };
  for (const dir of [keys, other]) {
    const g = await cosign(cosignBin, ['generate-key-pair', '--output-key-prefix', join(dir, 'cosign')], env);
    assert.equal(g.code, 0, g.stderr);
  }
  const key = join(keys, 'cosign.key');
  // The bundle layout (a referrer; the signature logged in Rekor v2) …
  const referrer = await cosign(
    cosignBin,
    ['sign', '--key', key, '--signing-config', serve.signingConfig(2), '--trusted-root', serve.trustedRoot, '-y', img.ref],
    env,
  );
  assert.equal(referrer.code, 0, referrer.stderr);
  // … and the legacy .sig tag (a hashedrekord entry in Rekor v1 with its SET, no certificate).
  const legacy = await cosign(
    cosignBin,
    [
      'sign',
      '--key',
      key,
      '--new-bundle-format=false',
      '--use-signing-config=false',
      '--rekor-url',
      serve.url,
      '--trusted-root',
      serve.trustedRoot,
      '-y',
      img.ref,
    ],
    env,
  );
  assert.equal(legacy.code, 0, legacy.stderr);
  const k = await keyless([
    'verify',
    '--key',
    join(keys, 'cosign.pub'),
    '--trusted-root',
    serve.trustedRoot,
    img.tagRef,
    '--output',
    'json',
  ]);
  assert.equal(k.code, 0, k.stderr);
  const found = JSON.parse(k.stdout) as Array<{ layout: string; digest: string; identity?: string }>;
  assert.deepEqual(found.map((s) => s.layout).sort(), ['legacy', 'referrer']);
  for (const s of found) {
    assert.equal(s.digest, img.digest);
    assert.equal(s.identity, undefined);
  }
  // The peer agrees on the same image.
  const c = await cosign(cosignBin, ['verify', '--key', join(keys, 'cosign.pub'), '--trusted-root', serve.trustedRoot, img.ref], env);
  assert.equal(c.code, 0, c.stderr);
  // Another key, or an identity policy, does not verify a keyed signature.
  const wrongKey = await keyless([
    'verify',
    '--key',
    join(other, 'cosign.pub'),
    '--trusted-root',
    serve.trustedRoot,
    img.tagRef,
    '--verbose',
  ]);
  assert.equal(wrongKey.code, 1, wrongKey.stderr);
  assert.match(wrongKey.stderr, /none of the 2 signature\(s\)/);
  const byIdentity = await keyless(['verify', img.tagRef, ...keylessVerifyArgs()]);
  assert.equal(byIdentity.code, 1, byIdentity.stderr);
  // A key and an identity at once is a usage error.
  const both = await keyless(['verify', '--key', join(keys, 'cosign.pub'), img.tagRef, ...keylessVerifyArgs()]);
  assert.equal(both.code, 2, both.stderr);
});
