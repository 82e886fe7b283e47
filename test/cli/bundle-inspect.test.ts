// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// `keyless bundle inspect`: what a bundle holds, for a person and as JSON, never verified
// (and saying so); a file that is not a bundle is an input error.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CONFORMANCE_DIR, ensureBuilt, runKeyless } from '../conformance/helpers.js';

const DSSE = join(CONFORMANCE_DIR, 'happy-path-intoto-in-dsse-v3', 'bundle.sigstore.json');
const V2 = join(CONFORMANCE_DIR, 'rekor2-happy-path', 'bundle.sigstore.json');

before(() => ensureBuilt());

test('text: identity, issuer, extensions by name, validity, log entries, the statement; marked not verified', () => {
  const r = runKeyless(['bundle', 'inspect', DSSE]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^NOT VERIFIED/);
  assert.match(r.stdout, /^identity: +https:\/\/github\.com\/sigstore-conformance\/extremely-dangerous-public-oidc-beacon\//m);
  assert.match(r.stdout, /^issuer: +https:\/\/token\.actions\.githubusercontent\.com$/m);
  assert.match(r.stdout, /^ {2}githubWorkflowRepository: sigstore-conformance\/extremely-dangerous-public-oidc-beacon$/m);
  assert.match(r.stdout, /^valid: +2024-12-16T18:42:56\.000Z to 2024-12-16T18:52:56\.000Z$/m);
  assert.match(r.stdout, /^log entry: +index 155690850, dsse\/0\.0\.1, integrated 2024-12-16T18:42:56\.000Z/m);
  assert.match(r.stdout, /^predicate: +https:\/\/slsa\.dev\/provenance\/v1$/m);
  assert.match(r.stdout, /^subject: +a\.txt sha256:a0cfc712/m);
});

test('--json: the same facts alone on stdout, with the timestamps of a Rekor v2 bundle', () => {
  const r = runKeyless(['bundle', 'inspect', V2, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const report = JSON.parse(r.stdout);
  assert.equal(report.verified, false);
  assert.equal(report.tlogEntries[0].kind, 'hashedrekord/0.0.2');
  assert.match(report.timestamps[0].genTime, /^2025-/);
  assert.equal(report.messageDigest.algorithm, 'SHA2_256');
  const d = JSON.parse(runKeyless(['bundle', 'inspect', DSSE, '--json']).stdout);
  assert.equal(d.dsse.statement.predicateType, 'https://slsa.dev/provenance/v1');
});

test('a trusted root given to bundle inspect is named and exits 2', () => {
  const r = runKeyless(['bundle', 'inspect', join(CONFORMANCE_DIR, 'trusted_root.production.json')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /is a trusted root, not a bundle/);
});
