import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReference, formatReference, fallbackTag, isLoopbackRegistry } from '../../src/registry/index.js';

const D = `sha256:${'ab'.repeat(32)}`;

test('references: Docker Hub naming, ports, tags, digests', () => {
  assert.deepEqual(parseReference('alpine'), {
    registry: 'index.docker.io',
    repository: 'library/alpine',
    tag: 'latest',
    digest: undefined,
  });
  assert.deepEqual(parseReference('docker.io/team/app:1.2'), {
    registry: 'index.docker.io',
    repository: 'team/app',
    tag: '1.2',
    digest: undefined,
  });
  assert.deepEqual(parseReference('localhost:5000/app'), {
    registry: 'localhost:5000',
    repository: 'app',
    tag: 'latest',
    digest: undefined,
  });
  assert.deepEqual(parseReference(`127.0.0.1:5000/a/b:v1@${D}`), { registry: '127.0.0.1:5000', repository: 'a/b', tag: 'v1', digest: D });
  assert.deepEqual(parseReference(`ghcr.io/o/r@${D}`), { registry: 'ghcr.io', repository: 'o/r', tag: undefined, digest: D });
  assert.deepEqual(parseReference('[::1]:5000/x:y').registry, '[::1]:5000');
  assert.equal(formatReference(parseReference('registry.example.com/team/app:1.2')), 'registry.example.com/team/app:1.2');
});

test('references: bad input is refused with a reason', () => {
  for (const bad of ['', 'UPPER/case', 'host/app:bad tag', `app@sha256:${'z'.repeat(64)}`, 'app@md5:abc', 'a//b', 'host:99999999/x']) {
    assert.throws(() => parseReference(bad), { code: 'REGISTRY_REFERENCE_INVALID' }, bad);
  }
});

test('fallback tag and loopback rules', () => {
  assert.equal(fallbackTag(D), `sha256-${'ab'.repeat(32)}`);
  for (const h of ['localhost', 'localhost:5000', '127.0.0.1:80', '127.9.9.9', '[::1]:5000']) assert.equal(isLoopbackRegistry(h), true, h);
  for (const h of ['registry.example.com', '10.0.0.1:5000', 'localhost.example.com', '128.0.0.1'])
    assert.equal(isLoopbackRegistry(h), false, h);
});
