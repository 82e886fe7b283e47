// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The Rekor v1 API as Rekor's own client sees it: rekor-cli (sigstore/rekor, built from the
// OpenAPI spec's generated client, as cosign's Rekor calls are; .ci/run installs the pinned
// version) against a real `keyless serve`. It uploads, meets its own duplicate, verifies an
// entry's signed entry timestamp, inclusion proof and checkpoint, searches the index (a DSSE
// entry by its statement's subject and SLSA material digests too), and proves the log
// consistent between two of its own visits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, keyless, signingFlags, type Serve } from '../sign/serve-helper.js';
import { findGoPeer, runPeer } from '../support/go-peers.js';

const REKOR_CLI_VERSION = 'v1.5.4';
let rekorCli: string;
let serve: Serve;
let work: string;
let home: string;

/** rekor-cli against the serve's Rekor v1 log, its state (the last verified tree head) kept in `home`. */
const rekor = (...args: string[]) => runPeer(rekorCli, [...args, '--rekor_server', serve.url], { HOME: home });

/** An artifact signed with a new P-256 key: the files rekor-cli takes. */
function signedArtifact(name: string): string[] {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const artifact = join(work, name);
  writeFileSync(artifact, `${name}\n`);
  writeFileSync(`${artifact}.sig`, sign('sha256', Buffer.from(`${name}\n`), keys.privateKey));
  writeFileSync(`${artifact}.pub`, keys.publicKey.export({ format: 'pem', type: 'spki' }));
  return [
    '--artifact',
    artifact,
    '--signature',
    `${artifact}.sig`,
    '--public-key',
    `${artifact}.pub`,
    '--pki-format',
    'x509',
    '--type',
    'hashedrekord',
  ];
}

before(async () => {
  rekorCli = findGoPeer('rekor-cli', 'KEYLESS_REKOR_CLI', `go install github.com/sigstore/rekor/cmd/rekor-cli@${REKOR_CLI_VERSION}`);
  serve = await startServe();
  work = mkdtempSync(join(tmpdir(), 'keyless-rekor-cli-'));
  home = join(work, 'home');
  mkdirSync(home);
});
after(async () => {
  await serve?.stop();
});

test('rekor-cli uploads, sees its duplicate as one, verifies entries and the log, and searches the index', async () => {
  const first = signedArtifact('first.txt');
  const up = await rekor('upload', ...first);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /Created entry at index 0, available at: .*\/api\/v1\/log\/entries\/[0-9a-f]{80}/);
  const info = await rekor('loginfo');
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /Verification Successful!/);

  // The same entry again: a 409 the generated client understands as "already exists".
  const again = await rekor('upload', ...first);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Entry already exists; available at: .*\/api\/v1\/log\/entries\/[0-9a-f]{80}/);

  // A keyless signature through the same log (index 1), then one more upload.
  const token = (await keyless(['dev-token', '--url', serve.url, '--email', 'rekor-cli@example.com'])).stdout.trim();
  writeFileSync(join(work, 'blob'), 'keyless\n');
  const signed = await keyless(['sign-blob', join(work, 'blob'), '--bundle', join(work, 'blob.json'), ...signingFlags(serve, token, 1)]);
  assert.equal(signed.code, 0, signed.stderr);
  assert.equal((await rekor('upload', ...signedArtifact('third.txt'))).code, 0);

  // loginfo again: the tree head is verified and proven consistent with the one it kept.
  const later = await rekor('loginfo');
  assert.equal(later.code, 0, later.stderr);
  assert.match(later.stdout, /Verification Successful!/);
  assert.match(later.stdout, /Active Tree Size:\s+3/);

  // get verifies the signed entry timestamp, the inclusion proof and the checkpoint signature.
  for (const index of ['0', '1', '2']) {
    const got = await rekor('get', '--log-index', index);
    assert.equal(got.code, 0, `${index}: ${got.stderr}`);
    assert.match(got.stdout, new RegExp(`Index: ${index}\\b`));
  }
  const verified = await rekor('verify', ...first);
  assert.equal(verified.code, 0, verified.stderr);
  const computed = /Computed Root Hash: ([0-9a-f]{64})/.exec(verified.stdout)?.[1];
  assert.ok(computed, verified.stdout);
  assert.equal(/Expected Root Hash: ([0-9a-f]{64})/.exec(verified.stdout)?.[1], computed);
  // A signature the log never saw is not found.
  const unknown = await rekor('verify', ...signedArtifact('never-uploaded.txt'));
  assert.notEqual(unknown.code, 0);

  // The index: by the certificate's e-mail, and by the artifact's hash.
  const byEmail = await rekor('search', '--email', 'rekor-cli@example.com');
  assert.equal(byEmail.code, 0, byEmail.stderr);
  assert.equal(byEmail.stdout.match(/^[0-9a-f]{80}$/gm)?.length, 1, byEmail.stdout);
  const byArtifact = await rekor('search', '--artifact', join(work, 'first.txt'));
  assert.equal(byArtifact.code, 0, byArtifact.stderr);
  assert.equal(byArtifact.stdout.match(/^[0-9a-f]{80}$/gm)?.length, 1, byArtifact.stdout);
});

test('rekor-cli uploads a DSSE envelope of a SLSA provenance; searching by a subject or material digest finds it, as on Rekor', async () => {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const subject = createHash('sha256').update('the attested artifact').digest('hex');
  const material = createHash('sha256').update('the source it was built from').digest('hex');
  const payload = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      subject: [{ name: 'artifact', digest: { sha256: subject } }],
      predicateType: 'https://slsa.dev/provenance/v0.2',
      predicate: {
        builder: { id: 'https://example.com/builder' },
        materials: [{ uri: 'git+https://example.com/repo', digest: { sha256: material } }],
      },
    }),
  );
  const payloadType = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `), payload]);
  const envelope = join(work, 'envelope.json');
  writeFileSync(
    envelope,
    JSON.stringify({
      payloadType,
      payload: payload.toString('base64'),
      signatures: [{ keyid: '', sig: sign('sha256', pae, keys.privateKey).toString('base64') }],
    }),
  );
  const pub = join(work, 'envelope.pub');
  writeFileSync(pub, keys.publicKey.export({ format: 'pem', type: 'spki' }));
  const up = await rekor('upload', '--type', 'dsse', '--artifact', envelope, '--public-key', pub, '--pki-format', 'x509');
  assert.equal(up.code, 0, up.stderr);
  const id = /available at: .*\/api\/v1\/log\/entries\/([0-9a-f]{80})/.exec(up.stdout)?.[1];
  assert.ok(id, up.stdout);
  for (const digest of [subject, material]) {
    const found = await rekor('search', '--sha', digest);
    assert.equal(found.code, 0, found.stderr);
    assert.deepEqual(found.stdout.match(/^[0-9a-f]{80}$/gm), [id]);
  }
  // A digest no statement names finds nothing.
  const none = await rekor('search', '--sha', createHash('sha256').update('something else').digest('hex'));
  assert.doesNotMatch(none.stdout, /^[0-9a-f]{80}$/m);
});
