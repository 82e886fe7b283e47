// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Issue 8, item 4: slow and idle clients are cut off and one client cannot hold every
// connection. The limits are given to Node's HTTP server itself (fastify's requestTimeout
// does not reach a server made by serverFactory, which `keyless serve` uses); these tests
// run against `keyless serve`, so they fail if the limits do not take effect there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServe, tempDir } from './helpers.js';

const LIMITS = { headersTimeoutMs: 1000, requestTimeoutMs: 1500, idleTimeoutMs: 3000, maxConnectionsPerClient: 4 };

async function serveWithLimits() {
  const dir = tempDir();
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ limits: LIMITS }));
  return startServe({ dataDir: join(dir, 'data'), args: ['--config', config] });
}

function open(url: string): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    // Flowing, so that the end of the connection is seen even when nothing is read.
    const s = connect({ host: u.hostname, port: Number(u.port) }, () => resolve(s.resume()));
    s.once('error', reject);
  });
}

/**
 * Writes `text` one byte at a time, a byte every `everyMs`, until the server closes the
 * connection. Returns how many bytes were written and what the server answered. The
 * client would need length × everyMs to finish: far beyond every limit, so a server that
 * never times out leaves it writing (and the test runner's timeout fails the test).
 */
function trickle(socket: Socket, text: string, everyMs: number): Promise<{ written: number; answer: string }> {
  return new Promise((resolve) => {
    let written = 0;
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => {});
    const timer = setInterval(() => {
      if (written < text.length && !socket.destroyed) socket.write(text[written++]!);
    }, everyMs);
    socket.once('close', () => {
      clearInterval(timer);
      resolve({ written, answer });
    });
  });
}

test('a client trickling its body one byte at a time is cut off (408) by the request timeout', async () => {
  const serve = await serveWithLimits();
  try {
    const s = await open(serve.url);
    const body = '{"kind":"hashedrekord"}'.padEnd(2000, ' ');
    s.write(`POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    // One byte every 200 ms keeps the socket busy (the idle timeout never fires); only the request timeout can end it.
    const r = await trickle(s, body, 200);
    assert.ok(r.written < body.length, 'the server waited for the whole trickled body');
    assert.match(r.answer, /^HTTP\/1\.1 408/);
  } finally {
    await serve.stop();
  }
});

test('a client trickling its headers is cut off by the headers timeout', async () => {
  const serve = await serveWithLimits();
  try {
    const s = await open(serve.url);
    const head = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(2000)}\r\n\r\n`;
    const r = await trickle(s, head, 200);
    assert.ok(r.written < head.length, 'the server waited for the whole trickled header');
    assert.doesNotMatch(r.answer, /^HTTP\/1\.1 200/);
  } finally {
    await serve.stop();
  }
});

test('a connection that sends nothing is closed; one client cannot hold more than its share of connections', async () => {
  const serve = await serveWithLimits();
  try {
    const idle = await open(serve.url);
    const closedIdle = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    idle.on('error', () => {});
    // Four connections are allowed per client; the fifth and sixth are closed at once.
    const sockets = await Promise.all(Array.from({ length: 5 }, () => open(serve.url)));
    const closed = sockets.map((s) => {
      s.on('error', () => {});
      return new Promise<number>((resolve) => s.once('close', () => resolve(sockets.indexOf(s))));
    });
    const first = await Promise.race(closed);
    assert.ok(first >= 3, `connection ${first} of the allowed four was closed`);
    // The idle connection is closed in time without any request on it.
    await closedIdle;
    // After the idle one has gone, a new request gets an answer.
    const res = await fetch(`${serve.url}/healthz`, { headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    for (const s of sockets) s.destroy();
  } finally {
    await serve.stop();
  }
});
