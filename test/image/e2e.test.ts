// @integration: starts real registries, `keyless serve` and peers on loopback
// Images end to end: `keyless serve` as the Sigstore side, a real registry on loopback —
// Debian's docker-registry 2.8.2 (no referrers API: the fallback tag), go-containerregistry's
// registry with its referrers API on (test/support/ggcr-registry) and the spec-following
// referrers-API registry — images built and pushed by the test, `bin/keyless sign|verify`
// as processes. The same suite runs against each registry.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { startServe, keyless, type Serve } from '../sign/serve-helper.js';
import { startDockerRegistry } from '../support/docker-registry.js';
import { startSpecRegistry } from '../support/oci-registry.js';
import { startGgcrRegistry } from '../support/ggcr-registry.js';
import { pushImage, pushIndex } from '../support/images.js';
import { RegistryClient, OCI_MANIFEST, OCI_EMPTY, EMPTY_JSON, type Repository } from '../../src/registry/index.js';
import { sha256 } from '../../src/core/hash.js';

const EMAIL = 'image-signer@example.com';
const OCI_EMPTY_DIGEST = `sha256:${sha256(EMPTY_JSON).toString('hex')}`;
let serve: Serve;
let token: string;
let issuer: string;
let work: string;

before(async () => {
  serve = await startServe();
  work = mkdtempSync(join(tmpdir(), 'keyless-image-e2e-'));
  const t = await keyless(['dev-token', '--url', serve.url, '--email', EMAIL]);
  assert.equal(t.code, 0, t.stderr);
  token = t.stdout.trim();
  issuer = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iss as string;
});
after(async () => {
  await serve?.stop();
});

type Json = Record<string, any>;

function signArgs(v: 1 | 2 = 2): string[] {
  return ['--identity-token', token, '--signing-config', serve.signingConfig(v), '--trusted-root', serve.trustedRoot, '-y'];
}
function verifyArgs(identity = EMAIL, iss = issuer): string[] {
  return ['--certificate-identity', identity, '--certificate-oidc-issuer', iss, '--trusted-root', serve.trustedRoot];
}

const registries = [
  { label: 'docker-registry 2.8.2 (fallback tag)', start: () => startDockerRegistry(), via: 'fallback' },
  { label: 'referrers-API registry', start: () => startSpecRegistry(), via: 'api' },
  { label: "go-containerregistry's registry (referrers API)", start: () => startGgcrRegistry(), via: 'api' },
] as const;

for (const kind of registries) {
  describe(kind.label, () => {
    let registry: { host: string; stop(): Promise<void> };
    let client: RegistryClient;
    before(async () => {
      registry = await kind.start();
      client = new RegistryClient();
    });
    after(async () => {
      await registry?.stop();
    });

    for (const v of [1, 2] as const) {
      test(`sign by tag over Rekor v${v}, verify; @sigstore/verify accepts the pushed bundle; another image, a moved tag, a wrong identity fail`, async () => {
        const repo: Repository = { registry: registry.host, repository: `team/app-v${v}` };
        const image = await pushImage(client, repo, 'v1');
        const other = await pushImage(client, repo, 'other');
        const r = await keyless(['sign', `${registry.host}/${repo.repository}:v1`, '-a', 'env=prod', ...signArgs(v)]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`Signed ${registry.host}/${repo.repository}@${image.digest} \\(tag v1\\)`));
        assert.equal(r.stdout, '');

        const ok = await keyless([
          'verify',
          `${registry.host}/${repo.repository}:v1`,
          ...verifyArgs(),
          '-a',
          'env=prod',
          '--output',
          'json',
        ]);
        assert.equal(ok.code, 0, ok.stderr);
        const list = JSON.parse(ok.stdout) as Json[];
        assert.equal(list.length, 1);
        assert.equal(list[0]!.identity, EMAIL);
        assert.equal(list[0]!.issuer, issuer);
        assert.equal(list[0]!.digest, image.digest);
        assert.deepEqual(list[0]!.annotations, { env: 'prod' });
        assert.equal(list[0]!.layout, 'referrer');

        // The registry holds a referrer manifest with the bundle; a peer verifies it against the image digest.
        const { manifests, via } = await client.referrers(repo, image.digest);
        assert.equal(via, kind.via);
        assert.equal(manifests.length, 1);
        const m = await client.getManifest(repo, manifests[0]!.digest);
        assert.equal(m.json.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
        assert.equal((m.json.subject as Json).digest, image.digest);
        const layer = (m.json.layers as Json[])[0]!;
        const bundle = JSON.parse((await client.getBlob(repo, layer.digest)).toString()) as Json;
        if (v === 1) jsVerify(bundle, EMAIL);
        else assert.throws(() => jsVerify(bundle, EMAIL), { code: 'TLOG_BODY_ERROR' }); // @sigstore/verify 3.1.1 and Rekor v2 DSSE: see test/sign/e2e.test.ts
        const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as Json;
        assert.deepEqual(statement.subject, [{ digest: { sha256: image.digest.slice(7) }, annotations: { env: 'prod' } }]);
        assert.equal(statement.predicateType, 'https://sigstore.dev/cosign/sign/v1');

        // Another image in the same repository: nothing attached.
        const none = await keyless(['verify', `${registry.host}/${repo.repository}:other`, ...verifyArgs()]);
        assert.equal(none.code, 1);
        assert.match(none.stderr, /no signatures found/);
        assert.ok(!none.stderr.includes('    at '), 'no stack trace');
        // The tag moved to the other image after signing: it is that image that is checked.
        await client.putManifest(repo, 'v1', (await client.getManifest(repo, other.digest)).bytes, OCI_MANIFEST);
        const moved = await keyless(['verify', `${registry.host}/${repo.repository}:v1`, ...verifyArgs()]);
        assert.equal(moved.code, 1);
        assert.match(moved.stderr, /no signatures found/);
        // Pinned by digest it still verifies; with another identity, issuer or a missing annotation it does not.
        const pinned = await keyless(['verify', image.ref, ...verifyArgs()]);
        assert.equal(pinned.code, 0, pinned.stderr);
        assert.match(
          pinned.stdout,
          new RegExp(
            `^Verified OK: ${registry.host}/${repo.repository}@${image.digest} signed by ${EMAIL} \\(issuer ${issuer}\\) at .*, log index \\d+.*annotations env=prod \\[referrer\\]$`,
            'm',
          ),
        );
        const wrongId = await keyless(['verify', image.ref, ...verifyArgs('mallory@example.com')]);
        assert.equal(wrongId.code, 1);
        assert.match(wrongId.stderr, /none of the 1 signature\(s\).*identity/);
        assert.equal((await keyless(['verify', image.ref, ...verifyArgs(EMAIL, 'https://other-issuer.example')])).code, 1);
        const missing = await keyless(['verify', image.ref, ...verifyArgs(), '-a', 'team=payments']);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /annotation team=payments is missing/);
      });
    }

    test('an altered referrer bundle and junk referrers are skipped or fail, never crash', async () => {
      const repo: Repository = { registry: registry.host, repository: 'team/tamper' };
      const image = await pushImage(client, repo, 'v1');
      assert.equal((await keyless(['sign', image.ref, ...signArgs()])).code, 0);
      // Junk referrers next to the real one: a layer that is not a bundle, an unparseable bundle.
      for (const [mediaType, content] of [
        ['application/octet-stream', 'junk'],
        ['application/vnd.dev.sigstore.bundle.v0.3+json', '{not json'],
      ] as const) {
        await attach(client, repo, image, mediaType, Buffer.from(content));
      }
      const verbose = await keyless(['verify', image.ref, ...verifyArgs(), '--verbose']);
      assert.equal(verbose.code, 0, verbose.stderr);
      assert.match(verbose.stderr, /3 candidate\(s\).*1 verified, 0 failed, 2 skipped/);
      assert.match(verbose.stderr, /skipped: .*no Sigstore bundle layer/);
      assert.match(verbose.stderr, /skipped: .*not JSON/);
      // Now an altered copy of the real bundle (another signature) as the only valid-looking one.
      const repo2: Repository = { registry: registry.host, repository: 'team/tamper2' };
      const image2 = await pushImage(client, repo2, 'v1');
      const out = join(work, 'unsigned.json');
      assert.equal((await keyless(['sign', image2.ref, ...signArgs(), '--upload=false', '--bundle', out])).code, 0);
      assert.equal((await client.referrers(repo2, image2.digest)).manifests.length, 0, '--upload=false pushes nothing');
      const b = JSON.parse(readFileSync(out, 'utf8')) as Json;
      const payload = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString()) as Json;
      payload.subject[0].annotations = { forged: 'yes' };
      b.dsseEnvelope.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
      await attach(client, repo2, image2, 'application/vnd.dev.sigstore.bundle.v0.3+json', Buffer.from(JSON.stringify(b)));
      const altered = await keyless(['verify', image2.ref, ...verifyArgs()]);
      assert.equal(altered.code, 1);
      assert.match(altered.stderr, /none of the 1 signature\(s\)/);
    });

    test('--recursive signs an index and both platform manifests with one certificate', async () => {
      const repo: Repository = { registry: registry.host, repository: 'team/multi' };
      const index = await pushIndex(client, repo, 'v1');
      const r = await keyless(['sign', '--recursive', `${registry.host}/${repo.repository}:v1`, ...signArgs()]);
      assert.equal(r.code, 0, r.stderr);
      const certs = new Set<string>();
      for (const d of [index.digest, ...index.platforms.map((p) => p.digest)]) {
        const { manifests } = await client.referrers(repo, d);
        assert.equal(manifests.length, 1, d);
        const m = await client.getManifest(repo, manifests[0]!.digest);
        const bundle = JSON.parse((await client.getBlob(repo, (m.json.layers as Json[])[0]!.digest)).toString()) as Json;
        certs.add(bundle.verificationMaterial.certificate.rawBytes);
        assert.equal((await keyless(['verify', `${registry.host}/${repo.repository}@${d}`, ...verifyArgs()])).code, 0);
      }
      assert.equal(certs.size, 1);
    });

    test('images of several repositories in one command: one certificate, the empty config mounted across repositories', async () => {
      const repos: Repository[] = ['team/mount-a', 'team/mount-b', 'team/mount-c'].map((r) => ({ registry: registry.host, repository: r }));
      const images = await Promise.all(repos.map((repo) => pushImage(client, repo, 'v1')));
      const seen = 'requests' in registry ? (registry.requests as string[]).length : 0;
      const r = await keyless(['sign', ...images.map((i) => i.ref), ...signArgs()]);
      assert.equal(r.code, 0, r.stderr);
      const log = 'requests' in registry ? (registry.requests as string[]).slice(seen) : undefined;
      const certs = new Set<string>();
      for (const [i, repo] of repos.entries()) {
        assert.ok(await client.blobExists(repo, OCI_EMPTY_DIGEST), repo.repository);
        const { manifests } = await client.referrers(repo, images[i]!.digest);
        const m = await client.getManifest(repo, manifests[0]!.digest);
        const bundle = JSON.parse((await client.getBlob(repo, (m.json.layers as Json[])[0]!.digest)).toString()) as Json;
        certs.add(bundle.verificationMaterial.certificate.rawBytes);
        assert.equal((await keyless(['verify', images[i]!.ref, ...verifyArgs()])).code, 0);
      }
      assert.equal(certs.size, 1);
      if (log) {
        // The registry's log: one repository checked for the empty config (and uploaded it
        // when missing); the other two mounted it: one POST each, no HEAD of it, and only the
        // bundle uploaded.
        const heads = log!.filter((l) => l.startsWith('HEAD /v2/team/mount-') && l.endsWith(`/blobs/${OCI_EMPTY_DIGEST}`));
        assert.equal(heads.length, 1, heads.join('\n'));
        const puts = repos.map((repo) => log!.filter((l) => l.startsWith(`PUT /v2/${repo.repository}/blobs/uploads/`)).length);
        assert.deepEqual(
          puts.filter((n) => n !== 1),
          puts.some((n) => n === 2) ? [2] : [],
        );
      }
    });
  });
}

function jsVerify(bundle: Json, identity: string): void {
  const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(serve.trustedRoot, 'utf8')));
  const verifier = new Verifier(toTrustMaterial(root), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
  verifier.verify(toSignedEntity(bundleFromJSON(bundle)), { subjectAlternativeName: identity, extensions: { issuer } });
}

/** Attaches an arbitrary one-layer referrer to an image, as another tool might. */
async function attach(
  client: RegistryClient,
  repo: Repository,
  image: { descriptor: { mediaType: string; digest: string; size: number }; digest: string },
  mediaType: string,
  content: Buffer,
): Promise<void> {
  const config = await client.pushBlob(repo, EMPTY_JSON, OCI_EMPTY);
  const layer = await client.pushBlob(repo, content, mediaType);
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: mediaType,
      config,
      layers: [layer],
      subject: image.descriptor,
    }),
  );
  await client.pushReferrer(
    repo,
    bytes,
    { mediaType: OCI_MANIFEST, digest: `sha256:${sha256(bytes).toString('hex')}`, size: bytes.length, artifactType: mediaType },
    image.digest,
  );
}
