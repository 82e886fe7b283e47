import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { callService } from '../../src/sign/http.js';
import { DEFAULT_CONNECTION_LIMITS } from '../../src/services/http/server.js';
import { startFixture, json } from './fixtures.js';

const fast = { timeoutMs: 300, retries: 2, backoffMs: 5 };

test('5xx answers are retried with backoff, then the success is returned', async () => {
  let n = 0;
  const f = await startFixture((_req, _body, res) =>
    ++n < 3 ? json(res, 503, { code: 503, message: 'busy' }) : json(res, 200, { ok: true }),
  );
  try {
    const r = await callService({ service: 'Test at x', url: `${f.url}/a` }, fast);
    assert.equal(r.status, 200);
    assert.equal(f.requests.length, 3);
  } finally {
    await f.close();
  }
});

test('a 4xx is not retried and the error names the service and its message', async () => {
  const f = await startFixture((_req, _body, res) => json(res, 400, { code: 400, message: 'bad proof of possession' }));
  try {
    await assert.rejects(
      callService({ service: 'Fulcio at here', url: `${f.url}/api/v2/signingCert`, body: '{}' }, fast),
      (e: Error & { code: string; status: number }) => {
        assert.equal(e.code, 'SERVICE_REJECTED');
        assert.equal(e.status, 400);
        assert.match(e.message, /^Fulcio at here: POST \/api\/v2\/signingCert answered 400: bad proof of possession$/);
        return true;
      },
    );
    assert.equal(f.requests.length, 1);
  } finally {
    await f.close();
  }
});

test('a hanging service times out on every attempt: SERVICE_TIMEOUT', async () => {
  const f = await startFixture(() => new Promise(() => {}));
  try {
    await assert.rejects(callService({ service: 'TSA at slow', url: f.url }, { timeoutMs: 100, retries: 1, backoffMs: 1 }), {
      code: 'SERVICE_TIMEOUT',
    });
    assert.equal(f.requests.length, 2);
  } finally {
    await f.close();
  }
});

test('an unreachable service is SERVICE_UNREACHABLE and named', async () => {
  const f = await startFixture((_q, _b, res) => json(res, 200, {}));
  const url = f.url;
  await f.close();
  await assert.rejects(callService({ service: `Rekor v1 at ${url}`, url }, fast), (e: Error & { code: string }) => {
    assert.equal(e.code, 'SERVICE_UNREACHABLE');
    assert.ok(e.message.startsWith(`Rekor v1 at ${url}: cannot be reached`));
    return true;
  });
});

test('pass-through statuses come back to the caller', async () => {
  const f = await startFixture((_q, _b, res) => json(res, 409, { code: 409, message: 'exists' }, { Location: '/x' }));
  try {
    const r = await callService({ service: 'R', url: f.url, body: '{}', passThrough: [409] }, fast);
    assert.equal(r.status, 409);
    assert.equal(r.headers.get('location'), '/x');
  } finally {
    await f.close();
  }
});

test('many calls at once never open more connections to one service than keyless serve accepts from a client', async () => {
  // `keyless serve` closes a client's connections beyond this many (ECONNRESET for the caller).
  const cap = DEFAULT_CONNECTION_LIMITS.maxConnectionsPerClient;
  let open = 0;
  let peak = 0;
  const server = createServer((_req, res) => {
    // Answers are held a little, so that every call the client allows is in flight at once.
    setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'), 50);
  });
  server.on('connection', (socket) => {
    peak = Math.max(peak, ++open);
    socket.once('close', () => open--);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    const calls = Array.from({ length: cap * 3 }, () =>
      callService({ service: 'Test at x', url, body: '{}' }, { ...fast, timeoutMs: 10_000 }),
    );
    const answers = await Promise.all(calls);
    assert.ok(answers.every((a) => a.status === 200));
    assert.ok(peak > 1, 'the calls ran concurrently');
    assert.ok(peak <= cap, `${peak} connections at once, more than the ${cap} the server keeps`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
