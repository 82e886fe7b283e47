// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// `keyless signing-config create` and `keyless trusted-root create` through the real
// CLI (bin/keyless; run `npm run build` first), checked with our parsers and sigstore-js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SigningConfig as ProtoSigningConfig, TrustedRoot as ProtoTrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import { bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { pemEncode } from '../../src/core/encoding.js';
import { sha256 } from '../../src/core/hash.js';
import { parseSigningConfig, parseTrustedRoot, serializeTrustedRoot } from '../../src/formats/index.js';
import { createCaChain, createTsaChain } from '../../src/x509/build/index.js';
import { CONFORMANCE_DIR } from '../support/conformance.js';

const BIN = resolve('bin/keyless');
const dir = mkdtempSync(join(tmpdir(), 'keyless-trust-'));

function keyless(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const T0 = '2025-01-01T00:00:00Z';
const svc = (url: string, version: number, extra = '') => `url=${url},api-version=${version},start-time=${T0},operator=example.com${extra}`;

test('signing-config create: the v0.2 document, URLs as given, numbers, no extra fields', () => {
  const out = join(dir, 'signing_config.json');
  const r = keyless(
    'signing-config',
    'create',
    '--fulcio',
    svc('https://fulcio.example.com', 1),
    '--rekor',
    svc('https://log2025-1.example.com', 2),
    '--rekor',
    svc('https://rekor.example.com/', 1, ',end-time=2030-01-01T00:00:00Z'),
    '--tsa',
    svc('https://tsa.example.com/api/v1/timestamp', 1),
    '--oidc-provider',
    svc('http://127.0.0.1:3000/idp', 1),
    '--rekor-config',
    'EXACT:2',
    '--tsa-config',
    'ANY',
    '--output-file',
    out,
  );
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(json, {
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [{ url: 'https://fulcio.example.com', majorApiVersion: 1, validFor: { start: T0 }, operator: 'example.com' }],
    oidcUrls: [{ url: 'http://127.0.0.1:3000/idp', majorApiVersion: 1, validFor: { start: T0 }, operator: 'example.com' }],
    rekorTlogUrls: [
      { url: 'https://log2025-1.example.com', majorApiVersion: 2, validFor: { start: T0 }, operator: 'example.com' },
      {
        url: 'https://rekor.example.com/',
        majorApiVersion: 1,
        validFor: { start: T0, end: '2030-01-01T00:00:00Z' },
        operator: 'example.com',
      },
    ],
    rekorTlogConfig: { selector: 'EXACT', count: 2 },
    tsaUrls: [{ url: 'https://tsa.example.com/api/v1/timestamp', majorApiVersion: 1, validFor: { start: T0 }, operator: 'example.com' }],
    tsaConfig: { selector: 'ANY' },
  });
  assert.equal(parseSigningConfig(json).rekorTlogUrls.length, 2);
  // The protobuf-specs reader sees every field we wrote (nothing unknown, nothing lost).
  assert.deepEqual(ProtoSigningConfig.toJSON(ProtoSigningConfig.fromJSON(json)), ProtoSigningConfig.toJSON(parseSigningConfig(json)));

  // Without --output-file the document goes to stdout.
  const s = keyless('signing-config', 'create', '--fulcio', svc('https://fulcio.example.com', 1));
  assert.equal(s.status, 0, s.stderr);
  assert.equal(JSON.parse(s.stdout).caUrls[0].url, 'https://fulcio.example.com');
});

test('signing-config create: sigstore-js signs against the CA named in our config', async () => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":400,"message":"test CA refuses"}');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = keyless('signing-config', 'create', '--fulcio', svc(base, 1), '--rekor', svc(`${base}/rekor`, 1), '--rekor-config', 'ANY');
    assert.equal(r.status, 0, r.stderr);
    const claims = {
      iss: 'https://issuer.example.com',
      sub: 'x@example.com',
      email: 'x@example.com',
      email_verified: true,
      aud: 'sigstore',
    };
    const builder = bundleBuilderFromSigningConfig({
      signingConfig: ProtoSigningConfig.fromJSON(JSON.parse(r.stdout)),
      identityProvider: { getToken: async () => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig` },
      bundleType: 'messageSignature',
      fetchOptions: { timeout: 2000, retry: { retries: 0 } },
    });
    await assert.rejects(builder.create({ data: Buffer.from('hello') }));
    assert.deepEqual(seen, ['POST /api/v2/signingCert']);
  } finally {
    server.close();
  }
});

test('signing-config create: bad values are one-line usage errors (exit 2), nothing written', () => {
  const out = join(dir, 'never.json');
  const bad: string[][] = [
    ['--fulcio', 'url=https://f.example.com,api-version=1'],
    ['--fulcio', svc('https://f.example.com', 1, ',colour=blue')],
    ['--fulcio', 'url=https://f.example.com,api-version=one,start-time=2025-01-01T00:00:00Z,operator=x'],
    ['--fulcio', 'url=f.example.com,api-version=1,start-time=2025-01-01T00:00:00Z,operator=x'],
    ['--fulcio', 'url=https://f.example.com,api-version=1,start-time=yesterday,operator=x'],
    ['--fulcio', svc('https://f.example.com', 1, ',end-time=2020-01-01T00:00:00Z')],
    ['--fulcio', 'url=https://f.example.com,url=https://g.example.com,api-version=1,start-time=2025-01-01T00:00:00Z,operator=x'],
    ['--fulcio', 'garbage'],
    ['--rekor', svc('https://r.example.com', 1), '--rekor-config', 'SOME'],
    ['--rekor', svc('https://r.example.com', 1), '--rekor-config', 'EXACT:2'],
    ['--rekor', svc('https://r.example.com', 1), '--rekor-config', 'EXACT'],
    ['--tsa', svc('https://t.example.com', 1), '--tsa-config', 'ANY:1'],
    ['--unknown-flag', 'x'],
    [],
  ];
  for (const args of bad) {
    const r = keyless('signing-config', 'create', ...args, '--output-file', out);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: .+\n$/, args.join(' '));
    assert.equal(r.stdout, '');
    assert.equal(existsSync(out), false);
  }
});

test('trusted-root create reproduces the production trusted root from its own keys and chains', () => {
  // Ground truth: the public-good root. Its keys and chains become flag inputs; the log IDs
  // (SHA-256 of SPKI for Rekor v1 and CT, the signed-note key ID for the Rekor v2 shard)
  // and every other field must come out identical.
  const prod = JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'trusted_root.production.json'), 'utf8'));
  const keyFile = (name: string, b64: string) =>
    file(
      name,
      createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' })
        .export({ format: 'pem', type: 'spki' })
        .toString(),
    );
  const chainFile = (name: string, certs: { rawBytes: string }[]) =>
    file(name, certs.map((c) => pemEncode('CERTIFICATE', Buffer.from(c.rawBytes, 'base64'))).join(''));
  const validity = (v: { start: string; end?: string }) => `start-time=${v.start}${v.end ? `,end-time=${v.end}` : ''}`;
  const args: string[] = ['trusted-root', 'create'];
  prod.tlogs.forEach((t: any, i: number) => {
    const origin = t.publicKey.keyDetails === 'PKIX_ED25519' ? `,origin=${new URL(t.baseUrl).hostname}` : '';
    args.push(
      '--rekor',
      `url=${t.baseUrl},public-key=${keyFile(`rekor${i}.pub`, t.publicKey.rawBytes)},${validity(t.publicKey.validFor)}${origin}`,
    );
  });
  prod.ctlogs.forEach((t: any, i: number) =>
    args.push('--ctfe', `url=${t.baseUrl},public-key=${keyFile(`ct${i}.pub`, t.publicKey.rawBytes)},${validity(t.publicKey.validFor)}`),
  );
  prod.certificateAuthorities.forEach((c: any, i: number) =>
    args.push('--fulcio', `url=${c.uri},certificate-chain=${chainFile(`ca${i}.pem`, c.certChain.certificates)},${validity(c.validFor)}`),
  );
  prod.timestampAuthorities.forEach((c: any, i: number) =>
    args.push('--tsa', `url=${c.uri},certificate-chain=${chainFile(`tsa${i}.pem`, c.certChain.certificates)},${validity(c.validFor)}`),
  );
  args.push('--out', join(dir, 'prod.json'));
  const r = keyless(...args);
  assert.equal(r.status, 0, r.stderr);
  const ours = JSON.parse(readFileSync(join(dir, 'prod.json'), 'utf8'));
  assert.deepEqual(ours, serializeTrustedRoot(parseTrustedRoot(prod)));
});

test('trusted-root create from fresh chains and keys: accepted by sigstore-js, log IDs per key type', () => {
  const ca = createCaChain({ organization: 'example' });
  const tsa = createTsaChain({ organization: 'example' });
  const caPem = file('ca.pem', ca.intermediate.certificate.toPem() + ca.root.certificate.toPem());
  const tsaPem = file('tsa.pem', tsa.chain.map((c) => c.toPem()).join(''));
  const v1 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const v2 = generateKeyPairSync('ed25519').publicKey;
  const ct = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const pem = (name: string, k: typeof v1) => file(name, k.export({ format: 'pem', type: 'spki' }).toString());
  const r = keyless(
    'trusted-root',
    'create',
    '--fulcio',
    `url=https://fulcio.example.com,certificate-chain=${caPem},operator=example.com`,
    '--rekor',
    `url=https://rekor.example.com,public-key=${pem('v1.pub', v1)},start-time=${T0}`,
    '--rekor',
    `url=https://log.example.com,public-key=${pem('v2.pub', v2)},start-time=${T0},origin=log.example.com`,
    '--ctfe',
    `url=https://ctfe.example.com/2025,public-key=${pem('ct.pub', ct)},start-time=${T0}`,
    '--tsa',
    `url=https://tsa.example.com/api/v1/timestamp,certificate-chain=${tsaPem}`,
    '--output-file',
    join(dir, 'fresh.json'),
  );
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(readFileSync(join(dir, 'fresh.json'), 'utf8'));
  const root = parseTrustedRoot(json);
  const spki = (k: typeof v1) => k.export({ format: 'der', type: 'spki' });
  assert.deepEqual(root.tlogs[0]!.logId!.keyId, sha256(spki(v1)));
  // C2SP signed-note key ID: SHA-256(origin ‖ "\n" ‖ 0x01 ‖ raw Ed25519 key).
  assert.deepEqual(root.tlogs[1]!.logId!.keyId, sha256(Buffer.from('log.example.com\n'), Buffer.of(1), spki(v2).subarray(-32)));
  assert.equal(json.tlogs[1].publicKey.keyDetails, 'PKIX_ED25519');
  assert.deepEqual(root.ctlogs[0]!.logId!.keyId, sha256(spki(ct)));
  assert.equal(json.certificateAuthorities[0].subject.commonName, 'keyless-root');
  assert.equal(json.certificateAuthorities[0].certChain.certificates.length, 2);
  assert.equal(json.certificateAuthorities[0].validFor.start, ca.intermediate.certificate.notBefore.toISOString().replace('.000Z', 'Z'));
  assert.equal(json.timestampAuthorities[0].certChain.certificates[0].rawBytes, tsa.chain[0]!.der.toString('base64'));
  assert.equal(json.certificateAuthorities[0].operator, 'example.com');
  assert.equal('checkpointKeyId' in json.tlogs[0], false);

  const material = toTrustMaterial(ProtoTrustedRoot.fromJSON(json));
  assert.equal(material.tlogs.length, 2);
  assert.equal(material.ctlogs.length, 1);
  assert.equal(material.certificateAuthorities.length, 1);
  assert.equal(material.timestampAuthorities.length, 1);
  assert.deepEqual(Buffer.from(material.tlogs[1]!.logID), sha256(Buffer.from('log.example.com\n'), Buffer.of(1), spki(v2).subarray(-32)));
});

test('trusted-root create: bad flags and unreadable files exit 2, bad file contents exit 1, nothing written', () => {
  const out = join(dir, 'never-root.json');
  const ca = createCaChain();
  const key = file(
    'k.pub',
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  );
  const reversed = file('reversed.pem', ca.root.certificate.toPem() + ca.intermediate.certificate.toPem());
  const leafless = file('ca-only.pem', ca.intermediate.certificate.toPem() + ca.root.certificate.toPem());
  const usage: string[][] = [
    ['--rekor', `url=https://r.example.com,public-key=${key}`],
    ['--rekor', `url=https://r.example.com,public-key=${key},start-time=${T0},origin=has space`],
    ['--ctfe', `url=https://c.example.com,public-key=${key},start-time=${T0},origin=c.example.com`],
    ['--fulcio', `url=https://f.example.com`],
    ['--fulcio', `url=notaurl,certificate-chain=${leafless}`],
    ['--tsa', `certificate-chain=${leafless}`],
    ['--rekor', `url=https://r.example.com,public-key=${key},start-time=2025-01-01`],
    [],
  ];
  for (const args of usage) {
    const r = keyless('trusted-root', 'create', ...args, '--out', out);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: .+\n$/);
  }
  // A file that cannot be read is an input error (exit 2, as for every command).
  const missing = keyless(
    'trusted-root',
    'create',
    '--rekor',
    `url=https://r.example.com,public-key=${join(dir, 'missing.pub')},start-time=${T0}`,
    '--out',
    out,
  );
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /^error: .+no such file or directory\n$/);
  const failures: string[][] = [
    ['--rekor', `url=https://r.example.com,public-key=${reversed},start-time=${T0}`],
    ['--fulcio', `url=https://f.example.com,certificate-chain=${reversed}`],
    ['--fulcio', `url=https://f.example.com,certificate-chain=${key}`],
    // A TSA chain must start with the timestamping certificate.
    ['--tsa', `url=https://t.example.com,certificate-chain=${leafless}`],
  ];
  for (const args of failures) {
    const r = keyless('trusted-root', 'create', ...args, '--out', out);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: .+\n$/);
  }
  assert.equal(existsSync(out), false);
  const both = keyless(
    'trusted-root',
    'create',
    '--rekor',
    `url=https://r.example.com,public-key=${key},start-time=${T0}`,
    '--out',
    out,
    '--output-file',
    `${out}.2`,
  );
  assert.equal(both.status, 2, both.stderr);
  const noDir = keyless(
    'trusted-root',
    'create',
    '--rekor',
    `url=https://r.example.com,public-key=${key},start-time=${T0}`,
    '--out',
    join(dir, 'no', 'such', 'dir.json'),
  );
  assert.equal(noDir.status, 1, noDir.stderr);
  assert.match(noDir.stderr, /^error: cannot write .+\n$/);
});
