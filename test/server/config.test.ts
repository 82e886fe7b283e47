import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, readFileSync, writeFileSync, readdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, loadConfigFile, DEFAULT_CONFIG, isLoopbackHost, parsePublicUrl } from '../../src/server/config.js';
import { FileKeyStore } from '../../src/server/keys.js';
import { devIdpEnabled } from '../../src/server/server.js';
import { verifySignature } from '../../src/core/keys.js';
import { openLogStorage } from '../../src/server/storage.js';
import { KeyObject } from 'node:crypto';
import { tempDir } from './helpers.js';

test('an empty configuration gives the documented defaults', () => {
  const c = parseConfig({});
  assert.deepEqual(c.keys, DEFAULT_CONFIG.keys);
  assert.equal(c.validity.leafCertificateMinutes, 10);
  assert.equal(c.devIdp.enabled, 'auto');
  assert.equal(c.devIdp.allowPublic, false);
  assert.deepEqual(c.storage, { driver: 'sqlite' });
  assert.deepEqual(c.issuers, []);
});

test('real issuers are read with defaults (audience sigstore)', () => {
  const c = parseConfig({
    issuers: [
      { issuerUrl: 'https://token.actions.githubusercontent.com', type: 'github-workflow' },
      { issuerUrl: 'https://accounts.google.com', type: 'email', clientId: 'my-app' },
      { issuerUrl: 'https://gitlab.com', type: 'gitlab-pipeline' },
      { issuerUrl: 'https://example.com/oidc', type: 'uri', subjectDomain: 'https://example.com' },
    ],
    keys: { ca: 'ecdsa-p384' },
    limits: { bodyLimit: 4096, requestTimeoutMs: 5000, maxConnectionsPerClient: 8 },
    devIdp: { enabled: false },
  });
  assert.equal(c.issuers.length, 4);
  assert.equal(c.issuers[0]!.clientId, 'sigstore');
  assert.equal(c.issuers[1]!.clientId, 'my-app');
  assert.equal(c.keys.ca, 'ecdsa-p384');
  assert.equal(c.keys.rekorV2, 'ed25519');
  assert.equal(c.limits.bodyLimit, 4096);
  assert.equal(c.limits.requestTimeoutMs, 5000);
  assert.equal(c.limits.maxConnectionsPerClient, 8);
  assert.equal(c.limits.headersTimeoutMs, 5000);
  assert.equal(c.devIdp.enabled, false);
});

test('configuration errors name the field', () => {
  const cases: [unknown, string][] = [
    [{ bodyLimit: 1 }, 'config.bodyLimit'],
    [{ issuers: [{ issuerUrl: 'http://evil.example', type: 'email' }] }, 'config.issuers[0].issuerUrl'],
    [{ issuers: [{ issuerUrl: 'https://x.example', type: 'carrier-pigeon' }] }, 'config.issuers[0].type'],
    [{ issuers: [{ issuerUrl: 'https://x.example', type: 'uri' }] }, 'config.issuers[0].subjectDomain'],
    [{ keys: { ca: 'dsa' } }, 'config.keys.ca'],
    [{ keys: { rekorV1: 'rsa-2048' } }, 'config.keys'],
    [{ validity: { leafCertificateMinutes: -1 } }, 'config.validity.leafCertificateMinutes'],
    [{ devIdp: { enabled: 'yes' } }, 'config.devIdp.enabled'],
    [{ devIdp: { allowPublic: true } }, 'config.devIdp.allowPublic'],
    [{ devIdp: { enabled: 'auto', allowPublic: true } }, 'config.devIdp.allowPublic'],
    [{ devIdp: { enabled: true, allowPublic: 'yes' } }, 'config.devIdp.allowPublic'],
    [{ storage: { driver: 'mongodb' } }, 'config.storage.driver'],
    [{ storage: { driver: 'sqlite', path: '/x' } }, 'config.storage.path'],
    [{ publicUrl: 'ftp://x' }, 'config.publicUrl'],
    [{ limits: { requestTimeoutMs: 0 } }, 'config.limits.requestTimeoutMs'],
    [{ limits: { idleTimeout: 5 } }, 'config.limits.idleTimeout'],
    [{ limits: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 } }, 'config.limits.headersTimeoutMs'],
    [[], 'config'],
  ];
  for (const [input, field] of cases) {
    assert.throws(
      () => parseConfig(input),
      (e: { code?: string; field?: string }) => e.code === 'FORMAT_INVALID' && e.field === field,
      field,
    );
  }
});

test('an unreadable or malformed configuration file is a clear error', () => {
  const dir = tempDir();
  assert.throws(() => loadConfigFile(join(dir, 'missing.json')), { code: 'FILE_UNREADABLE' });
  writeFileSync(join(dir, 'bad.json'), '{"keys": ');
  assert.throws(() => loadConfigFile(join(dir, 'bad.json')), { code: 'FORMAT_INVALID' });
});

test('the dev IdP is on by default only when every way in is loopback', () => {
  const auto = parseConfig({});
  assert.equal(devIdpEnabled(auto, '127.0.0.1'), true);
  assert.equal(devIdpEnabled(auto, '::1'), true);
  assert.equal(devIdpEnabled(auto, '127.0.0.1', 'http://localhost:3000'), true);
  assert.equal(devIdpEnabled(auto, '0.0.0.0'), false);
  assert.equal(devIdpEnabled(auto, '10.1.2.3'), false);
  // Bound to loopback behind a reverse proxy with a public URL (the production layout): off.
  assert.equal(devIdpEnabled(auto, '127.0.0.1', 'https://sigstore.example.com'), false);
  assert.equal(devIdpEnabled(auto, '127.0.0.1', 'http://10.0.0.5:3000'), false);
  assert.equal(devIdpEnabled(parseConfig({ devIdp: { enabled: false } }), '127.0.0.1'), false);
  // Explicitly on: fine on loopback, refused beyond it unless acknowledged.
  const on = parseConfig({ devIdp: { enabled: true } });
  assert.equal(devIdpEnabled(on, '127.0.0.1'), true);
  assert.throws(() => devIdpEnabled(on, '0.0.0.0'), { code: 'DEV_IDP_NOT_LOOPBACK' });
  assert.throws(() => devIdpEnabled(on, '127.0.0.1', 'https://sigstore.example.com'), { code: 'DEV_IDP_NOT_LOOPBACK' });
  const acknowledged = parseConfig({ devIdp: { enabled: true, allowPublic: true } });
  assert.equal(devIdpEnabled(acknowledged, '0.0.0.0'), true);
  assert.equal(devIdpEnabled(acknowledged, '127.0.0.1', 'https://sigstore.example.com'), true);
  assert.equal(isLoopbackHost('localhost'), true);
  assert.equal(isLoopbackHost('[::1]'), true);
});

test('public URLs are normalized without a trailing slash', () => {
  assert.equal(parsePublicUrl('http://127.0.0.1:3000/'), 'http://127.0.0.1:3000');
  assert.equal(parsePublicUrl('https://sigstore.example.com/base/'), 'https://sigstore.example.com/base');
  assert.throws(() => parsePublicUrl('https://u:p@x.example'), { code: 'FORMAT_INVALID' });
});

test('keys are generated once with mode 0600 in a 0700 directory and reused', () => {
  const dataDir = join(tempDir(), 'data');
  const store = new FileKeyStore(dataDir);
  const key = store.loadOrCreate('rekor-v1', 'ecdsa-p256');
  const ed = store.loadOrCreate('rekor-v2', 'ed25519');
  assert.equal(statSync(dataDir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dataDir, 'keys')).mode & 0o777, 0o700);
  for (const f of readdirSync(join(dataDir, 'keys'))) assert.equal(statSync(join(dataDir, 'keys', f)).mode & 0o777, 0o600, f);

  const warnings: string[] = [];
  const again = new FileKeyStore(dataDir, (m) => warnings.push(m));
  const reloaded = again.loadOrCreate('rekor-v1', 'ecdsa-p384');
  assert.ok(reloaded.publicKey.equals(key.publicKey), 'same key after a restart');
  assert.equal(reloaded.type, 'ecdsa-p256', 'an existing key is never replaced');
  assert.equal(reloaded.createdAt.toISOString(), key.createdAt.toISOString());
  assert.equal(warnings.length, 1);
  assert.ok(again.load('rekor-v2')!.publicKey.equals(ed.publicKey));
  assert.equal(again.load('nothing-here'), undefined);

  const msg = Buffer.from('checkpoint');
  assert.ok(verifySignature(reloaded.publicKey, msg, reloaded.sign(msg, 'sha256')));
  assert.ok(verifySignature(ed.publicKey, msg, ed.sign(msg)));
});

test('key files that others can read are tightened; corrupt key files are refused', () => {
  const dataDir = join(tempDir(), 'data');
  new FileKeyStore(dataDir).loadOrCreate('ca', 'ecdsa-p256');
  chmodSync(join(dataDir, 'keys', 'ca.pem'), 0o644);
  const warnings: string[] = [];
  new FileKeyStore(dataDir, (m) => warnings.push(m)).load('ca');
  assert.equal(statSync(join(dataDir, 'keys', 'ca.pem')).mode & 0o777, 0o600);
  assert.equal(warnings.length, 1);
  assert.ok(!warnings[0]!.includes('PRIVATE KEY'));

  writeFileSync(join(dataDir, 'keys', 'ca.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', { mode: 0o600 });
  assert.throws(() => new FileKeyStore(dataDir).load('ca'), { code: 'KEY_FILE_INVALID' });
  assert.throws(() => new FileKeyStore(dataDir).load('../etc'), { code: 'KEY_NAME_INVALID' });
  assert.ok(readFileSync(join(dataDir, 'keys', 'ca.json'), 'utf8').includes('ecdsa-p256'));
});

test('the key store hands services Signers, never private keys', () => {
  const store = new FileKeyStore(join(tempDir(), 'data'));
  const key = store.loadOrCreate('ca-root', 'ecdsa-p384');
  assert.equal(key.algorithm, 'ecdsa-p384');
  assert.ok(!('privateKey' in key));
  for (const value of Object.values(key)) assert.ok(!(value instanceof KeyObject && value.type === 'private'));
  const msg = Buffer.from('tbs');
  assert.ok(verifySignature(key.publicKey, msg, key.sign(msg), 'sha384'));
  assert.ok(verifySignature(key.publicKey, msg, key.sign(msg, 'sha256'), 'sha256'));
});

test('the storage driver is chosen in one place; an unknown one is a clear error', async () => {
  await assert.rejects(openLogStorage({ driver: 'mysql' as never }, tempDir()), {
    code: 'STORAGE_DRIVER_UNKNOWN',
    message: /available: sqlite, postgres/,
  });
});

test('storage: postgres needs a URL without a password; its options only go with it', () => {
  const ok = parseConfig({
    storage: {
      driver: 'postgres',
      url: 'postgres://keyless@db.example/keyless?sslmode=verify-full',
      poolSize: 20,
      ssl: { ca: 'ca.pem' },
      listen: false,
    },
  });
  assert.deepEqual(ok.storage, {
    driver: 'postgres',
    url: 'postgres://keyless@db.example/keyless?sslmode=verify-full',
    poolSize: 20,
    ssl: { ca: 'ca.pem' },
    listen: false,
  });
  assert.throws(() => parseConfig({ storage: { driver: 'postgres', url: 'postgres://db/k', listen: 'no' } }), {
    message: /config\.storage\.listen/,
  });
  assert.throws(() => parseConfig({ storage: { driver: 'postgres' } }), { message: /config\.storage\.url/ });
  assert.throws(() => parseConfig({ storage: { driver: 'postgres', url: 'postgres://u:secret@db/k' } }), { message: /PGPASSWORD/ });
  assert.throws(() => parseConfig({ storage: { driver: 'postgres', url: 'http://db/k' } }), { message: /postgres:\/\/ URL/ });
  assert.throws(() => parseConfig({ storage: { driver: 'sqlite', url: 'postgres://db/k' } }), {
    message: /only go with "driver": "postgres"/,
  });
  assert.throws(() => parseConfig({ storage: { driver: 'postgres', url: 'postgres://db/k', poolSize: 0 } }), { message: /poolSize/ });
  assert.throws(() => parseConfig({ storage: { driver: 'postgres', url: 'postgres://db/k', ssl: { pem: 'x' } } }), {
    message: /config\.storage\.ssl\.pem/,
  });
});
