// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// `keyless serve` start-up: no request ever meets a half-built server, and a start-up
// failure is one line on stderr, exit 2, and a closed port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYLESS_BIN, freePort, runKeyless, startServe, tempDir } from './helpers.js';

const STACK_TRACE = /^\s+at /m;

/** Whether the port can be bound again (the failed server left nothing listening). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s: Server = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** One `keyless serve` on a known port, with /healthz polled from before the process exists until it is stopped. */
async function startWhileHammering(
  dataDir: string,
  port: number,
): Promise<{ code: number | null; stderr: string; statuses: Map<number, number> }> {
  const statuses = new Map<number, number>();
  let hammering = true;
  const hammer = (async () => {
    while (hammering) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) });
        await r.arrayBuffer();
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      } catch {
        // Not listening yet (connection refused): keep knocking.
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  })();
  const child = spawn(process.execPath, [KEYLESS_BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<boolean>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.includes('\n')) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  if (ready) {
    // A few more answers from the running server, then our SIGTERM.
    const seen = statuses.get(200) ?? 0;
    while (child.exitCode === null && (statuses.get(200) ?? 0) < seen + 3) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGTERM');
  }
  const code = await exited;
  hammering = false;
  await hammer;
  return { code, stderr, statuses };
}

test('20 starts while /healthz is hammered from the start: never a crash, only 503-then-200, exit 0 on SIGTERM', async () => {
  const dataDir = join(tempDir(), 'data');
  let starting = 0;
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    const { code, stderr, statuses } = await startWhileHammering(dataDir, port);
    assert.equal(code, 0, `start ${i}: exit ${code}; stderr:\n${stderr}`);
    assert.doesNotMatch(stderr, STACK_TRACE, `start ${i}`);
    assert.doesNotMatch(stderr, /TypeError|error:/, `start ${i}`);
    assert.ok((statuses.get(200) ?? 0) >= 3, `start ${i}: the running server answered`);
    assert.deepEqual(
      [...statuses.keys()].filter((s) => s !== 200 && s !== 503),
      [],
      `start ${i}: only 200 and 503 (starting)`,
    );
    starting += statuses.get(503) ?? 0;
  }
  // Not asserted (timing-dependent): how often a request arrived while the server was starting.
  process.stderr.write(`startup test: ${starting} requests answered 503 while starting\n`);
});

test('while starting, the socket answers 503 with Retry-After and a JSON code, never a fastify error', async () => {
  // The gate's answer, seen directly: poll until the first answer of a fresh start.
  const dataDir = join(tempDir(), 'data');
  const port = await freePort();
  const child = spawn(process.execPath, [KEYLESS_BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let first: Response | undefined;
  while (!first && child.exitCode === null) {
    first = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    if (!first) await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(first);
  if (first.status === 503) {
    assert.equal(first.headers.get('retry-after'), '1');
    assert.equal(((await first.json()) as { code: string }).code, 'SERVER_STARTING');
  } else {
    assert.equal(first.status, 200);
  }
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('bad start-up inputs: one line on stderr, exit 2, no stack trace, and the port is free again', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'bad-config.json'), JSON.stringify({ keys: { ca: 'dsa-1024' } }));
  writeFileSync(join(dir, 'not-a-dir'), 'x');
  writeFileSync(join(dir, 'unknown-driver.json'), JSON.stringify({ storage: { driver: 'oracle' } }));
  writeFileSync(join(dir, 'public-idp.json'), JSON.stringify({ devIdp: { enabled: true } }));
  const busy = createServer();
  const busyPort = await new Promise<number>((resolve) =>
    busy.listen(0, '127.0.0.1', () => resolve((busy.address() as { port: number }).port)),
  );
  try {
    const cases: Array<{ name: string; args: (port: number) => string[]; message: RegExp; port?: number }> = [
      {
        name: 'ftp public URL',
        args: (p) => ['--data-dir', join(dir, 'd1'), '--port', String(p), '--public-url', 'ftp://x'],
        message: /--public-url: must be an http or https URL/,
      },
      {
        name: 'bad configuration',
        args: (p) => ['--data-dir', join(dir, 'd2'), '--port', String(p), '--config', join(dir, 'bad-config.json')],
        message: /config\.keys\.ca/,
      },
      {
        name: 'missing configuration',
        args: (p) => ['--data-dir', join(dir, 'd3'), '--port', String(p), '--config', join(dir, 'missing.json')],
        message: /cannot read configuration file/,
      },
      {
        name: 'unknown storage driver',
        args: (p) => ['--data-dir', join(dir, 'd4'), '--port', String(p), '--config', join(dir, 'unknown-driver.json')],
        message: /unknown storage driver "oracle"/,
      },
      {
        name: 'data directory is a file',
        args: (p) => ['--data-dir', join(dir, 'not-a-dir'), '--port', String(p)],
        message: /is not a directory/,
      },
      {
        name: 'dev IdP on behind a public URL without allowPublic',
        args: (p) => [
          '--data-dir',
          join(dir, 'd5'),
          '--port',
          String(p),
          '--config',
          join(dir, 'public-idp.json'),
          '--public-url',
          'https://sigstore.example.com',
        ],
        message: /allowPublic/,
      },
      {
        name: 'port in use',
        args: () => ['--data-dir', join(dir, 'd6'), '--port', String(busyPort)],
        message: /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/,
        port: busyPort,
      },
    ];
    for (const c of cases) {
      const port = c.port ?? (await freePort());
      const r = await runKeyless(['serve', ...c.args(port)]);
      assert.equal(r.code, 2, `${c.name}: exit ${r.code}; stderr:\n${r.stderr}`);
      assert.equal(r.stdout, '', c.name);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `${c.name}: one line, got:\n${r.stderr}`);
      assert.match(lines[0]!, /^keyless serve: error: /, c.name);
      assert.match(lines[0]!, c.message, c.name);
      assert.doesNotMatch(r.stderr, STACK_TRACE, c.name);
      if (c.port === undefined) assert.ok(await portIsFree(port), `${c.name}: port ${port} was left open`);
    }
  } finally {
    busy.close();
  }
});

test('behind a public URL the dev IdP stays off under "auto"; with enabled + allowPublic it runs, loudly', async () => {
  const proxied = await startServe({ args: ['--public-url', 'https://sigstore.example.com'] });
  try {
    const health = (await (await fetch(`${proxied.url}/healthz`)).json()) as { services: string[] };
    assert.ok(!health.services.includes('dev-idp'));
    assert.equal(
      (
        await fetch(`${proxied.url}/oidc/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', email: 'a@b.c' }),
        })
      ).status,
      404,
    );
    const sc = JSON.parse(readFileSync(join(proxied.dataDir, 'signing_config.json'), 'utf8')) as { oidcUrls?: unknown[] };
    assert.deepEqual(sc.oidcUrls ?? [], []);
    assert.doesNotMatch(proxied.stderr(), /DEVELOPMENT identity provider is ON/);
  } finally {
    assert.equal(await proxied.stop(), 0);
  }

  const dir = tempDir();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ devIdp: { enabled: true, allowPublic: true } }));
  const open = await startServe({ args: ['--public-url', 'https://sigstore.example.com', '--config', join(dir, 'config.json')] });
  try {
    const health = (await (await fetch(`${open.url}/healthz`)).json()) as { services: string[] };
    assert.ok(health.services.includes('dev-idp'));
    const sc = JSON.parse(readFileSync(join(open.dataDir, 'signing_config.json'), 'utf8')) as { oidcUrls: Array<{ url: string }> };
    assert.deepEqual(
      sc.oidcUrls.map((o) => o.url),
      ['https://sigstore.example.com/oidc'],
    );
    assert.match(open.stderr(), /DEVELOPMENT identity provider is ON/);
    assert.match(open.stderr(), /beyond loopback \(devIdp\.allowPublic\)/);
  } finally {
    assert.equal(await open.stop(), 0);
  }
});
