import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callService } from '../../src/sign/http.js';
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
