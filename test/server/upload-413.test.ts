// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Issue 8, item 6: an upload over the body limit is answered 413, and every client reads
// that answer (no connection reset while it is still sending), undici (fetch) included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { startServe } from './helpers.js';
import { errorCode } from '../support/error-body.js';

function nodeHttpPost(url: string, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
        res.on('error', (e: NodeJS.ErrnoException) => resolve(`response error ${e.code}`));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`request error ${e.code}`));
    req.end(body);
  });
}

async function fetchPost(url: string, body: Buffer, chunked: boolean): Promise<string> {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let o = 0; o < body.length; o += 1 << 20) c.enqueue(body.subarray(o, o + (1 << 20)));
      c.close();
    },
  });
  try {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunked ? stream : body,
      duplex: 'half',
    } as RequestInit);
    return `${r.status} ${errorCode(await r.json(), r.status)}`;
  } catch (e) {
    return `fetch error ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`;
  }
}

test('10 MB uploads, 20 times each way: every answer is a 413 the client reads', async () => {
  const serve = await startServe();
  try {
    const big = Buffer.alloc(10 * 1024 * 1024, 0x20);
    const target = `${serve.url}/api/v1/log/entries`;
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      seen.push(await fetchPost(target, big, false), await fetchPost(target, big, true), await nodeHttpPost(target, big));
    }
    assert.deepEqual(
      seen.filter((s) => !/^413( BODY_TOO_LARGE)?$/.test(s)),
      [],
      seen.join(', '),
    );
    assert.equal(seen.length, 60);
    // And the server still answers normally afterwards.
    assert.equal((await fetch(`${serve.url}/healthz`)).status, 200);
  } finally {
    await serve.stop();
  }
});
