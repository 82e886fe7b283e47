// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// `keyless serve` writes each service's public key (and the CA's and TSA's chains) as PEM
// beside the trust files: the same keys trusted_root.json carries, rewritten on every start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, SERVICE_MODULES } from '../../src/server/index.js';
import { runKeyless, tempDir } from './helpers.js';

interface LogJson {
  baseUrl: string;
  publicKey: { rawBytes: string; validFor: { start: string } };
  logId: { keyId: string };
}
interface AuthorityJson {
  uri: string;
  certChain: { certificates: { rawBytes: string }[] };
}
interface RootJson {
  tlogs: LogJson[];
  ctlogs: LogJson[];
  certificateAuthorities: AuthorityJson[];
  timestampAuthorities: AuthorityJson[];
}

/** The SPKI DER of a PEM public key file, base64 (as trusted_root.json spells rawBytes). */
function spkiOf(path: string): string {
  const text = readFileSync(path, 'utf8');
  assert.match(text, /^-----BEGIN PUBLIC KEY-----\n/, path);
  return createPublicKey(text).export({ format: 'der', type: 'spki' }).toString('base64');
}

/** The DER certificates of a PEM chain file, base64. */
function chainOf(path: string): string[] {
  return [...readFileSync(path, 'utf8').matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) =>
    Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64').toString('base64'),
  );
}

function certificateSpki(derBase64: string): string {
  const pem = `-----BEGIN CERTIFICATE-----\n${derBase64}\n-----END CERTIFICATE-----\n`;
  return createPublicKey(pem).export({ format: 'der', type: 'spki' }).toString('base64');
}

test('serve writes fulcio/ctlog/rekor/rekor-v2/tsa .pub.pem and the CA and TSA chains, equal to trusted_root.json, and rewrites them each start', async () => {
  const dataDir = join(tempDir(), 'data');
  let server = await startServer({ dataDir, host: '127.0.0.1', port: 0 });
  let expectedNames: string[];
  try {
    const root = JSON.parse(readFileSync(join(dataDir, 'trusted_root.json'), 'utf8')) as RootJson;
    const signingConfig = JSON.parse(readFileSync(join(dataDir, 'signing_config.json'), 'utf8')) as {
      rekorTlogUrls: { url: string; majorApiVersion: number }[];
    };
    expectedNames = [
      'ctlog.pub.pem',
      'fulcio.chain.pem',
      'fulcio.pub.pem',
      'rekor-v2.pub.pem',
      'rekor.pub.pem',
      'tsa.chain.pem',
      'tsa.pub.pem',
    ];
    assert.deepEqual(
      readdirSync(dataDir)
        .filter((f) => f.endsWith('.pem'))
        .sort(),
      expectedNames,
    );
    assert.deepEqual(server.services.publicKeyFiles.map((p) => p.slice(dataDir.length + 1)).sort(), expectedNames);
    for (const f of expectedNames) assert.equal(statSync(join(dataDir, f)).mode & 0o777, 0o644, `${f} is public`);

    // Both logs live at the public URL; Rekor v1's log ID is the SHA-256 of its key, which
    // tells the two apart.
    const rekor = spkiOf(join(dataDir, 'rekor.pub.pem'));
    const rekorV2 = spkiOf(join(dataDir, 'rekor-v2.pub.pem'));
    assert.deepEqual(root.tlogs.map((t) => t.publicKey.rawBytes).sort(), [rekor, rekorV2].sort());
    const v1 = root.tlogs.find((t) => t.publicKey.rawBytes === rekor)!;
    assert.equal(createHash('sha256').update(Buffer.from(rekor, 'base64')).digest('base64'), v1.logId.keyId);
    assert.ok(signingConfig.rekorTlogUrls.some((u) => u.majorApiVersion === 2 && u.url === root.tlogs.find((t) => t !== v1)!.baseUrl));
    assert.equal(spkiOf(join(dataDir, 'ctlog.pub.pem')), root.ctlogs[0]!.publicKey.rawBytes);

    const caChain = root.certificateAuthorities[0]!.certChain.certificates.map((c) => c.rawBytes);
    assert.deepEqual(chainOf(join(dataDir, 'fulcio.chain.pem')), caChain);
    assert.equal(spkiOf(join(dataDir, 'fulcio.pub.pem')), certificateSpki(caChain[0]!), "the CA's key is its issuing certificate's");
    const tsaChain = root.timestampAuthorities[0]!.certChain.certificates.map((c) => c.rawBytes);
    assert.deepEqual(chainOf(join(dataDir, 'tsa.chain.pem')), tsaChain);
    assert.equal(spkiOf(join(dataDir, 'tsa.pub.pem')), certificateSpki(tsaChain[0]!), "the TSA's key is its signing certificate's");

    // Rebuilt by hand from the PEM files (and the start times and URLs a person would read
    // off the running server): the same keys, log IDs and chains as the served root.
    const v2 = root.tlogs.find((t) => t !== v1)!;
    const rebuilt = join(dataDir, '..', 'rebuilt_trusted_root.json');
    const r = await runKeyless([
      'trusted-root',
      'create',
      '--fulcio',
      `url=${root.certificateAuthorities[0]!.uri},certificate-chain=${join(dataDir, 'fulcio.chain.pem')}`,
      '--rekor',
      `url=${v1.baseUrl},public-key=${join(dataDir, 'rekor.pub.pem')},start-time=${v1.publicKey.validFor.start}`,
      '--rekor',
      `url=${v2.baseUrl},public-key=${join(dataDir, 'rekor-v2.pub.pem')},start-time=${v2.publicKey.validFor.start},origin=${new URL(server.url).hostname}`,
      '--ctfe',
      `url=${root.ctlogs[0]!.baseUrl},public-key=${join(dataDir, 'ctlog.pub.pem')},start-time=${root.ctlogs[0]!.publicKey.validFor.start}`,
      '--tsa',
      `url=${root.timestampAuthorities[0]!.uri},certificate-chain=${join(dataDir, 'tsa.chain.pem')}`,
      '--out',
      rebuilt,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const again = JSON.parse(readFileSync(rebuilt, 'utf8')) as RootJson;
    const logs = (x: RootJson) => x.tlogs.map((t) => `${t.publicKey.rawBytes} ${t.logId.keyId}`).sort();
    assert.deepEqual(logs(again), logs(root));
    assert.deepEqual(
      again.ctlogs.map((c) => [c.publicKey.rawBytes, c.logId.keyId]),
      root.ctlogs.map((c) => [c.publicKey.rawBytes, c.logId.keyId]),
    );
    assert.deepEqual(again.certificateAuthorities[0]!.certChain, root.certificateAuthorities[0]!.certChain);
    assert.deepEqual(again.timestampAuthorities[0]!.certChain, root.timestampAuthorities[0]!.certChain);
  } finally {
    await server.close();
  }

  // Edited by hand, or left from a service no longer served: the next start puts things right.
  const rekorPub = readFileSync(join(dataDir, 'rekor.pub.pem'), 'utf8');
  writeFileSync(join(dataDir, 'rekor.pub.pem'), readFileSync(join(dataDir, 'ctlog.pub.pem')));
  writeFileSync(join(dataDir, 'rekor-v2-retired-7.pub.pem'), rekorPub);
  writeFileSync(join(dataDir, 'notes.pem'), 'not ours\n');
  server = await startServer({ dataDir, host: '127.0.0.1', port: 0, modules: SERVICE_MODULES.filter((m) => m.name === 'rekor') });
  try {
    assert.equal(readFileSync(join(dataDir, 'rekor.pub.pem'), 'utf8'), rekorPub, 'rewritten from the key');
    assert.ok(!existsSync(join(dataDir, 'rekor-v2-retired-7.pub.pem')), 'a file of no served service is removed');
    for (const f of ['fulcio.pub.pem', 'fulcio.chain.pem', 'ctlog.pub.pem', 'tsa.pub.pem', 'tsa.chain.pem'])
      assert.ok(!existsSync(join(dataDir, f)), `${f}: its service is off`);
    assert.ok(existsSync(join(dataDir, 'rekor-v2.pub.pem')));
    assert.equal(readFileSync(join(dataDir, 'notes.pem'), 'utf8'), 'not ours\n', 'files not named like ours are left alone');
  } finally {
    await server.close();
  }
});
