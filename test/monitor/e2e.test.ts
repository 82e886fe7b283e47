// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// `keyless monitor` against a real `keyless serve` (Rekor v1, Rekor v2 / tlog-tiles and the
// CT log), with entries from real signing by several identities of the development IdP,
// GitHub-Actions-style workflow identities among them: what is reported, and how.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitor, readJsonLines, writeYaml, type OutputLine } from './helpers.js';
import { RELEASE, useMonitorStack } from './stack.js';

const s = useMonitorStack({ signAll: true });

const summary = (lines: OutputLine[]) =>
  lines.map((l) => `${l.Index} ${l.CertSubject.replace(/@refs.*$/, '')} ${l.unexpected ? 'unexpected' : `expected`}`).sort();

for (const v of [1, 2] as const) {
  test(`Rekor v${v}: exactly the watched identities are reported, classified against the expectations; untrusted certificates never`, async () => {
    const dir = mkdtempSync(join(s.work, `v${v}-`));
    const out = join(dir, 'identities.jsonl');
    const r = await monitor(s.args(v, s.config(out), join(dir, 'state.json')));
    assert.equal(r.code, 3, r.stderr);
    const lines = readJsonLines(out);
    const idx = s.signed[v];
    assert.deepEqual(
      summary(lines),
      [
        `${idx.alice} alice@example.com unexpected`,
        `${idx.release} ${RELEASE.slice(0, -1)} expected`,
        `${idx.branch} ${RELEASE.slice(0, -1)} unexpected`,
        `${idx.selfHosted} ${RELEASE.slice(0, -1)} unexpected`,
      ].sort(),
    );
    const release = lines.find((l) => l.Index === idx.release)!;
    assert.match(release.expectedBy!, /source-repository-ref=/);
    assert.match(release.Issuer, /\/oidc\/github$/);
    for (const l of lines) {
      assert.deepEqual(Object.keys(l).slice(0, 9), [
        'MatchedIdentity',
        'CertSubject',
        'Issuer',
        'Fingerprint',
        'Subject',
        'Index',
        'UUID',
        'OIDExtension',
        'ExtensionValue',
      ]);
      if (v === 1) assert.match(l.UUID, /^[0-9a-f]{64,80}$/);
      assert.ok(v === 1 ? / - [0-9]+$/.test(l.log) : l.log === '127.0.0.1', l.log);
    }
    assert.ok(!lines.some((l) => l.Index === idx.bob));
    // One stderr line per unexpected event; nothing about bob.
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('UNEXPECTED ')).length, 3);
    const info = JSON.parse(readFileSync(`${out}.info.json`, 'utf8'))[0];
    assert.equal(info.untrusted, v === 1 ? 1 : 0);
    if (v === 1) assert.ok(!lines.some((l) => l.Index === idx.untrusted));

    // Nothing new: exit 0, nothing written. Then one more signing is the only new line.
    const again = await monitor(s.args(v, s.config(out), join(dir, 'state.json')));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readJsonLines(out).length, lines.length);
    const [next] = await s.sign(v, s.tokens.alice!, 'alice');
    const third = await monitor(s.args(v, s.config(out), join(dir, 'state.json')));
    assert.equal(third.code, 3, third.stderr);
    const after = readJsonLines(out);
    assert.deepEqual(
      after.slice(lines.length).map((l) => l.Index),
      [next],
    );
  });
}

test('CT log (get-entries): precertificates of the watched identities, classified the same way', async () => {
  const dir = mkdtempSync(join(s.work, 'ct-'));
  const out = join(dir, 'identities.jsonl');
  const r = await monitor(s.args('ct', s.config(out), join(dir, 'state.json')));
  assert.equal(r.code, 3, r.stderr);
  const lines = readJsonLines(out);
  const count = (re: RegExp, unexpected: boolean) => lines.filter((l) => re.test(l.CertSubject) && l.unexpected === unexpected).length;
  // One certificate per signing run: alice s.signed at least twice (v1 and v2), each workflow twice.
  assert.ok(count(/^alice@example\.com$/, true) >= 2);
  assert.equal(count(/@refs\/tags\/v1\.0\.0$/, false), 2);
  assert.equal(count(/@refs\/heads\/main$/, true), 2);
  assert.equal(count(/@refs\/tags\/v1\.0\.1$/, true), 2);
  assert.ok(!lines.some((l) => l.CertSubject.startsWith('bob')));
  assert.match(lines[0]!.log, /^[0-9a-f]{64}$/);
});

test("text output in rekor-monitor's format; only expected events: exit 0", async () => {
  const dir = mkdtempSync(join(s.work, 'text-'));
  const out = join(dir, 'identities.txt');
  const cfg = writeYaml(
    dir,
    'c.yaml',
    `
startIndex: 0
monitoredValues:
  certIdentities:
    - certSubject: ^https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v1\\.0\\.0$
      expected: [{runner-environment: ^github-hosted$}]
outputIdentities: ${out}
`,
  );
  const r = await monitor(s.args(2, cfg, join(dir, 'state.json')));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(out, 'utf8'), `${RELEASE}refs/tags/v1.0.0 ${s.serve.url}/oidc/github ${s.signed[2].release}\n`);
  assert.match(r.stderr, /^expected 127\.0\.0\.1 https:\/\/github.com\/acme/m);
});

/** A loopback proxy in front of the server that can hold a request forever (to kill the monitor mid-scan). */
test('several logs from the configuration (MonitorConfig style); subjects, fingerprints and OID matchers as rekor-monitor reads them', async () => {
  const dir = mkdtempSync(join(s.work, 'multi-'));
  const out = join(dir, 'identities.jsonl');
  const [bobIndex] = await s.sign(2, s.tokens.bob!, 'bob');
  const bobFingerprint = createHash('sha256').update(s.lastCertificate!).digest('hex');
  const cfg = writeYaml(
    dir,
    'c.yaml',
    `startIndex: 0
monitoredValues:
  subjects: [^alice@example\\.com$]
  fingerprints: [${bobFingerprint.toUpperCase()}]
  oidMatchers:
    fulcioExtensions: {runner-environment: [self-hosted]}
outputIdentities: ${out}
outputIdentitiesFormat: json
rekorLogs:
  - {readUrl: "${s.serve.url}", majorApiVersion: 1}
  - {readUrl: "${s.serve.url}/", majorApiVersion: 2, logOrigin: 127.0.0.1}
ctLogs: [{readUrl: "${s.serve.url}"}]
`,
  );
  const r = await monitor(['--config-file', cfg, '--file', join(dir, 'state.json'), '--trusted-root', s.serve.trustedRoot]);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stderr.match(/^monitor: /gm)?.length, 3);
  const lines = readJsonLines(out);
  const v2 = lines.filter((l) => l.log === '127.0.0.1');
  assert.ok(
    v2.some(
      (l) =>
        l.Subject === 'alice@example.com' && l.Index === s.signed[2].alice && (l.MatchedIdentity as { type: string }).type === 'subject',
    ),
  );
  assert.ok(v2.some((l) => l.Fingerprint === bobFingerprint && l.Index === bobIndex));
  assert.ok(
    v2.some(
      (l) =>
        l.ExtensionValue === 'self-hosted' &&
        l.Index === s.signed[2].selfHosted &&
        (l.OIDExtension as number[]).join('.') === '1.3.6.1.4.1.57264.1.11',
    ),
  );
  assert.ok(!v2.some((l) => l.Index === s.signed[2].release), 'the github-hosted release matches nothing here');
  assert.ok(
    lines.some((l) => / - [0-9]+$/.test(l.log)),
    'Rekor v1 lines',
  );
  assert.ok(
    lines.some((l) => /^[0-9a-f]{64}$/.test(l.log)),
    'CT lines',
  );
  // A configured origin that the log does not sign with is an inconsistency, not a match.
  const wrong = writeYaml(dir, 'w.yaml', `rekorLogs: [{readUrl: "${s.serve.url}", majorApiVersion: 2, logOrigin: other.example}]\n`);
  const w = await monitor(['--config-file', wrong, '--file', join(dir, 'state2.json'), '--trusted-root', s.serve.trustedRoot]);
  assert.equal(w.code, 4, w.stderr);
  assert.match(w.stderr, /not the configured "other\.example"/);
});
