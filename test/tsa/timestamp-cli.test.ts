// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The timestamp authority as the reference client uses it: timestamp-cli (sigstore's
// timestamp-authority; .ci/run installs the pinned version) asks a real `keyless serve` for
// RFC 3161 timestamps (with and without the certificate, SHA-256 and SHA-512) and verifies
// them against the TSA chain the serve publishes; a timestamp over other bytes is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, type Serve } from '../sign/serve-helper.js';
import { findGoPeer, runPeer } from '../support/go-peers.js';

const TIMESTAMP_CLI_VERSION = 'v2.1.3';
let timestampCli: string;
let serve: Serve;
let work: string;

const cli = (...args: string[]) => runPeer(timestampCli, args, { HOME: work });

before(async () => {
  timestampCli = findGoPeer(
    'timestamp-cli',
    'KEYLESS_TIMESTAMP_CLI',
    `go install github.com/sigstore/timestamp-authority/v2/cmd/timestamp-cli@${TIMESTAMP_CLI_VERSION}`,
  );
  serve = await startServe();
  work = mkdtempSync(join(tmpdir(), 'keyless-timestamp-cli-'));
});
after(async () => {
  await serve?.stop();
});

test('timestamp-cli gets timestamps from the TSA and verifies them against its chain; other bytes fail', async () => {
  const pems = readFileSync(join(serve.dataDir, 'tsa.chain.pem'), 'utf8').match(
    /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g,
  )!;
  assert.equal(pems.length, 2);
  const [leaf, root] = [join(work, 'tsa-leaf.pem'), join(work, 'tsa-root.pem')];
  writeFileSync(leaf, pems[0]!);
  writeFileSync(root, pems[1]!);
  const artifact = join(work, 'artifact.txt');
  writeFileSync(artifact, 'timestamp me\n');
  const other = join(work, 'other.txt');
  writeFileSync(other, 'not what was timestamped\n');

  for (const [name, extra] of [
    ['sha256.tsr', []],
    ['sha512.tsr', ['--hash', 'sha512']],
    ['bare.tsr', ['--certificate=false']],
  ] as const) {
    const out = join(work, name);
    const got = await cli('timestamp', '--timestamp_server', serve.url, '--artifact', artifact, '--out', out, ...extra);
    assert.equal(got.code, 0, `${name}: ${got.stderr}`);
    assert.match(got.stdout + got.stderr, /Artifact timestamped at/);
    // Without the certificate in the response, the leaf is given to the verifier.
    const chainArgs = name === 'bare.tsr' ? ['--certificate', leaf, '--certificate-chain', root] : ['--certificate-chain', root];
    const ok = await cli('verify', '--timestamp', out, '--artifact', artifact, ...chainArgs);
    assert.equal(ok.code, 0, `${name}: ${ok.stderr}`);
    assert.match(ok.stdout + ok.stderr, /Successfully verified timestamp/);
    const bad = await cli('verify', '--timestamp', out, '--artifact', other, ...chainArgs);
    assert.notEqual(bad.code, 0, name);
    assert.match(bad.stdout + bad.stderr, /hashed messages don't match/);
  }
  // The bare response names no leaf: verifying it needs one, and says so.
  const noLeaf = await cli('verify', '--timestamp', join(work, 'bare.tsr'), '--artifact', artifact, '--certificate-chain', root);
  assert.notEqual(noLeaf.code, 0);
});
