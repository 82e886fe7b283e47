// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The CT log read as a CT monitor reads it: certificate-transparency-go's ctclient (the
// library monitors are built on; .ci/run installs the pinned version) against a real
// `keyless serve` whose CA has issued signing certificates. It checks the STH signature with
// the log's public key, parses every entry with its extra_data (RFC 6962 PrecertChainEntry),
// and verifies an inclusion and a consistency proof; it reads the accepted roots and submits
// an issued certificate with its chain (add-chain), checking the SCT with the log's key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, keyless, signingFlags, type Serve } from '../sign/serve-helper.js';
import { findGoPeer, runPeer } from '../support/go-peers.js';

const CTCLIENT_VERSION = 'v1.3.3';
let ctclient: string;
let serve: Serve;
let work: string;
let token: string;

const sth = async () => (await (await fetch(`${serve.url}/ct/v1/get-sth`)).json()) as { tree_size: number; sha256_root_hash: string };
const ct = (...args: string[]) => runPeer(ctclient, [...args, '--log_uri', serve.url, '--pub_key', join(serve.dataDir, 'ctlog.pub.pem')]);

async function signOne(name: string): Promise<void> {
  const file = join(work, name);
  writeFileSync(file, `${name}\n`);
  const r = await keyless(['sign-blob', file, '--bundle', `${file}.sigstore.json`, ...signingFlags(serve, token)]);
  assert.equal(r.code, 0, r.stderr);
}

before(async () => {
  ctclient = findGoPeer(
    'ctclient',
    'KEYLESS_CTCLIENT',
    `go install github.com/google/certificate-transparency-go/client/ctclient@${CTCLIENT_VERSION}`,
  );
  serve = await startServe();
  work = mkdtempSync(join(tmpdir(), 'keyless-ctclient-'));
  const t = await keyless(['dev-token', '--url', serve.url, '--email', 'monitor-me@example.com']);
  assert.equal(t.code, 0, t.stderr);
  token = t.stdout.trim();
});
after(async () => {
  await serve?.stop();
});

test('ctclient verifies the STH, parses every entry with its precertificate chain, and checks inclusion and consistency', async () => {
  await signOne('first');
  const first = await sth();
  assert.equal(first.tree_size, 1);
  await signOne('second');
  await signOne('third');
  const latest = await sth();
  assert.equal(latest.tree_size, 3);

  const head = await ct('get-sth');
  assert.equal(head.code, 0, head.stderr);
  assert.match(head.stdout, /Got STH for V1 log \(size=3\)/);

  const entries = await ct('get-entries', '--first', '0', '--last', '2', '--chain', '--text=false');
  assert.equal(entries.code, 0, entries.stderr);
  assert.doesNotMatch(entries.stdout + entries.stderr, /Failed to unmarshal|failed to parse/i);
  assert.equal(entries.stdout.match(/^Index=\d+ .*pre-certificate from issuer/gm)?.length, 3, entries.stdout);
  // Each entry: its precertificate, then the CA that issued it (the first certificate of fulcio.chain.pem).
  const pems = entries.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  assert.equal(pems.length, 6, entries.stdout);
  const intermediate = readFileSync(join(serve.dataDir, 'fulcio.chain.pem'), 'utf8').match(
    /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/,
  )![0];
  const body = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
  for (const i of [1, 3, 5]) assert.equal(body(pems[i]!), body(intermediate));

  // The leaf hash of entry 1 from get-entries, proven in the tree of size 3.
  const raw = (await (await fetch(`${serve.url}/ct/v1/get-entries?start=1&end=1`)).json()) as { entries: { leaf_input: string }[] };
  const leaf = Buffer.from(raw.entries[0]!.leaf_input, 'base64');
  const hash = createHash('sha256')
    .update(Buffer.concat([Buffer.from([0]), leaf]))
    .digest('hex');
  // Without --size, ctclient fetches the STH (its signature checked) and verifies the proof to its root.
  const inclusion = await ct('get-inclusion-proof', '--leaf_hash', hash);
  assert.equal(inclusion.code, 0, inclusion.stderr);
  assert.match(inclusion.stdout, /Inclusion proof for index 1 in tree of size 3/);
  assert.match(
    inclusion.stdout,
    new RegExp(`Verified that hash ${hash} \\+ proof = root hash ${Buffer.from(latest.sha256_root_hash, 'base64').toString('hex')}`),
  );

  const consistency = (prevHash: string) =>
    ct('get-consistency-proof', '--prev_size', '1', '--prev_hash', prevHash, '--size', '3', '--tree_hash', latest.sha256_root_hash);
  const consistent = await consistency(first.sha256_root_hash);
  assert.equal(consistent.code, 0, consistent.stderr);
  // A wrong earlier root is refused: the check could fail.
  const wrong = await consistency(Buffer.alloc(32, 1).toString('base64'));
  assert.notEqual(wrong.code, 0);
});

test('ctclient reads the accepted roots and submits an issued certificate with its chain (add-chain); the entry reads back with that chain', async () => {
  const chainPem = readFileSync(join(serve.dataDir, 'fulcio.chain.pem'), 'utf8');
  const root = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!.at(-1)!;
  const roots = await ct('get-roots', '--text=false');
  assert.equal(roots.code, 0, roots.stderr);
  const body = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
  assert.ok(body(roots.stdout).includes(body(root)), roots.stdout);

  await signOne('for-add-chain');
  const bundle = JSON.parse(readFileSync(join(work, 'for-add-chain.sigstore.json'), 'utf8')) as {
    verificationMaterial: { certificate: { rawBytes: string } };
  };
  const leaf = `-----BEGIN CERTIFICATE-----\n${bundle.verificationMaterial.certificate.rawBytes.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  const chainFile = join(work, 'issued-chain.pem');
  writeFileSync(chainFile, leaf + chainPem);
  const before = (await sth()).tree_size;
  // ctclient checks the SCT's signature with the log's public key.
  const up = await ct('upload', '--cert_chain', chainFile);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout + up.stderr, /Signature: .*Hash=SHA256 Sign=ECDSA/);
  const after = await sth();
  assert.equal(after.tree_size, before + 1);
  const entry = await ct('get-entries', '--first', String(before), '--last', String(before), '--chain', '--text=false');
  assert.equal(entry.code, 0, entry.stderr);
  assert.match(entry.stdout, new RegExp(`^Index=${before} .*X.509 certificate`, 'm'));
  // The certificate, then the chain it was submitted with.
  assert.equal(entry.stdout.match(/-----BEGIN CERTIFICATE-----/g)?.length, 1 + chainPem.match(/-----BEGIN CERTIFICATE-----/g)!.length);
});
