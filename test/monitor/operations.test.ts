// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// `keyless monitor` in operation against a real `keyless serve`: crash and resume,
// notifiers, service mode with metrics, bad input, first runs without state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { httpFetcher } from '../../src/monitor/index.js';
import { monitor, readJsonLines, spawnMonitor, writeYaml, type OutputLine } from './helpers.js';
import { useMonitorStack } from './stack.js';

const s = useMonitorStack({ signAll: false });

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
  const dir = mkdtempSync(join(s.work, 'crash-'));
  const out = join(dir, 'identities.jsonl');
  const state = join(dir, 'state.json');
  const proxy = await stallingProxy(s.serve.url);
  try {
    const mine = await s.sign(1, s.tokens.alice!, 'alice', 25);
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
      s.serve.trustedRoot,
      '--concurrency',
      '1',
    ];
    // 1. Killed while fetching the third batch of entries.
    let retrieves = 0;
    proxy.stallWhen((path) => path.includes('/entries/retrieve') && ++retrieves === 3);
    const m = spawnMonitor(argsVia(s.config(out)));
    await proxy.stalled();
    m.child.kill('SIGKILL');
    await m.exit;
    assert.equal(existsSync(state), false);
    assert.deepEqual(readJsonLines(out), []);
    proxy.stallWhen(undefined);
    const r = await monitor(argsVia(s.config(out)));
    assert.equal(r.code, 3, r.stderr);
    const first = readJsonLines(out);
    const alice = first.filter((l) => l.CertSubject === 'alice@example.com').map((l) => l.Index);
    for (const i of mine) assert.ok(alice.includes(i), `entry ${i} skipped`);
    assert.equal(new Set(first.map((l) => `${l.Index} ${l.CertSubject}`)).size, first.length, 'a line is doubled');

    // 2. Killed by its own notifier: after the output lines were written, before the state was.
    const more = await s.sign(1, s.tokens.alice!, 'alice', 3);
    const killer = s.config(out, 'notifications:\n  command: [sh, -c, "kill -9 $PPID"]\n');
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
    const again = await monitor(argsVia(s.config(out)));
    assert.equal(again.code, 3, again.stderr);
    const final = readJsonLines(out);
    assert.deepEqual(final.slice(0, first.length), first);
    assert.deepEqual(
      final.slice(first.length).map((l) => l.Index),
      more,
      'rerun after the kill: each new entry exactly once',
    );
    const quiet = await monitor(argsVia(s.config(out)));
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(readJsonLines(out).length, final.length);
  } finally {
    proxy.server.closeAllConnections();
    proxy.server.close();
  }
});

test('notifiers: webhook retried until delivered, HMAC from the environment; command gets the alert JSON on stdin', async () => {
  const dir = mkdtempSync(join(s.work, 'notify-'));
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
    const cfg = s.config(
      join(dir, 'out.jsonl'),
      `notifications:
  webhook: {url: "http://127.0.0.1:${port}/hook", hmacSecretEnv: MONITOR_HOOK_KEY, retries: 3}
  command: [sh, -c, "cat > '${stdinCopy}'"]
`,
    );
    const r = await monitor(s.args(2, cfg, join(dir, 'state.json')), { MONITOR_HOOK_KEY: 'hook-secret' });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(calls, 2);
    assert.equal(received.length, 1);
    const alert = JSON.parse(received[0]!.body);
    assert.equal(alert.kind, 'unexpected-entries');
    assert.equal(alert.log, '127.0.0.1');
    assert.ok(alert.entries.length >= 1 && alert.entries.every((e: OutputLine) => e.unexpected));
    assert.ok(alert.entries.some((e: OutputLine) => e.Index === s.signed[2].alice && e.CertSubject === 'alice@example.com'));
    assert.equal(received[0]!.signature, `sha256=${createHmac('sha256', 'hook-secret').update(received[0]!.body).digest('hex')}`);
    assert.deepEqual(JSON.parse(readFileSync(stdinCopy, 'utf8')), alert);
    assert.ok(!r.stderr.includes('hook-secret'));
    // The key must come from the environment: a missing variable is a configuration error.
    const missing = await monitor(s.args(2, cfg, join(dir, 'state2.json')));
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /MONITOR_HOOK_KEY is not set/);
  } finally {
    hook.close();
  }
});

test('service mode: --interval passes, Prometheus metrics and /healthz on --monitor-port, stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(s.work, 'service-'));
  const m = spawnMonitor([
    ...s.args(2, s.config(join(dir, 'out.jsonl')), join(dir, 'state.json')),
    '--interval',
    '1s',
    '--monitor-port',
    '0',
  ]);
  try {
    const [, port] = await m.waitFor(/metrics on http:\/\/127\.0\.0\.1:([0-9]+)\/metrics/);
    await m.waitFor(/verified tree size ([0-9]+)[^\n]*\n[^]*verified tree size/); // two passes
    const size = Number(/verified tree size ([0-9]+)/.exec(m.stderr())![1]);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const labels = `{log="${s.serve.url}",api="rekor-v2"}`;
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
  const dir = mkdtempSync(join(s.work, 'bad-'));
  const run = (cfgText: string) =>
    monitor(['--url', s.serve.url, '--api-version', '2', '--config', cfgText, '--trusted-root', s.serve.trustedRoot]);
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
  const ok = await monitor(['--url', s.serve.url, '--api-version', '2', '--file', state, '--trusted-root', s.serve.trustedRoot]);
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
          s.serve.trustedRoot,
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
    const dir = mkdtempSync(join(s.work, `fresh-${v}-`));
    const out = join(dir, 'identities.jsonl');
    const cfg = writeYaml(
      dir,
      'c.yaml',
      `monitoredValues: {certIdentities: [{certSubject: ^alice@example\\.com$}]}\noutputIdentities: ${out}\noutputIdentitiesFormat: json\n`,
    );
    const first = await monitor(s.args(v, cfg, join(dir, 'state.json')));
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /scanned 0 entries/);
    const [index] = await s.sign(1, s.tokens.alice!, 'alice');
    const second = await monitor(s.args(v, cfg, join(dir, 'state.json')));
    assert.equal(second.code, 3, second.stderr);
    const lines = readJsonLines(out);
    assert.equal(lines.length, 1);
    if (v === 1) assert.equal(lines[0]!.Index, index);
    assert.equal(lines[0]!.CertSubject, 'alice@example.com');
  }
});

test('a log that stops answering mid-scan: --timeout bounds the wait, exit 1, the state and the output file kept (both log APIs)', async () => {
  const proxy = await stallingProxy(s.serve.url);
  try {
    for (const v of [1, 2] as const) {
      const dir = mkdtempSync(join(s.work, `stall-${v}-`));
      const out = join(dir, 'identities.jsonl');
      const state = join(dir, 'state.json');
      // Through the proxy, and a shorter --timeout (the last one given counts).
      const args = (cfg: string) => [...s.args(v, cfg, state).map((a) => (a === s.serve.url ? proxy.url : a)), '--timeout', '2s'];
      proxy.stallWhen(undefined);
      const first = await monitor(args(s.config(out)));
      assert.ok(first.code === 0 || first.code === 3, first.stderr);
      const stateBefore = readFileSync(state, 'utf8');
      const outBefore = existsSync(out) ? readFileSync(out, 'utf8') : '';
      await s.sign(v, s.tokens.alice!, 'alice', 12);
      // Rekor v1: the second batch of entries and every request after it hang (the first
      // batch was matched); tiles: every entry bundle after the checkpoint hangs.
      let n = 0;
      proxy.stallWhen((path) => (v === 1 ? path.includes('/entries/retrieve') && ++n >= 2 : path.includes('/tile/entries/')));
      const stalled = await monitor(args(s.config(out)));
      assert.equal(stalled.code, 1, stalled.stderr);
      assert.match(stalled.stderr, /no answer within 2 s/);
      assert.ok(!stalled.stderr.includes('    at '), 'no stack trace');
      assert.equal(readFileSync(state, 'utf8'), stateBefore, 'state kept');
      assert.equal(existsSync(out) ? readFileSync(out, 'utf8') : '', outBefore, 'nothing reported from the unfinished scan');
      // The log answers again: the same entries are scanned and reported once.
      proxy.stallWhen(undefined);
      const again = await monitor(args(s.config(out)));
      assert.equal(again.code, 3, again.stderr);
      const added = readJsonLines(out).slice(outBefore.split('\n').filter(Boolean).length);
      assert.equal(added.filter((l) => l.CertSubject === 'alice@example.com').length, 12);
    }
  } finally {
    proxy.server.closeAllConnections();
    proxy.server.close();
  }
});

test('the fetcher: a log that trickles its answer is cut off at --timeout, a truncated answer is never returned, an abandoned request stops', async () => {
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    if (req.url === '/short') return void res.writeHead(200, { 'content-length': '10' }).end('12345');
    res.writeHead(200, { 'content-length': '100000' });
    // One byte every 100 ms: never silent long enough for an idle timeout.
    const t = setInterval(() => res.write('x'), 100);
    timers.add(t);
    res.once('close', () => clearInterval(t));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const fetcher = httpFetcher({ timeoutMs: 2000 });
    await assert.rejects(fetcher.request(`${base}/trickle`), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'MONITOR_LOG_UNREACHABLE');
      assert.match(e.message, /no answer within 2 s/);
      return true;
    });
    // Fewer bytes than announced: a broken connection, retried, never returned as an answer.
    await assert.rejects(fetcher.request(`${base}/short`), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'MONITOR_LOG_UNREACHABLE');
      return true;
    });
    // A request abandoned through its signal stops at once, retries included.
    const stop = new AbortController();
    const pending = httpFetcher({ timeoutMs: 60_000 }).request(`${base}/trickle`, { signal: stop.signal });
    stop.abort();
    await assert.rejects(pending, /stopped/);
  } finally {
    for (const t of timers) clearInterval(t);
    server.closeAllConnections();
    server.close();
  }
});
