// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Issue 8, item 4: the connection limits reach Node's HTTP server. fastify's own
// `requestTimeout` does not when the server comes from a serverFactory (as ours does),
// which is why createHttpApp gives the limits to http.createServer itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import Fastify from 'fastify';
import { createHttpApp, DEFAULT_CONNECTION_LIMITS } from '../../src/services/http/index.js';

test("fastify's requestTimeout is lost with a serverFactory; createHttpApp's limits are on the server", async () => {
  const plain = Fastify({ requestTimeout: 1234, connectionTimeout: 2345, serverFactory: (handler) => createServer(handler) });
  await plain.ready();
  assert.notEqual(plain.server.requestTimeout, 1234);
  assert.notEqual(plain.server.timeout, 2345);
  await plain.close();

  const app = createHttpApp({
    connections: { requestTimeoutMs: 1234, headersTimeoutMs: 1000, idleTimeoutMs: 2345, keepAliveTimeoutMs: 3456, maxConnections: 77 },
  });
  await app.ready();
  assert.equal(app.server.requestTimeout, 1234);
  assert.equal(app.server.headersTimeout, 1000);
  assert.equal(app.server.timeout, 2345);
  assert.equal(app.server.keepAliveTimeout, 3456);
  assert.equal(app.server.maxConnections, 77);
  await app.close();

  const defaults = createHttpApp();
  await defaults.ready();
  assert.equal(defaults.server.requestTimeout, DEFAULT_CONNECTION_LIMITS.requestTimeoutMs);
  assert.equal(defaults.server.timeout, DEFAULT_CONNECTION_LIMITS.idleTimeoutMs);
  await defaults.close();
});
