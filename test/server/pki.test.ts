import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/server/config.js';
import { FileKeyStore } from '../../src/server/keys.js';
import { loadOrCreateCa, loadOrCreateTsa } from '../../src/server/pki.js';
import { tempDir } from './helpers.js';

test('the CA and TSA chains are created once and reloaded unchanged', () => {
  const dataDir = join(tempDir(), 'data');
  const config = parseConfig({ organization: 'Test Org' });
  const keys = new FileKeyStore(dataDir);
  const ca = loadOrCreateCa(dataDir, keys, config, () => {});
  const tsa = loadOrCreateTsa(dataDir, keys, config, () => {});
  assert.equal(ca.intermediate.certificate.verifySignedBy(ca.root.certificate), true);
  assert.equal(tsa.signer.certificate.verifySignedBy(tsa.chain[1]!), true);
  assert.equal(ca.root.certificate.isCA, true);
  assert.equal(tsa.chain.length, 2);
  assert.equal(statSync(join(dataDir, 'certs', 'ca.pem')).mode & 0o777, 0o600);
  const caPem = readFileSync(join(dataDir, 'certs', 'ca.pem'), 'utf8');
  const tsaPem = readFileSync(join(dataDir, 'certs', 'tsa.pem'), 'utf8');

  const keys2 = new FileKeyStore(dataDir);
  const ca2 = loadOrCreateCa(dataDir, keys2, config, () => {});
  const tsa2 = loadOrCreateTsa(dataDir, keys2, config, () => {});
  assert.ok(ca2.root.certificate.der.equals(ca.root.certificate.der));
  assert.ok(ca2.intermediate.certificate.der.equals(ca.intermediate.certificate.der));
  assert.ok(tsa2.signer.certificate.der.equals(tsa.signer.certificate.der));
  assert.equal(readFileSync(join(dataDir, 'certs', 'ca.pem'), 'utf8'), caPem);
  assert.equal(readFileSync(join(dataDir, 'certs', 'tsa.pem'), 'utf8'), tsaPem);
  // The root's validity starts when its key was generated, so the trust files never change.
  assert.equal(ca.root.certificate.notBefore.getTime(), keys.load('ca-root')!.createdAt.getTime());
});

test('a certificate file that does not belong to the stored keys is refused', () => {
  const a = join(tempDir(), 'a');
  const b = join(tempDir(), 'b');
  const config = parseConfig({});
  loadOrCreateCa(a, new FileKeyStore(a), config, () => {});
  loadOrCreateCa(b, new FileKeyStore(b), config, () => {});
  writeFileSync(join(b, 'certs', 'ca.pem'), readFileSync(join(a, 'certs', 'ca.pem')));
  assert.throws(() => loadOrCreateCa(b, new FileKeyStore(b), config, () => {}), { code: 'CERT_FILE_INVALID' });
  writeFileSync(join(b, 'certs', 'ca.pem'), 'garbage');
  assert.throws(() => loadOrCreateCa(b, new FileKeyStore(b), config, () => {}), { code: 'CERT_FILE_INVALID' });
});
