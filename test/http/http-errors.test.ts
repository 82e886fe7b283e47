// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpApp, HttpError } from '../../src/services/http/index.js';
import { FormatError } from '../../src/core/index.js';

test('the shared HTTP app answers every failure as JSON {code, message}, never 5xx for bad input', async () => {
  const app = createHttpApp({ bodyLimit: 1024 });
  app.post('/echo', async (req) => req.body);
  app.post('/conflict', async () => {
    throw new HttpError('ENTRY_EXISTS', 'entry exists');
  });
  app.post('/format', async () => {
    throw new FormatError('spec.signature', 'is not valid base64');
  });
  app.get('/bug', async () => {
    throw new Error('secret internal detail');
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const cases: Array<[string, RequestInit, number, string]> = [
      ['/nope', {}, 404, 'NOT_FOUND'],
      ['/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' }, 400, 'FORMAT_INVALID'],
      ['/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '['.repeat(5000) }, 413, 'BODY_TOO_LARGE'],
      ['/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '['.repeat(500) }, 400, 'FORMAT_INVALID'],
      ['/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' }, 400, 'FORMAT_INVALID'],
      ['/echo', { method: 'POST', headers: { 'content-type': 'text/x-nothing' }, body: 'x' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['/conflict', { method: 'POST' }, 409, 'ENTRY_EXISTS'],
      ['/format', { method: 'POST' }, 400, 'FORMAT_INVALID'],
      ['/bug', {}, 500, 'INTERNAL'],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await fetch(address + path, init);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(res.status, status, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.code, code, path);
      assert.equal(typeof body.message, 'string');
      assert.doesNotMatch(body.message, /secret internal detail/);
    }
    const ok = await fetch(address + '/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    assert.deepEqual(await ok.json(), { a: 1 });
  } finally {
    await app.close();
  }
});
