// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
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
  const r = await keyless([
    'sign-blob',
    ...files,
    '--output-dir',
    out,
    '--signing-config',
    serve.signingConfig(v),
    '--trusted-root',
    serve.trustedRoot,
    '--identity-token',
    tok,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return files.map((f) => {
    const b = JSON.parse(readFileSync(join(out, `${f.split('/').pop()}.sigstore.json`), 'utf8'));
    lastCertificate = Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64');
    return Number(b.verificationMaterial.tlogEntries[0].logIndex ?? 0);
  });
}
let lastCertificate: Buffer | undefined;

const tokens: Record<string, string> = {};

before(async () => {
  serve = await startServe();
  work = mkdtempSync(join(tmpdir(), 'keyless-monitor-e2e-'));
  tokens.alice = await token(['--email', 'alice@example.com']);
  tokens.bob = await token(['--email', 'bob@example.com']);
  tokens.release = await token(['--github-repository', 'acme/app', '--github-ref', 'refs/tags/v1.0.0']);
  tokens.branch = await token(['--github-repository', 'acme/app', '--github-ref', 'refs/heads/main']);
  tokens.selfHosted = await token([
    '--github-repository',
    'acme/app',
    '--github-ref',
    'refs/tags/v1.0.1',
    '--github-runner-environment',
    'self-hosted',
  ]);
  for (const v of [1, 2] as const) {
    for (const who of ['alice', 'bob', 'release', 'branch', 'selfHosted']) signed[v][who] = (await sign(v, tokens[who]!, who))[0]!;
  }
  // A certificate for alice@example.com from a CA nobody trusts, logged through the Rekor v1
  // API as a hashedrekord with that certificate as its public key: never an alert.
  const untrusted = createCaChain();
  const key = generateKey();
  const cert = issueLeafCertificate(
    {
      publicKey: key.publicKey,
      san: { type: 'email', value: 'alice@example.com' },
      sigstoreExtensions: { '1.3.6.1.4.1.57264.1.8': 'https://accounts.example.com' },
    },
    untrusted.intermediate,
  );
  const data = Buffer.from('self-made\n');
  const res = await fetch(`${serve.url}/api/v1/log/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(data).digest('hex') } },
        signature: {
          content: nodeSign('sha256', data, key.privateKey).toString('base64'),
          publicKey: { content: Buffer.from(cert.toPem()).toString('base64') },
        },
      },
    }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  signed[1].untrusted = Object.values(JSON.parse(text) as Record<string, { logIndex: number }>)[0]!.logIndex;
});
after(async () => {
  await serve?.stop();
});

function config(out: string, extra = '', format = 'json'): string {
  return writeYaml(
    work,
    `config-${Math.random().toString(36).slice(2)}.yaml`,
    `
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
${extra}`,
  );
}

const args = (v: 1 | 2 | 'ct', cfg: string, state: string) => [
  '--url',
  serve.url,
  ...(v === 'ct' ? ['--ct'] : ['--api-version', String(v)]),
  '--config-file',
  cfg,
  '--file',
  state,
  '--trusted-root',
  serve.trustedRoot,
  '--timeout',
  '5s',
];

const summary = (lines: OutputLine[]) =>
  lines.map((l) => `${l.Index} ${l.CertSubject.replace(/@refs.*$/, '')} ${l.unexpected ? 'unexpected' : `expected`}`).sort();

for (const v of [1, 2] as const) {
  test(`Rekor v${v}: exactly the watched identities are reported, classified against the expectations; untrusted certificates never`, async () => {
    const dir = mkdtempSync(join(work, `v${v}-`));
    const out = join(dir, 'identities.jsonl');
    const r = await monitor(args(v, config(out), join(dir, 'state.json')));
    assert.equal(r.code, 3, r.stderr);
    const lines = readJsonLines(out);
    const s = signed[v];
    assert.deepEqual(
      summary(lines),
      [
        `${s.alice} alice@example.com unexpected`,
        `${s.release} ${RELEASE.slice(0, -1)} expected`,
        `${s.branch} ${RELEASE.slice(0, -1)} unexpected`,
        `${s.selfHosted} ${RELEASE.slice(0, -1)} unexpected`,
      ].sort(),
    );
    const release = lines.find((l) => l.Index === s.release)!;
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
    assert.deepEqual(
      after.slice(lines.length).map((l) => l.Index),
      [next],
    );
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

test("text output in rekor-monitor's format; only expected events: exit 0", async () => {
  const dir = mkdtempSync(join(work, 'text-'));
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
  const r = await monitor(args(2, cfg, join(dir, 'state.json')));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(out, 'utf8'), `${RELEASE}refs/tags/v1.0.0 ${serve.url}/oidc/github ${signed[2].release}\n`);
  assert.match(r.stderr, /^expected 127\.0\.0\.1 https:\/\/github.com\/acme/m);
});

/** A loopback proxy in front of the server that can hold a request forever (to kill the monitor mid-scan). */
async function stallingProxy(target: string): Promise<{
  url: string;
  server: Server;
  stallWhen(f: ((path: string, n: number) => boolean) | undefined): void;
  stalled: () => Promise<void>;
}> {
  let predicate: ((path: string, n: number) => boolean) | undefined;
  let count = 0;
  let onStall: () => void = () => undefined;
  let stalledPromise = new Promise<void>((r) => (onStall = r));
  const t = new URL(target);
  const server = createServer((req, res) => {
    if (predicate?.(req.url ?? '', count++)) {
      onStall();
      return; // never answered
    }
    const up = httpRequest({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    stallWhen(f) {
      predicate = f;
      count = 0;
      stalledPromise = new Promise<void>((r) => (onStall = r));
    },
    stalled: () => stalledPromise,
  };
}

test('crash and resume: SIGKILL mid-scan and between the output and the state; the rerun skips nothing and doubles nothing', async () => {
  const dir = mkdtempSync(join(work, 'crash-'));
  const out = join(dir, 'identities.jsonl');
  const state = join(dir, 'state.json');
  const proxy = await stallingProxy(serve.url);
  try {
    const mine = await sign(1, tokens.alice!, 'alice', 25);
    const argsVia = (cfg: string) => [
      '--url',
      proxy.url,
      '--api-version',
      '1',
      '--config-file',
      cfg,
      '--file',
      state,
      '--trusted-root',
      serve.trustedRoot,
      '--concurrency',
      '1',
    ];
    // 1. Killed while fetching the third batch of entries.
    let retrieves = 0;
    proxy.stallWhen((path) => path.includes('/entries/retrieve') && ++retrieves === 3);
    const m = spawnMonitor(argsVia(config(out)));
    await proxy.stalled();
    m.child.kill('SIGKILL');
    await m.exit;
    assert.equal(existsSync(state), false);
    assert.deepEqual(readJsonLines(out), []);
    proxy.stallWhen(undefined);
    const r = await monitor(argsVia(config(out)));
    assert.equal(r.code, 3, r.stderr);
    const first = readJsonLines(out);
    const alice = first.filter((l) => l.CertSubject === 'alice@example.com').map((l) => l.Index);
    for (const i of mine) assert.ok(alice.includes(i), `entry ${i} skipped`);
    assert.equal(new Set(first.map((l) => `${l.Index} ${l.CertSubject}`)).size, first.length, 'a line is doubled');

    // 2. Killed by its own notifier: after the output lines were written, before the state was.
    const more = await sign(1, tokens.alice!, 'alice', 3);
    const killer = config(out, 'notifications:\n  command: [sh, -c, "kill -9 $PPID"]\n');
    const k = spawnMonitor(argsVia(killer));
    const exit = await k.exit;
    assert.equal(exit.signal, 'SIGKILL', k.stderr());
    assert.deepEqual(
      readJsonLines(out)
        .slice(first.length)
        .map((l) => l.Index),
      more,
      'the killed run wrote its lines',
    );
    const again = await monitor(argsVia(config(out)));
    assert.equal(again.code, 3, again.stderr);
    const final = readJsonLines(out);
    assert.deepEqual(final.slice(0, first.length), first);
    assert.deepEqual(
      final.slice(first.length).map((l) => l.Index),
      more,
      'rerun after the kill: each new entry exactly once',
    );
    const quiet = await monitor(argsVia(config(out)));
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(readJsonLines(out).length, final.length);
  } finally {
    proxy.server.closeAllConnections();
    proxy.server.close();
  }
});

test('notifiers: webhook retried until delivered, HMAC from the environment; command gets the alert JSON on stdin', async () => {
  const dir = mkdtempSync(join(work, 'notify-'));
  const received: Array<{ body: string; signature: string | undefined }> = [];
  let calls = 0;
  const hook = createServer((req, res) => {
    let body = '';
    req
      .setEncoding('utf8')
      .on('data', (d: string) => (body += d))
      .on('end', () => {
        if (calls++ === 0) return void res.writeHead(503).end('busy');
        received.push({ body, signature: req.headers['x-keyless-signature'] as string | undefined });
        res.writeHead(204).end();
      });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  try {
    const port = (hook.address() as { port: number }).port;
    const stdinCopy = join(dir, 'alert.json');
    const cfg = config(
      join(dir, 'out.jsonl'),
      `notifications:
  webhook: {url: "http://127.0.0.1:${port}/hook", hmacSecretEnv: MONITOR_HOOK_KEY, retries: 3}
  command: [sh, -c, "cat > '${stdinCopy}'"]
`,
    );
    const r = await monitor(args(2, cfg, join(dir, 'state.json')), { MONITOR_HOOK_KEY: 'hook-secret' });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(calls, 2);
    assert.equal(received.length, 1);
    const alert = JSON.parse(received[0]!.body);
    assert.equal(alert.kind, 'unexpected-entries');
    assert.equal(alert.log, '127.0.0.1');
    assert.ok(alert.entries.length >= 3 && alert.entries.every((e: OutputLine) => e.unexpected));
    assert.equal(received[0]!.signature, `sha256=${createHmac('sha256', 'hook-secret').update(received[0]!.body).digest('hex')}`);
    assert.deepEqual(JSON.parse(readFileSync(stdinCopy, 'utf8')), alert);
    assert.ok(!r.stderr.includes('hook-secret'));
    // The key must come from the environment: a missing variable is a configuration error.
    const missing = await monitor(args(2, cfg, join(dir, 'state2.json')));
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /MONITOR_HOOK_KEY is not set/);
  } finally {
    hook.close();
  }
});

test('service mode: --interval passes, Prometheus metrics and /healthz on --monitor-port, stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(work, 'service-'));
  const m = spawnMonitor([...args(2, config(join(dir, 'out.jsonl')), join(dir, 'state.json')), '--interval', '1s', '--monitor-port', '0']);
  try {
    const [, port] = await m.waitFor(/metrics on http:\/\/127\.0\.0\.1:([0-9]+)\/metrics/);
    await m.waitFor(/verified tree size ([0-9]+)[^\n]*\n[^]*verified tree size/); // two passes
    const size = Number(/verified tree size ([0-9]+)/.exec(m.stderr())![1]);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const labels = `{log="${serve.url}",api="rekor-v2"}`;
    assert.ok(metrics.includes(`keyless_monitor_entries_scanned_total${labels} ${size}`), metrics);
    assert.ok(metrics.includes(`keyless_monitor_verified_tree_size${labels} ${size}`), metrics);
    assert.ok(metrics.includes(`keyless_monitor_scan_lag_entries${labels} 0`), metrics);
    assert.match(metrics, /keyless_monitor_unexpected_total\{[^}]*\} [1-9]/);
    assert.match(metrics, /# TYPE keyless_monitor_consistency_failures_total counter/);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    m.child.kill('SIGTERM');
    const exit = await m.exit;
    assert.equal(exit.code, 3, m.stderr());
  } finally {
    m.child.kill('SIGKILL');
  }
});

test('bad input: configuration errors exit 2 naming the key; an unreachable or garbled log exits 1 and keeps the state', async () => {
  const dir = mkdtempSync(join(work, 'bad-'));
  const run = (cfgText: string) =>
    monitor(['--url', serve.url, '--api-version', '2', '--config', cfgText, '--trusted-root', serve.trustedRoot]);
  for (const [text, re] of [
    [
      'monitoredValues: {certIdentities: [{certSubject: "(unclosed"}]}',
      /monitoredValues\.certIdentities\[0\]\.certSubject: invalid regular expression/,
    ],
    ['monitoredValues: {certIdentities: [{certSubject: x}]', /not valid YAML/],
    ['outputIdentitiesFormat: yaml', /outputIdentitiesFormat/],
  ] as const) {
    const r = await run(text);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  }
  const noLog = await monitor(['--config', 'startIndex: 0']);
  assert.equal(noLog.code, 2);
  assert.match(noLog.stderr, /no log to monitor/);

  // A verified state first, then the log goes away or answers garbage.
  const state = join(dir, 'state.json');
  const ok = await monitor(['--url', serve.url, '--api-version', '2', '--file', state, '--trusted-root', serve.trustedRoot]);
  assert.equal(ok.code, 0, ok.stderr);
  const before = readFileSync(state, 'utf8');
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const deadPort = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const garbage = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello, I am not a log\n'));
  await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
  try {
    for (const url of [`http://127.0.0.1:${deadPort}`, `http://127.0.0.1:${(garbage.address() as { port: number }).port}`]) {
      for (const api of ['1', '2']) {
        const r = await monitor([
          '--url',
          url,
          '--api-version',
          api,
          '--file',
          state,
          '--trusted-root',
          serve.trustedRoot,
          '--timeout',
          '1s',
        ]);
        assert.equal(r.code, 1, `${url} v${api}: ${r.stderr}`);
        assert.match(r.stderr, /error http:\/\/127\.0\.0\.1:[0-9]+/);
        assert.equal(readFileSync(state, 'utf8'), before);
      }
    }
  } finally {
    garbage.close();
  }
});

test('first run without state and without startIndex starts at the current size (frontier from an inclusion proof), then sees only new entries', async () => {
  for (const v of [1, 'ct'] as const) {
    const dir = mkdtempSync(join(work, `fresh-${v}-`));
    const out = join(dir, 'identities.jsonl');
    const cfg = writeYaml(
      dir,
      'c.yaml',
      `monitoredValues: {certIdentities: [{certSubject: ^alice@example\\.com$}]}\noutputIdentities: ${out}\noutputIdentitiesFormat: json\n`,
    );
    const first = await monitor(args(v, cfg, join(dir, 'state.json')));
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /scanned 0 entries/);
    const [index] = await sign(1, tokens.alice!, 'alice');
    const second = await monitor(args(v, cfg, join(dir, 'state.json')));
    assert.equal(second.code, 3, second.stderr);
    const lines = readJsonLines(out);
    assert.equal(lines.length, 1);
    if (v === 1) assert.equal(lines[0]!.Index, index);
    assert.equal(lines[0]!.CertSubject, 'alice@example.com');
  }
});

test('several logs from the configuration (MonitorConfig style); subjects, fingerprints and OID matchers as rekor-monitor reads them', async () => {
  const dir = mkdtempSync(join(work, 'multi-'));
  const out = join(dir, 'identities.jsonl');
  const [bobIndex] = await sign(2, tokens.bob!, 'bob');
  const bobFingerprint = createHash('sha256').update(lastCertificate!).digest('hex');
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
  - {readUrl: "${serve.url}", majorApiVersion: 1}
  - {readUrl: "${serve.url}/", majorApiVersion: 2, logOrigin: 127.0.0.1}
ctLogs: [{readUrl: "${serve.url}"}]
`,
  );
  const r = await monitor(['--config-file', cfg, '--file', join(dir, 'state.json'), '--trusted-root', serve.trustedRoot]);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stderr.match(/^monitor: /gm)?.length, 3);
  const lines = readJsonLines(out);
  const v2 = lines.filter((l) => l.log === '127.0.0.1');
  assert.ok(
    v2.some(
      (l) => l.Subject === 'alice@example.com' && l.Index === signed[2].alice && (l.MatchedIdentity as { type: string }).type === 'subject',
    ),
  );
  assert.ok(v2.some((l) => l.Fingerprint === bobFingerprint && l.Index === bobIndex));
  assert.ok(
    v2.some(
      (l) =>
        l.ExtensionValue === 'self-hosted' &&
        l.Index === signed[2].selfHosted &&
        (l.OIDExtension as number[]).join('.') === '1.3.6.1.4.1.57264.1.11',
    ),
  );
  assert.ok(!v2.some((l) => l.Index === signed[2].release), 'the github-hosted release matches nothing here');
  assert.ok(
    lines.some((l) => / - [0-9]+$/.test(l.log)),
    'Rekor v1 lines',
  );
  assert.ok(
    lines.some((l) => /^[0-9a-f]{64}$/.test(l.log)),
    'CT lines',
  );
  // A configured origin that the log does not sign with is an inconsistency, not a match.
  const wrong = writeYaml(dir, 'w.yaml', `rekorLogs: [{readUrl: "${serve.url}", majorApiVersion: 2, logOrigin: other.example}]\n`);
  const w = await monitor(['--config-file', wrong, '--file', join(dir, 'state2.json'), '--trusted-root', serve.trustedRoot]);
  assert.equal(w.code, 4, w.stderr);
  assert.match(w.stderr, /not the configured "other\.example"/);
});
