// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { X509Certificate, generateKeyPairSync, sign } from 'node:crypto';
import { toTrustMaterial } from '@sigstore/verify';
import { TSAWitness } from '@sigstore/sign';
import { join } from 'node:path';
import { startServe, tempDir, runKeyless, signOnce } from './helpers.js';

test('keyless serve prints its URL, answers /healthz, and exits 0 on SIGTERM', async () => {
  const server = await startServe();
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ok');
    const missing = await fetch(`${server.url}/no/such/path`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { code: string }).code, 'NOT_FOUND');
  } finally {
    assert.equal(await server.stop('SIGTERM'), 0);
  }
});

test('SIGINT stops the server gracefully too', async () => {
  const server = await startServe();
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  assert.equal(await server.stop('SIGINT'), 0);
});

test('a bad configuration file or flag fails before serving', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ keys: { ca: 'dsa-1024' } }));
  const bad = await runKeyless(['serve', '--data-dir', join(dir, 'd'), '--port', '0', '--config', join(dir, 'config.json')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /config\.keys\.ca/);
  assert.equal(bad.stdout, '');
  const usage = await runKeyless(['serve', '--port', 'eighty']);
  assert.equal(usage.code, 2);
});

test('restart on the same data directory keeps keys and trust files byte for byte, and the logs continue', async () => {
  const dataDir = join(tempDir(), 'data');
  const first = await startServe({ dataDir });
  const port = new URL(first.url).port;
  const before = [await signOnce(first.url), await signOnce(first.url)];
  assert.deepEqual(
    before.map((b) => [b.v1Index, b.v2Index]),
    [
      [0, 0],
      [1, 1],
    ],
  );
  const sthBefore = (await (await fetch(`${first.url}/ct/v1/get-sth`)).json()) as { tree_size: number; sha256_root_hash: string };
  assert.equal(sthBefore.tree_size, 2);
  const checkpointBefore = await (await fetch(`${first.url}/checkpoint`)).text();
  const files = ['trusted_root.json', 'signing_config.json'];
  const keysBefore = readdirSync(join(dataDir, 'keys'))
    .sort()
    .map((f) => [f, readFileSync(join(dataDir, 'keys', f))] as const);
  const trustBefore = files.map((f) => readFileSync(join(dataDir, f), 'utf8'));
  // The trust files are what sigstore-js reads.
  toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(trustBefore[0]!)));
  assert.equal(await first.stop(), 0);

  // Same port and public URL, so the trust files must come out identical.
  const second = await startServe({ dataDir, args: ['--public-url', `http://127.0.0.1:${port}`] });
  try {
    const keysAfter = readdirSync(join(dataDir, 'keys'))
      .sort()
      .map((f) => [f, readFileSync(join(dataDir, 'keys', f))] as const);
    assert.deepEqual(keysAfter, keysBefore);
    for (const [i, f] of files.entries()) assert.equal(readFileSync(join(dataDir, f), 'utf8'), trustBefore[i], f);
    for (const f of readdirSync(join(dataDir, 'keys'))) assert.equal(statSync(join(dataDir, 'keys', f)).mode & 0o777, 0o600, f);
    // The logs continue where they stopped: same checkpoint, next indexes, earlier entries still there.
    assert.equal(await (await fetch(`${second.url}/checkpoint`)).text(), checkpointBefore);
    const sthAfter = (await (await fetch(`${second.url}/ct/v1/get-sth`)).json()) as { tree_size: number; sha256_root_hash: string };
    assert.equal(sthAfter.sha256_root_hash, sthBefore.sha256_root_hash);
    assert.deepEqual(await signOnce(second.url), { v1Index: 2, v2Index: 2 });
    assert.equal((await fetch(`${second.url}/api/v1/log/entries?logIndex=0`)).status, 200);
    const log = (await (await fetch(`${second.url}/api/v1/log`)).json()) as { treeSize: number };
    assert.equal(log.treeSize, 3);
  } finally {
    await second.stop();
  }
});

test('the TSA answers the sigstore-js TSA client and trusted_root.json lists its chain', async () => {
  const server = await startServe();
  try {
    const tsa = new TSAWitness({ tsaBaseURL: server.url });
    const signature = Buffer.from('a signature to timestamp');
    const { rfc3161Timestamps } = await tsa.testify({ $case: 'messageSignature', messageSignature: { signature } } as never);
    assert.equal(rfc3161Timestamps.length, 1);
    const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(join(server.dataDir, 'trusted_root.json'), 'utf8')));
    assert.equal(root.timestampAuthorities.length, 1);
    assert.equal(root.timestampAuthorities[0]!.certChain!.certificates.length, 2);
    const res = await fetch(`${server.url}/api/v1/timestamp/certchain`);
    assert.equal(res.status, 200);
  } finally {
    await server.stop();
  }
});

test('the development IdP is announced loudly when on, and absent when turned off', async () => {
  const on = await startServe();
  try {
    assert.match(on.stderr(), /WARNING: the DEVELOPMENT identity provider is ON/);
    const discovery = await fetch(`${on.url}/oidc/.well-known/openid-configuration`);
    assert.equal(discovery.status, 200);
    assert.equal(((await discovery.json()) as { issuer: string }).issuer, `${on.url}/oidc`);
  } finally {
    await on.stop();
  }
  const dir = tempDir();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ devIdp: { enabled: false } }));
  const off = await startServe({ args: ['--config', join(dir, 'config.json')] });
  try {
    assert.doesNotMatch(off.stderr(), /DEVELOPMENT identity provider/);
    assert.equal((await fetch(`${off.url}/oidc/.well-known/openid-configuration`)).status, 404);
    const sc = JSON.parse(readFileSync(join(off.dataDir, 'signing_config.json'), 'utf8')) as { oidcUrls?: unknown[] };
    assert.equal(sc.oidcUrls, undefined);
  } finally {
    await off.stop();
  }
});

test('one server per data directory; a lock left by a killed server is taken over', async () => {
  const dataDir = join(tempDir(), 'data');
  const first = await startServe({ dataDir });
  try {
    const second = await runKeyless(['serve', '--data-dir', dataDir, '--port', '0']);
    assert.equal(second.code, 2);
    assert.match(second.stderr, /another keyless serve \(pid \d+\) is using/);
    assert.equal((await fetch(`${first.url}/healthz`)).status, 200, 'the first server is unaffected');
  } finally {
    assert.equal(await first.stop('SIGKILL'), null);
  }
  const again = await startServe({ dataDir });
  assert.equal((await fetch(`${again.url}/healthz`)).status, 200);
  assert.equal(await again.stop(), 0);
});

test('issuers from the configuration file reach the CA next to the dev IdP', async () => {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      issuers: [
        { issuerUrl: 'https://token.actions.githubusercontent.com', type: 'github-workflow' },
        { issuerUrl: 'https://accounts.google.com', type: 'email' },
      ],
      validity: { leafCertificateMinutes: 5 },
    }),
  );
  const server = await startServe({ args: ['--config', join(dir, 'config.json')] });
  try {
    const res = await fetch(`${server.url}/api/v2/configuration`);
    assert.equal(res.status, 200);
    const issuers = ((await res.json()) as { issuers: { issuerUrl?: string; issuerType: string }[] }).issuers;
    const urls = issuers.map((i) => i.issuerUrl);
    assert.ok(urls.includes('https://token.actions.githubusercontent.com'));
    assert.ok(urls.includes('https://accounts.google.com'));
    assert.ok(urls.includes(`${server.url}/oidc`));

    // The configured leaf validity is what the CA issues.
    const email = 'validity@example.com';
    const tokenRes = await fetch(`${server.url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&email=${email}`,
    });
    const token = ((await tokenRes.json()) as { id_token: string }).id_token;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const certRes = await fetch(`${server.url}/api/v2/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        publicKeyRequest: {
          publicKey: { algorithm: 'ECDSA', content: publicKey.export({ format: 'pem', type: 'spki' }) },
          proofOfPossession: sign('sha256', Buffer.from(email), privateKey).toString('base64'),
        },
      }),
    });
    assert.equal(certRes.status, 200);
    const leaf = new X509Certificate(
      ((await certRes.json()) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } }).signedCertificateEmbeddedSct.chain
        .certificates[0]!,
    );
    assert.equal(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom), 5 * 60_000);
  } finally {
    await server.stop();
  }
});

test('a data directory refuses another public host name with a clear error, and stays usable', async () => {
  const dataDir = join(tempDir(), 'data');
  const first = await startServe({ dataDir });
  assert.equal(await first.stop(), 0);
  const moved = await runKeyless(['serve', '--data-dir', dataDir, '--port', '0', '--public-url', 'https://sigstore.example.com']);
  assert.equal(moved.code, 2);
  assert.match(moved.stderr, /--public-url/);
  const again = await startServe({ dataDir });
  assert.equal((await fetch(`${again.url}/healthz`)).status, 200);
  assert.equal(await again.stop(), 0);
});
