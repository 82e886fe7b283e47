import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { parseTrustedRoot, parseSigningConfig } from '../../src/formats/index.js';
import { publicKeyDer } from '../../src/core/keys.js';
import { parseConfig } from '../../src/server/config.js';
import { FileKeyStore } from '../../src/server/keys.js';
import { loadOrCreateCa, loadOrCreateTsa } from '../../src/server/pki.js';
import { writeTrustFiles, type TrustDescription } from '../../src/server/trust-files.js';
import { tempDir } from './helpers.js';

function describe(dataDir: string): TrustDescription {
  const config = parseConfig({});
  const keys = new FileKeyStore(dataDir);
  const ca = loadOrCreateCa(dataDir, keys, config, () => {});
  const tsa = loadOrCreateTsa(dataDir, keys, config, () => {});
  const v1 = keys.loadOrCreate('rekor-v1', 'ecdsa-p256');
  const v2 = keys.loadOrCreate('rekor-v2', 'ed25519');
  const ct = keys.loadOrCreate('ctlog', 'ecdsa-p256');
  const url = 'https://sigstore.example.com';
  const id = (k: typeof v1) => createHash('sha256').update(publicKeyDer(k.publicKey)).digest();
  return {
    organization: 'Example',
    operator: 'sigstore.example.com',
    ca: {
      uri: url,
      chain: [ca.intermediate.certificate.der, ca.root.certificate.der],
      start: ca.root.certificate.notBefore,
      commonName: 'Example root',
    },
    ctlog: { baseUrl: url, publicKey: ct.publicKey, logId: id(ct), start: ct.createdAt },
    rekorV1: { baseUrl: url, publicKey: v1.publicKey, logId: id(v1), start: v1.createdAt },
    rekorV2: { baseUrl: url, publicKey: v2.publicKey, logId: Buffer.alloc(32, 7), start: v2.createdAt },
    tsa: {
      uri: `${url}/api/v1/timestamp`,
      chain: tsa.chain.map((c) => c.der),
      start: tsa.signer.certificate.notBefore,
      commonName: 'Example TSA',
    },
    oidcIssuers: [{ url: `${url}/oidc`, start: v1.createdAt }],
  };
}

test('the trust files pass FORMATS strict parsers and carry every service', () => {
  const dataDir = join(tempDir(), 'data');
  const [rootPath, configPath] = writeTrustFiles(dataDir, describe(dataDir));
  const root = parseTrustedRoot(JSON.parse(readFileSync(rootPath!, 'utf8')));
  assert.equal(root.tlogs.length, 2);
  assert.equal(root.ctlogs.length, 1);
  assert.equal(root.certificateAuthorities[0]!.certChain!.certificates.length, 2);
  assert.equal(root.timestampAuthorities[0]!.certChain!.certificates.length, 2);
  for (const log of [...root.tlogs, ...root.ctlogs]) {
    assert.equal(log.logId!.keyId.length, 32, 'full 32-byte log IDs');
    assert.equal(log.checkpointKeyId, undefined, 'no checkpointKeyId (sigstore-js would prefer it over logId)');
    assert.ok(log.publicKey!.validFor!.start);
  }
  const raw = JSON.parse(readFileSync(rootPath!, 'utf8')) as { tlogs: { publicKey: { keyDetails: string } }[] };
  assert.deepEqual(
    raw.tlogs.map((t) => t.publicKey.keyDetails),
    ['PKIX_ECDSA_P256_SHA_256', 'PKIX_ED25519'],
  );

  const sc = parseSigningConfig(JSON.parse(readFileSync(configPath!, 'utf8')));
  assert.deepEqual(
    sc.rekorTlogUrls.map((s) => s.majorApiVersion),
    [2, 1],
  );
  assert.equal(sc.caUrls[0]!.url, 'https://sigstore.example.com');
  assert.equal(sc.tsaUrls[0]!.url, 'https://sigstore.example.com/api/v1/timestamp');
  assert.equal(sc.oidcUrls[0]!.url, 'https://sigstore.example.com/oidc');
});

test('writing the trust files twice gives the same bytes', () => {
  const dataDir = join(tempDir(), 'data');
  const first = writeTrustFiles(dataDir, describe(dataDir)).map((p) => readFileSync(p, 'utf8'));
  const second = writeTrustFiles(dataDir, describe(dataDir)).map((p) => readFileSync(p, 'utf8'));
  assert.deepEqual(second, first);
});
