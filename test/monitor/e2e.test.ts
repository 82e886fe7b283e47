// `keyless monitor` against a real `keyless serve` (Rekor v1, Rekor v2 / tlog-tiles and the
// CT log), with entries from real signing by several identities of the development IdP,
// GitHub-Actions-style workflow identities among them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, sign as nodeSign } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, keyless, type Serve } from '../sign/serve-helper.js';
import { createCaChain, generateKey, issueLeafCertificate } from '../../src/x509/build/index.js';
import { monitor, readJsonLines, spawnMonitor, writeYaml, type OutputLine } from './helpers.js';

let serve: Serve;
let work: string;
/** Log index of each signing, per log API. */
const signed: Record<1 | 2, Record<string, number>> = { 1: {}, 2: {} };
const RELEASE = 'https://github.com/acme/app/.github/workflows/release.yml@';

async function token(args: string[]): Promise<string> {
  const r = await keyless(['dev-token', '--url', serve.url, ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

let fileCounter = 0;
async function sign(v: 1 | 2, tok: string, name: string, count = 1): Promise<number[]> {
  const files = Array.from({ length: count }, () => {
    const f = join(work, `artifact-${fileCounter++}.txt`);
    writeFileSync(f, `${name} ${fileCounter} ${Math.random()}\n`);
    return f;
  });
  const out = mkdtempSync(join(work, 'bundles-'));
  const r = await keyless(['sign-blob', ...files, '--output-dir', out, '--signing-config', serve.signingConfig(v), '--trusted-root', serve.trustedRoot, '--identity-token', tok]);
  assert.equal(r.code, 0, r.stderr);
  return files.map((f) => {
    const b = JSON.parse(readFileSync(join(out, `${f.split('/').pop()}.sigstore.json`), 'utf8'));
    return Number(b.verificationMaterial.tlogEntries[0].logIndex ?? 0);
  });
}

const tokens: Record<string, string> = {};

before(async () => {
  serve = await startServe();
  work = mkdtempSync(join(tmpdir(), 'keyless-monitor-e2e-'));
  tokens.alice = await token(['--email', 'alice@example.com']);
  tokens.bob = await token(['--email', 'bob@example.com']);
  tokens.release = await token(['--github-repository', 'acme/app', '--github-ref', 'refs/tags/v1.0.0']);
  tokens.branch = await token(['--github-repository', 'acme/app', '--github-ref', 'refs/heads/main']);
  tokens.selfHosted = await token(['--github-repository', 'acme/app', '--github-ref', 'refs/tags/v1.0.1', '--github-runner-environment', 'self-hosted']);
  for (const v of [1, 2] as const) {
    for (const who of ['alice', 'bob', 'release', 'branch', 'selfHosted']) signed[v][who] = (await sign(v, tokens[who]!, who))[0]!;
  }
  // A certificate for alice@example.com from a CA nobody trusts, logged through the Rekor v1
  // API as a hashedrekord with that certificate as its public key: never an alert.
  const untrusted = createCaChain();
  const key = generateKey();
  const cert = issueLeafCertificate({ publicKey: key.publicKey, san: { type: 'email', value: 'alice@example.com' }, sigstoreExtensions: { '1.3.6.1.4.1.57264.1.8': 'https://accounts.example.com' } }, untrusted.intermediate);
  const data = Buffer.from('self-made\n');
  const res = await fetch(`${serve.url}/api/v1/log/entries`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: '0.0.1', kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(data).digest('hex') } },
        signature: { content: nodeSign('sha256', data, key.privateKey).toString('base64'), publicKey: { content: Buffer.from(cert.toPem()).toString('base64') } },
      },
    }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  signed[1].untrusted = (Object.values(JSON.parse(text) as Record<string, { logIndex: number }>)[0]!).logIndex;
});
after(async () => {
  await serve?.stop();
});

function config(out: string, extra = '', format = 'json'): string {
  return writeYaml(work, `config-${Math.random().toString(36).slice(2)}.yaml`, `
startIndex: 0
monitoredValues:
  certIdentities:
    - certSubject: ^alice@example\\.com$
    - certSubject: ^https://github\\.com/acme/app/\\.github/workflows/release\\.yml@
      expected:
        - issuer: ^http://127\\.0\\.0\\.1:[0-9]+/oidc/github$
          source-repository-ref: ^refs/tags/v.*$
          runner-environment: ^github-hosted$
outputIdentities: ${out}
outputIdentitiesFormat: ${format}
logInfoFile: ${out}.info.json
${extra}`);
}

const args = (v: 1 | 2 | 'ct', cfg: string, state: string) => [
  '--url', serve.url, ...(v === 'ct' ? ['--ct'] : ['--api-version', String(v)]), '--config-file', cfg, '--file', state, '--trusted-root', serve.trustedRoot, '--timeout', '5s',
];

const summary = (lines: OutputLine[]) => lines.map((l) => `${l.Index} ${l.CertSubject.replace(/@refs.*$/, '')} ${l.unexpected ? 'unexpected' : `expected`}`).sort();

for (const v of [1, 2] as const) {
  test(`Rekor v${v}: exactly the watched identities are reported, classified against the expectations; untrusted certificates never`, async () => {
    const dir = mkdtempSync(join(work, `v${v}-`));
    const out = join(dir, 'identities.jsonl');
    const r = await monitor(args(v, config(out), join(dir, 'state.json')));
    assert.equal(r.code, 3, r.stderr);
    const lines = readJsonLines(out);
    const s = signed[v];
    assert.deepEqual(summary(lines), [
      `${s.alice} alice@example.com unexpected`,
      `${s.release} ${RELEASE.slice(0, -1)} expected`,
      `${s.branch} ${RELEASE.slice(0, -1)} unexpected`,
      `${s.selfHosted} ${RELEASE.slice(0, -1)} unexpected`,
    ].sort());
    const release = lines.find((l) => l.Index === s.release)!;
    assert.match(release.expectedBy!, /source-repository-ref=/);
    assert.match(release.Issuer, /\/oidc\/github$/);
    for (const l of lines) {
      assert.deepEqual(Object.keys(l).slice(0, 9), ['MatchedIdentity', 'CertSubject', 'Issuer', 'Fingerprint', 'Subject', 'Index', 'UUID', 'OIDExtension', 'ExtensionValue']);
      if (v === 1) assert.match(l.UUID, /^[0-9a-f]{64,80}$/);
      assert.ok(v === 1 ? / - [0-9]+$/.test(l.log) : l.log === '127.0.0.1', l.log);
    }
    assert.ok(!lines.some((l) => l.Index === s.bob));
    // One stderr line per unexpected event; nothing about bob.
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('UNEXPECTED ')).length, 3);
    const info = JSON.parse(readFileSync(`${out}.info.json`, 'utf8'))[0];
    assert.equal(info.untrusted, v === 1 ? 1 : 0);
    if (v === 1) assert.ok(!lines.some((l) => l.Index === s.untrusted));

    // Nothing new: exit 0, nothing written. Then one more signing is the only new line.
    const again = await monitor(args(v, config(out), join(dir, 'state.json')));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readJsonLines(out).length, lines.length);
    const [next] = await sign(v, tokens.alice!, 'alice');
    const third = await monitor(args(v, config(out), join(dir, 'state.json')));
    assert.equal(third.code, 3, third.stderr);
    const after = readJsonLines(out);
    assert.deepEqual(after.slice(lines.length).map((l) => l.Index), [next]);
  });
}

test('CT log (get-entries): precertificates of the watched identities, classified the same way', async () => {
  const dir = mkdtempSync(join(work, 'ct-'));
  const out = join(dir, 'identities.jsonl');
  const r = await monitor(args('ct', config(out), join(dir, 'state.json')));
  assert.equal(r.code, 3, r.stderr);
  const lines = readJsonLines(out);
  const count = (re: RegExp, unexpected: boolean) => lines.filter((l) => re.test(l.CertSubject) && l.unexpected === unexpected).length;
  // One certificate per signing run: alice signed at least twice (v1 and v2), each workflow twice.
  assert.ok(count(/^alice@example\.com$/, true) >= 2);
  assert.equal(count(/@refs\/tags\/v1\.0\.0$/, false), 2);
  assert.equal(count(/@refs\/heads\/main$/, true), 2);
  assert.equal(count(/@refs\/tags\/v1\.0\.1$/, true), 2);
  assert.ok(!lines.some((l) => l.CertSubject.startsWith('bob')));
  assert.match(lines[0]!.log, /^[0-9a-f]{64}$/);
});

test('text output in rekor-monitor\'s format; only expected events: exit 0', async () => {
  const dir = mkdtempSync(join(work, 'text-'));
  const out = join(dir, 'identities.txt');
  const cfg = writeYaml(dir, 'c.yaml', `
startIndex: 0
monitoredValues:
  certIdentities:
    - certSubject: ^https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v1\\.0\\.0$
      expected: [{runner-environment: ^github-hosted$}]
outputIdentities: ${out}
`);
  const r = await monitor(args(2, cfg, join(dir, 'state.json')));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(out, 'utf8'), `${RELEASE}refs/tags/v1.0.0 ${serve.url}/oidc/github ${signed[2].release}\n`);
  assert.match(r.stderr, /^expected 127\.0\.0\.1 https:\/\/github.com\/acme/m);
});
