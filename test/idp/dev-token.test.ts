// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { TokenVerifier, decodeTokenUnverified } from '../../src/oidc/index.js';
import { startIdp, type RunningIdp } from './helpers.js';

let idp: RunningIdp;
before(async () => {
  idp = await startIdp();
});
after(() => idp.close());

function keyless(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/keyless', ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('dev-token prints exactly one token line that verifies', async () => {
  const r = await keyless(['dev-token', '--url', idp.base, '--email', 'cli@example.com', '--ttl', '120']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
  const token = r.stdout.trim();
  const claims = decodeTokenUnverified(token);
  assert.equal(claims.email, 'cli@example.com');
  assert.equal((claims.exp as number) - (claims.iat as number), 120);
  const v = new TokenVerifier([{ issuerUrl: idp.issuer, type: 'email' }]);
  assert.equal((await v.verify(token)).identity.san.value, 'cli@example.com');
});

test('dev-token with workflow flags gives a GitHub-like token', async () => {
  const r = await keyless([
    'dev-token',
    '--url',
    `${idp.base}/oidc`,
    '--github-repository',
    'acme/tool',
    '--github-ref',
    'refs/heads/dev',
    '--github-environment',
    'prod',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const claims = decodeTokenUnverified(r.stdout.trim());
  assert.equal(claims.iss, `${idp.issuer}/github`);
  assert.equal(claims.repository, 'acme/tool');
  assert.equal(claims.ref, 'refs/heads/dev');
  assert.equal(claims.environment, 'prod');
  assert.equal(claims.email, undefined);
});

test('dev-token: unreachable server exits 1, usage errors exit 2, refusals exit 1', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const down = await keyless(['dev-token', '--url', `http://127.0.0.1:${port}`, '--email', 'a@b.c']);
  assert.equal(down.code, 1);
  assert.equal(down.stdout, '');
  assert.match(down.stderr, /^error: cannot reach the development identity provider/);
  assert.equal((await keyless(['dev-token', '--url', idp.base])).code, 2);
  assert.equal((await keyless(['dev-token', '--url', idp.base, '--email', 'a@b.c', '--ttl', 'soon'])).code, 2);
  const refused = await keyless(['dev-token', '--url', idp.base, '--email', 'not-an-email']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /REQUEST_INVALID/);
});
