// Checkpoint signature lines: Rekor v1 names its key after its host (a pod name in private
// deployments); rekor and sigstore-go match v1 checkpoints by key hint and signature only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { verifySync } from '../../src/verify/index.js';
import { CONFORMANCE } from './helpers.js';
import { dsseBundle, pem, statement, synthTrustedRoot } from './synth.js';

const artifact = readFileSync(`${CONFORMANCE}/a.txt`);
const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const payload = statement({ sha256: createHash('sha256').update(artifact).digest('hex') });
const V1_ORIGIN = 'rekor-00001-deployment-56bf7777c9-jds5x - 6364419738405537866';

function code(checkpoint: Parameters<typeof dsseBundle>[0]['checkpoint']): string {
  try {
    verifySync(dsseBundle({ signer, payload, checkpoint }), artifact, { publicKey: pem(signer.publicKey) }, synthTrustedRoot);
    return 'OK';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

test('a Rekor v1 checkpoint signed under a pod host name verifies (scaffolding-style private Rekor)', () => {
  assert.equal(code({ origin: V1_ORIGIN, name: 'rekor-00001-deployment-56bf7777c9-jds5x' }), 'OK');
  assert.equal(code({ origin: 'rekor.test - 1193050959916656506', name: 'rekor.test' }), 'OK');
});

test('a Rekor v1 checkpoint signed by another key under any name still fails (the key hint and signature decide)', () => {
  const rogue = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.equal(code({ origin: V1_ORIGIN, name: 'rekor-00001-deployment-56bf7777c9-jds5x', key: rogue }), 'TLOG_CHECKPOINT_INVALID');
  assert.equal(code({ origin: V1_ORIGIN, name: 'rekor.test', key: rogue }), 'TLOG_CHECKPOINT_INVALID');
});

test('a C2SP (Rekor v2 style) checkpoint keeps the strict rule: origin and key name are the log host', () => {
  assert.equal(code({ origin: 'rekor.test', name: 'rekor.test' }), 'OK');
  assert.equal(code({ origin: 'other.test', name: 'other.test' }), 'TLOG_CHECKPOINT_INVALID');
  assert.equal(code({ origin: 'rekor.test', name: 'pod-name' }), 'TLOG_CHECKPOINT_INVALID');
});
