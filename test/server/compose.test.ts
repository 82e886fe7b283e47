// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The server composes services from a list of modules: each brings its routes and its
// part of the trust files, and a module left out leaves no trace in either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, SERVICE_MODULES, type ServiceModule } from '../../src/server/index.js';
import { tempDir } from './helpers.js';

test('one more module is one more entry in the list; services left out are absent from routes and trust files', async () => {
  const dataDir = join(tempDir(), 'data');
  const hello: ServiceModule = {
    name: 'hello',
    configSections: ['organization'],
    async setup(ctx) {
      return {
        services: ['hello'],
        register: (app) => app.register(async (a) => void a.get('/hello', async () => ({ organization: ctx.config.organization }))),
      };
    },
  };
  const modules = [...SERVICE_MODULES.filter((m) => m.name === 'rekor' || m.name === 'tsa'), hello];
  const server = await startServer({ dataDir, host: '127.0.0.1', port: 0, modules });
  try {
    assert.deepEqual(server.services.names, ['rekor-v1', 'rekor-v2', 'tsa', 'hello']);
    assert.deepEqual(await (await fetch(`${server.url}/hello`)).json(), { organization: 'Keyless' });
    assert.equal((await fetch(`${server.url}/api/v2/trustBundle`)).status, 404, 'no CA module, no CA routes');
    assert.equal((await fetch(`${server.url}/oidc/jwks`)).status, 404, 'no IdP module, no IdP routes');
    assert.equal((await fetch(`${server.url}/checkpoint`)).status, 200);
    const root = JSON.parse(readFileSync(join(dataDir, 'trusted_root.json'), 'utf8')) as Record<string, unknown[]>;
    assert.equal(root.tlogs!.length, 2);
    assert.equal(root.timestampAuthorities!.length, 1);
    assert.deepEqual(root.certificateAuthorities ?? [], []);
    assert.deepEqual(root.ctlogs ?? [], []);
    const sc = JSON.parse(readFileSync(join(dataDir, 'signing_config.json'), 'utf8')) as Record<string, unknown[]>;
    assert.deepEqual(sc.caUrls ?? [], []);
    assert.deepEqual(sc.oidcUrls ?? [], []);
    assert.equal(sc.rekorTlogUrls!.length, 2);
  } finally {
    await server.close();
  }
});

test('a module that fails to set up fails the start: the port is closed and the data directory released', async () => {
  const dataDir = join(tempDir(), 'data');
  const broken: ServiceModule = {
    name: 'broken',
    configSections: [],
    async setup() {
      throw new Error('cannot set up');
    },
  };
  const modules = [...SERVICE_MODULES.filter((m) => m.name === 'rekor'), broken];
  await assert.rejects(startServer({ dataDir, host: '127.0.0.1', port: 0, modules }), /cannot set up/);
  // Released: a second server on the same directory starts (the lock is gone, the SQLite files closed).
  const again = await startServer({ dataDir, host: '127.0.0.1', port: 0, modules: SERVICE_MODULES.filter((m) => m.name === 'rekor') });
  assert.equal((await fetch(`${again.url}/healthz`)).status, 200);
  await again.close();
});
