// @integration: starts `keyless serve` and registries on loopback
// Many images in one `keyless sign`: the registry requests it costs, counted by the
// spec-following test registry with the referrers API and without it (the fallback index,
// as on distribution 2.8.2). Counts, not times: each image costs a fixed number of requests,
// and what a repository needs once (the empty config, the referrers-API probe) is asked once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
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

// One certificate for the whole batch: the verifier checks its chain and SCTs once, but each
// new bundle's own evidence (signature, log entry with its inclusion proof and checkpoint,
// timestamp) is still checked. A log that answers the 57th entry with a broken inclusion proof
// makes the command fail, and that bundle is never pushed.
test('a tampered transparency-log answer for the 57th image of a batch is refused, after 56 good ones on the same certificate', async () => {
  const TAMPERED = 57;
  const registry = await startSpecRegistry({ referrersApi: true });
  const upstream = new URL(serve.url);
  let entries = 0;
  let tamperedIndex: string | undefined;
  // A proxy in front of the Rekor v2 log: forwards everything, breaks one answer.
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const isEntry = req.method === 'POST' && (req.url ?? '').endsWith('/api/v2/log/entries');
      const n = isEntry ? ++entries : 0;
      const fwd = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: upstream.host },
        },
        (up) => {
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => body.push(c));
          up.on('end', () => {
            let out = Buffer.concat(body);
            if (n === TAMPERED && up.statusCode! < 300) {
              const tle = JSON.parse(out.toString('utf8')) as {
                logIndex: string;
                inclusionProof: { rootHash: string; hashes?: string[] };
              };
              const proof = tle.inclusionProof;
              const target = proof.hashes && proof.hashes.length > 0 ? proof.hashes : undefined;
              const flip = (b64: string) => {
                const b = Buffer.from(b64, 'base64');
                b[0]! ^= 0x01;
                return b.toString('base64');
              };
              if (target) target[0] = flip(target[0]!);
              else proof.rootHash = flip(proof.rootHash);
              tamperedIndex = tle.logIndex;
              out = Buffer.from(JSON.stringify(tle));
            }
            const headers = { ...up.headers, 'content-length': String(out.length) };
            delete headers['transfer-encoding'];
            res.writeHead(up.statusCode ?? 502, headers).end(out);
          });
        },
      );
      fwd.on('error', () => res.writeHead(502).end());
      fwd.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyOrigin = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  try {
    const config = JSON.parse(readFileSync(serve.signingConfig(2), 'utf8')) as { rekorTlogUrls: Array<{ url: string }> };
    for (const t of config.rekorTlogUrls) t.url = proxyOrigin + new URL(t.url).pathname.replace(/\/$/, '');
    const dir = mkdtempSync(join(tmpdir(), 'keyless-batch-tamper-'));
    const signingConfig = join(dir, 'signing_config.json');
    writeFileSync(signingConfig, JSON.stringify(config));

    const client = new RegistryClient();
    const repo: Repository = { registry: registry.host, repository: 'team/tamper-batch' };
    const images = [];
    for (let i = 0; i < 64; i++) images.push(await pushImage(client, repo, undefined));
    const r = await keyless([
      'sign',
      ...images.map((i) => i.ref),
      '--identity-token',
      token,
      '--signing-config',
      signingConfig,
      '--trusted-root',
      serve.trustedRoot,
      '-y',
    ]);
    assert.notEqual(r.code, 0, r.stderr);
    assert.ok(tamperedIndex !== undefined, `the log was asked for ${entries} entries, fewer than ${TAMPERED}`);
    assert.match(r.stderr, /does not verify/);
    assert.match(r.stderr, /inclusion/i);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const signed = r.stderr.split('\n').filter((l) => l.startsWith('Signed ')).length;
    assert.ok(signed >= TAMPERED - 16 && signed < images.length, `${signed} images signed\n${r.stderr}`);

    // What was pushed is exactly what verified: one referrer per "Signed" line, none with the broken entry.
    let pushed = 0;
    for (const image of images) {
      for (const m of (await client.referrers(repo, image.digest)).manifests) {
        pushed++;
        const manifest = await client.getManifest(repo, m.digest);
        const layer = (manifest.json.layers as Array<{ digest: string }>)[0]!;
        const bundle = JSON.parse((await client.getBlob(repo, layer.digest)).toString('utf8')) as {
          verificationMaterial: { tlogEntries: Array<{ logIndex: string }> };
        };
        assert.notEqual(bundle.verificationMaterial.tlogEntries[0]!.logIndex, tamperedIndex, `${image.digest} carries the tampered entry`);
      }
    }
    assert.equal(pushed, signed);
  } finally {
    await new Promise((r) => proxy.close(r));
    await registry.stop();
  }
});
