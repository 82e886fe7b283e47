// The monitor's pure parts: the tree frontier against the merkle component's proofs, and
// configuration errors that name the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inclusionProof, leafHash, memoryNodeReader, rootFromEntries } from '../../src/merkle/index.js';
import { Frontier, parseMonitorConfig } from '../../src/monitor/index.js';
import { BufferPool } from '../../src/monitor/http.js';

test('frontier: appending leaves gives the RFC 6962 root at every size; the frontier from an audit path continues it', () => {
  const leaves = Array.from({ length: 70 }, () => randomBytes(20));
  const f = Frontier.empty();
  for (let n = 1; n <= leaves.length; n++) {
    f.append(leaves[n - 1]!);
    assert.deepEqual(f.root(), rootFromEntries(leaves.slice(0, n)), `size ${n}`);
  }
  const read = memoryNodeReader(leaves.map((l) => leafHash(l)));
  for (let i = 0; i < leaves.length; i++) {
    for (const size of [i + 1, i + 2, leaves.length]) {
      if (size > leaves.length) continue;
      const g = Frontier.fromInclusionProof(i, size, inclusionProof(read, i, size));
      for (let j = i; j < leaves.length; j++) g.append(leaves[j]!);
      assert.deepEqual(g.root(), rootFromEntries(leaves), `leaf ${i} in ${size}`);
    }
  }
  // A stored frontier round-trips through its JSON form; a wrong hash changes the root.
  const stored = Frontier.of(
    f.size,
    f.toJSON().map((h) => Buffer.from(h, 'base64')),
  );
  assert.deepEqual(stored.root(), f.root());
  const bad = f.toJSON().map((h) => Buffer.from(h, 'base64'));
  bad[0] = randomBytes(32);
  assert.notDeepEqual(Frontier.of(f.size, bad).root(), f.root());
  assert.throws(() => Frontier.of(5, []), { code: 'MONITOR_LOG_INCONSISTENT' });
});

test("config: rekor-monitor's shape with expectations parses; errors name the key", () => {
  const c = parseMonitorConfig(`
startIndex: 3
monitoredValues:
  certIdentities:
    - certSubject: ^https://github\\.com/acme/app/\\.github/workflows/release\\.yml@.*$
      issuers: [^https://token\\.actions\\.githubusercontent\\.com$]
      expected:
        - issuer: ^https://token\\.actions\\.githubusercontent\\.com$
          source-repository-ref: ^refs/tags/v.*$
          runner-environment: ^github-hosted$
    - certSubject: alice@example\\.com
  subjects: [^bob@example\\.com$]
  fingerprints: [ABCDEF01]
  oidMatchers:
    fulcioExtensions: {build-signer-uri: [x]}
    oidExtensions: [{objectIdentifier: [1, 3, 6, 1, 4, 1, 57264, 1, 12], extensionValues: [https://github.com/acme/app]}]
    customExtensions: [{objectIdentifier: 1.3.6.1.4.1.57264.1.9, extensionValues: [y]}]
outputIdentities: out.txt
outputIdentitiesFormat: json
rekorLogs: [{readUrl: "http://127.0.0.1:1/", majorApiVersion: 2, logOrigin: log.example}]
ctLogs: [{readUrl: "http://127.0.0.1:2"}]
notifications:
  webhook: {url: "https://hooks.example/x", hmacSecretEnv: HOOK_KEY}
  command: [notify-send, alert]
`);
  assert.equal(c.startIndex, 3);
  assert.equal(c.certIdentities.length, 2);
  assert.equal(c.certIdentities[0]!.expected!.length, 1);
  assert.equal(c.certIdentities[0]!.expected![0]!.extensions.length, 2);
  assert.equal(c.certIdentities[1]!.expected, undefined);
  assert.deepEqual(c.fingerprints, ['abcdef01']);
  assert.deepEqual(
    c.oidMatchers.map((m) => m.oid),
    ['1.3.6.1.4.1.57264.1.9', '1.3.6.1.4.1.57264.1.12', '1.3.6.1.4.1.57264.1.9'],
  );
  assert.deepEqual(c.logs, [
    { url: 'http://127.0.0.1:1', kind: 'rekor-v2', origin: 'log.example' },
    { url: 'http://127.0.0.1:2', kind: 'ct' },
  ]);
  assert.equal(c.webhook?.hmacSecretEnv, 'HOOK_KEY');
  // Only the unanchored pattern is warned about.
  assert.deepEqual(
    c.warnings.map((w) => w.split(':')[0]),
    ['monitoredValues.certIdentities[1].certSubject'],
  );

  const bad: Array<[string, RegExp]> = [
    ['monitoredValues: [', /config yaml: not valid YAML at line 1/],
    [
      'monitoredValues:\n  certIdentities:\n    - certSubject: "a(b"',
      /monitoredValues\.certIdentities\[0\]\.certSubject: invalid regular expression/,
    ],
    [
      'monitoredValues:\n  certIdentities:\n    - certSubject: x\n      expected: [{branch: main}]',
      /certIdentities\[0\]\.expected\[0\]\.branch: unknown key/,
    ],
    ['monitoredValue: {}', /config monitoredValue: unknown key/],
    ['outputIdentitiesFormat: xml', /outputIdentitiesFormat: must be text or json/],
    ['startIndex: -1', /startIndex: must be a non-negative integer/],
    ['notifications: {webhook: {url: "x"}}', /notifications\.webhook\.url/],
    [
      'notifications: {webhook: {url: "https://h.example", hmacSecretEnv: "s3cret value"}}',
      /hmacSecretEnv: must name an environment variable/,
    ],
    ['monitoredValues: {oidMatchers: {fulcioExtensions: {build-signer: [x]}}}', /fulcioExtensions\.build-signer: unknown Fulcio extension/],
  ];
  for (const [yaml, message] of bad)
    assert.throws(
      () => parseMonitorConfig(yaml),
      (e: any) => e.code === 'MONITOR_CONFIG_INVALID' && message.test(e.message),
      yaml,
    );
});

test('buffer pool: a released body is reused for the next answer; foreign bodies and more than `keep` are not kept', () => {
  const pool = new BufferPool(1);
  const a = pool.take(1000);
  assert.equal(a.length, 1000);
  a.fill(1);
  pool.release(a);
  const b = pool.take(900);
  assert.equal(b.length, 900);
  assert.equal(b.buffer, a.buffer, 'reused');
  pool.release(Buffer.alloc(900)); // not the pool's: ignored
  const c = pool.take(900);
  assert.notEqual(c.buffer, a.buffer);
  const big = pool.take(200_000);
  pool.release(b);
  pool.release(big); // over keep = 1: dropped
  assert.equal(pool.take(500).buffer, b.buffer);
  assert.notEqual(pool.take(500).buffer, big.buffer, 'a body released beyond `keep` is not kept');
});
