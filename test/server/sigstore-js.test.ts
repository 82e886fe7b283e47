// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Real clients against a real `keyless serve` process: sigstore-js signs with a token from
// `keyless dev-token` through the CA, the Rekor v1 log and the TSA, and again through the
// Rekor v2 log; every bundle verifies with sigstore-js's verifier (trust from the server's
// trusted_root.json) and with `keyless verify-blob`; a changed artifact fails both.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as sigstore from 'sigstore';
import { MessageSignatureBundleBuilder, FulcioSigner, RekorWitness, TSAWitness, bundleBuilderFromSigningConfig } from '@sigstore/sign';
import { bundleFromJSON, bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot, SigningConfig } from '@sigstore/protobuf-specs';
import { startServe, runKeyless, tempDir, type ServeProcess } from './helpers.js';

let server: ServeProcess;
let issuer: string;
const work = tempDir('keyless-e2e-');
const EMAIL = 'e2e-signer@example.com';

before(async () => {
  server = await startServe();
  issuer = `${server.url}/oidc`;
});
after(async () => {
  await server?.stop();
});

async function devToken(email: string): Promise<string> {
  const r = await runKeyless(['dev-token', '--url', server.url, '--email', email]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, 'dev-token prints the token alone on one line');
  return lines[0]!;
}

function sigstoreJsVerify(bundle: SerializedBundle, artifact: Buffer, opts: { tlog: number; timestamps: number; identity?: string }): void {
  const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(join(server.dataDir, 'trusted_root.json'), 'utf8')));
  const verifier = new Verifier(toTrustMaterial(root), {
    tlogThreshold: opts.tlog,
    ctlogThreshold: 1,
    timestampThreshold: opts.timestamps,
  });
  verifier.verify(toSignedEntity(bundleFromJSON(bundle), artifact), {
    subjectAlternativeName: opts.identity ?? EMAIL,
    extensions: { issuer },
  });
}

async function keylessVerify(
  bundle: SerializedBundle,
  artifact: Buffer,
  name: string,
  identity = EMAIL,
): Promise<{ code: number | null; stderr: string }> {
  const bundlePath = join(work, `${name}.sigstore.json`);
  const artifactPath = join(work, `${name}.txt`);
  writeFileSync(bundlePath, JSON.stringify(bundle));
  writeFileSync(artifactPath, artifact);
  return runKeyless([
    'verify-blob',
    artifactPath,
    '--bundle',
    bundlePath,
    '--certificate-identity',
    identity,
    '--certificate-oidc-issuer',
    issuer,
    '--trusted-root',
    join(server.dataDir, 'trusted_root.json'),
  ]);
}

async function checkBothVerifiers(
  bundle: SerializedBundle,
  artifact: Buffer,
  name: string,
  opts: { tlog: number; timestamps: number },
): Promise<void> {
  sigstoreJsVerify(bundle, artifact, opts);
  const ok = await keylessVerify(bundle, artifact, name);
  assert.equal(ok.code, 0, `keyless verify-blob: ${ok.stderr}`);

  const changed = Buffer.concat([artifact, Buffer.from('!')]);
  assert.throws(() => sigstoreJsVerify(bundle, changed, opts), /signature|digest|mismatch|failed/i);
  const bad = await keylessVerify(bundle, changed, `${name}-changed`);
  assert.equal(bad.code, 1, 'a changed artifact fails keyless verify-blob');

  // Another identity than the token's is refused by both.
  assert.throws(() => sigstoreJsVerify(bundle, artifact, { ...opts, identity: 'someone-else@example.com' }));
  const wrongIdentity = await keylessVerify(bundle, artifact, `${name}-identity`, 'someone-else@example.com');
  assert.equal(wrongIdentity.code, 1, 'a wrong identity fails keyless verify-blob');
}

test('sigstore.sign with CA + Rekor v1 + TSA; both verifiers accept it and reject a changed artifact', async () => {
  const artifact = Buffer.from('hello from sigstore-js, Rekor v1\n');
  const bundle = await sigstore.sign(artifact, {
    fulcioURL: server.url,
    rekorURL: server.url,
    tsaServerURL: server.url,
    identityToken: await devToken(EMAIL),
  });
  assert.equal(bundle.verificationMaterial.tlogEntries.length, 1);
  assert.equal(bundle.verificationMaterial.tlogEntries[0]!.kindVersion?.version, '0.0.1');
  assert.equal(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length, 1);
  await checkBothVerifiers(bundle, artifact, 'v1', { tlog: 1, timestamps: 1 });
});

test('@sigstore/sign with the Rekor v2 log (major API version 2) + TSA; both verifiers accept it', async () => {
  const token = await devToken(EMAIL);
  const builder = new MessageSignatureBundleBuilder({
    signer: new FulcioSigner({ fulcioBaseURL: server.url, identityProvider: { getToken: async () => token } }),
    witnesses: [new RekorWitness({ rekorBaseURL: server.url, majorApiVersion: 2 }), new TSAWitness({ tsaBaseURL: server.url })],
  });
  const artifact = Buffer.from('hello from sigstore-js, Rekor v2\n');
  const bundle = bundleToJSON(await builder.create({ data: artifact }));
  const entry = bundle.verificationMaterial.tlogEntries[0]!;
  assert.equal(entry.kindVersion?.version, '0.0.2');
  // Rekor v2 gives no time (integratedTime 0, omitted in JSON) and no promise: the TSA's timestamp is the time source.
  assert.ok(entry.integratedTime === undefined || entry.integratedTime === '0');
  assert.equal(entry.inclusionPromise, undefined);
  assert.ok(entry.inclusionProof?.checkpoint?.envelope);
  await checkBothVerifiers(bundle, artifact, 'v2', { tlog: 1, timestamps: 1 });
});

test('the signing config names both logs, the CA, the TSA and the dev IdP', () => {
  const sc = JSON.parse(readFileSync(join(server.dataDir, 'signing_config.json'), 'utf8')) as Record<
    string,
    Array<{ url: string; majorApiVersion: number }>
  >;
  assert.deepEqual(
    sc.caUrls!.map((s) => s.url),
    [server.url],
  );
  assert.deepEqual(sc.rekorTlogUrls!.map((s) => s.majorApiVersion).sort(), [1, 2]);
  assert.deepEqual(
    sc.tsaUrls!.map((s) => s.url),
    [`${server.url}/api/v1/timestamp`],
  );
  assert.deepEqual(
    sc.oidcUrls!.map((s) => s.url),
    [issuer],
  );
});

test('sigstore-js signs from DIR/signing_config.json as it is (it picks the Rekor v2 log) and the bundle verifies', async () => {
  const token = await devToken(EMAIL);
  const signingConfig = SigningConfig.fromJSON(JSON.parse(readFileSync(join(server.dataDir, 'signing_config.json'), 'utf8')));
  const builder = bundleBuilderFromSigningConfig({
    signingConfig,
    identityProvider: { getToken: async () => token },
    bundleType: 'messageSignature',
  });
  const artifact = Buffer.from('signed from the signing config\n');
  const bundle = bundleToJSON(await builder.create({ data: artifact }));
  assert.equal(bundle.verificationMaterial.tlogEntries[0]!.kindVersion?.version, '0.0.2');
  await checkBothVerifiers(bundle, artifact, 'signing-config', { tlog: 1, timestamps: 1 });
});
