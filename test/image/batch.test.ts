// @integration: starts `keyless serve` and registries on loopback
// Many images in one `keyless sign`: the registry requests it costs, counted by the
// spec-following test registry with the referrers API and without it (the fallback index,
// as on distribution 2.8.2). Counts, not times: each image costs a fixed number of requests,
// and what a repository needs once (the empty config, the referrers-API probe) is asked once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServe, keyless, type Serve } from '../sign/serve-helper.js';
import { startSpecRegistry, type SpecRegistry } from '../support/oci-registry.js';
import { pushImage, pushIndex } from '../support/images.js';
import { RegistryClient, fallbackTag, EMPTY_JSON, type Repository } from '../../src/registry/index.js';
import { sha256 } from '../../src/core/hash.js';

const EMAIL = 'batch-signer@example.com';
const EMPTY_DIGEST = `sha256:${sha256(EMPTY_JSON).toString('hex')}`;
const IMAGES = 10;
let serve: Serve;
let token: string;

before(async () => {
  serve = await startServe();
  const t = await keyless(['dev-token', '--url', serve.url, '--email', EMAIL]);
  assert.equal(t.code, 0, t.stderr);
  token = t.stdout.trim();
});
after(async () => {
  await serve?.stop();
});

for (const referrersApi of [false, true]) {
  test(`${IMAGES} images, an index with --recursive and a platform named again, one command (${referrersApi ? 'referrers API' : 'fallback index'}): requests per image are bounded`, async () => {
    const registry: SpecRegistry = await startSpecRegistry({ referrersApi });
    try {
      const client = new RegistryClient();
      const repo: Repository = { registry: registry.host, repository: 'team/batch' };
      const images = [];
      for (let i = 0; i < IMAGES; i++) images.push(await pushImage(client, repo, undefined));
      const index = await pushIndex(client, repo, 'multi');
      const again = index.platforms[0]!;
      // Signatures: the images, the index and its two platforms, and the first platform once more.
      const signatures = IMAGES + 1 + 2 + 1;
      const seen = registry.requests.length;
      const r = await keyless([
        'sign',
        '--recursive',
        ...images.map((i) => i.ref),
        `${registry.host}/${repo.repository}:multi`,
        again.ref,
        '--identity-token',
        token,
        '--signing-config',
        serve.signingConfig(2),
        '--trusted-root',
        serve.trustedRoot,
        '-y',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const log = registry.requests.slice(seen);
      const count = (p: (l: string) => boolean) => log.filter(p).length;

      // Resolving: a HEAD per reference, and the index read for its platforms.
      const resolving = IMAGES + 2 + 1;
      // Once per repository: the empty config (HEAD, POST, PUT).
      assert.equal(
        count((l) => l === `HEAD /v2/team/batch/blobs/${EMPTY_DIGEST}`),
        1,
        log.join('\n'),
      );
      // Per signature: the bundle (POST, PUT) and the referrer manifest (PUT).
      let perSignature = 3;
      if (referrersApi) {
        // The registry answers OCI-Subject: nothing asked about referrers, no fallback tag.
        assert.equal(
          count((l) => l.includes('/referrers/')),
          0,
          log.join('\n'),
        );
        assert.equal(
          count((l) => /\/manifests\/sha256-[0-9a-f]{64}$/.test(l)),
          0,
          log.join('\n'),
        );
      } else {
        // One probe of the referrers API for the whole batch, then per signature the fallback
        // index read, written and read back; two signatures of one digest update it in turn.
        assert.equal(
          count((l) => l.includes('/referrers/')),
          1,
          log.join('\n'),
        );
        perSignature += 3;
        for (const d of [...images.map((i) => i.digest), index.digest, ...index.platforms.map((p) => p.digest)]) {
          const n = d === again.digest ? 2 : 1;
          const tag = `/v2/team/batch/manifests/${fallbackTag(d)}`;
          assert.equal(
            count((l) => l === `PUT ${tag}`),
            n,
            `${d}\n${log.join('\n')}`,
          );
          // Read and read back; the second update of one digest does not trust a read made
          // before the first one finished, and reads again.
          const reads = count((l) => l === `GET ${tag}`);
          assert.ok(n === 1 ? reads === 2 : reads >= 4 && reads <= 5, `${d}: ${reads} reads\n${log.join('\n')}`);
        }
      }
      const bound = resolving + 3 + (referrersApi ? 0 : 2) + perSignature * signatures;
      assert.ok(log.length <= bound, `${log.length} requests for ${signatures} signatures, at most ${bound} expected:\n${log.join('\n')}`);

      // Everything signed is findable: one referrer per image, two for the platform signed twice.
      for (const d of [...images.map((i) => i.digest), index.digest, ...index.platforms.map((p) => p.digest)]) {
        const { manifests, via } = await client.referrers(repo, d);
        assert.equal(via, referrersApi ? 'api' : 'fallback');
        assert.equal(manifests.length, d === again.digest ? 2 : 1, d);
      }
    } finally {
      await registry.stop();
    }
  });
}
