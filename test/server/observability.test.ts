// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Issue 8, item 7: JSON request and error logs without secrets, `--log-level`, and
// Prometheus metrics at /metrics, from a real `keyless serve`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServe } from './helpers.js';
import { ecKey, publicKeyRequest } from '../ca/helpers.js';
import { hashedRekordV1, signArtifact } from '../tlog/helpers.js';

async function devToken(base: string, email: string): Promise<string> {
  const r = await fetch(`${base}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', email }),
  });
  assert.equal(r.status, 200);
  return ((await r.json()) as { access_token?: string; id_token?: string }).id_token ?? '';
}

test('request and error logs are JSON lines without tokens; /metrics counts requests, errors, entries, batches and certificates', async () => {
  const serve = await startServe({ args: ['--log-level', 'info'] });
  const secret = `secret-${randomBytes(12).toString('hex')}`;
  let token: string | undefined;
  try {
    const base = serve.url;
    const email = 'observer@example.com';
    token = await devToken(base, email);
    assert.ok(token.split('.').length === 3, 'a JWT from the dev IdP');
    const key = ecKey();
    // A certificate issued with the token in the body, and a refused request with a token in the header and the query string.
    const issued = await fetch(`${base}/api/v2/signingCert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(publicKeyRequest(token, key, email)),
    });
    assert.equal(issued.status, 200);
    const refused = await fetch(`${base}/api/v2/signingCert?token=${secret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}.${token}` },
      body: JSON.stringify({ credentials: { oidcIdentityToken: `${secret}` } }),
    });
    assert.equal(refused.status, 400);
    const refusedCode = ((await refused.json()) as { code: string }).code;
    // A Rekor v1 entry.
    const entry = await fetch(`${base}/api/v1/log/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hashedRekordV1(signArtifact(randomBytes(32)))),
    });
    assert.equal(entry.status, 201);

    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    assert.match(text, /^# TYPE keyless_http_requests_total counter$/m);
    assert.match(text, /^keyless_http_requests_total\{method="POST",route="\/api\/v2\/signingCert",status="200"\} 1$/m);
    assert.match(text, /^keyless_http_requests_total\{method="POST",route="\/api\/v2\/signingCert",status="400"\} 1$/m);
    assert.match(text, /^keyless_http_request_duration_seconds_bucket\{le="\+Inf",method="POST",route="\/api\/v1\/log\/entries"\} 1$/m);
    assert.match(text, new RegExp(`^keyless_errors_total\\{code="${refusedCode}"\\} 1$`, 'm'));
    assert.match(text, /^keyless_ca_certificates_issued_total\{api="v2"\} 1$/m);
    assert.match(text, /^keyless_tlog_entries_appended_total\{kind="hashedrekord",log="[^"]+"\} 1$/m);
    assert.match(text, /^keyless_log_batch_size_count\{log="[^"]+"\} 1$/m);
    assert.doesNotMatch(text, new RegExp(secret));
  } finally {
    await serve.stop();
  }
  const lines = serve
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const requests = lines.filter((l) => l.msg === 'request');
  assert.ok(requests.some((l) => l.route === '/api/v2/signingCert' && l.status === 200 && l.method === 'POST'));
  assert.ok(requests.some((l) => l.route === '/api/v2/signingCert' && l.status === 400 && typeof l.code === 'string'));
  assert.ok(requests.every((l) => typeof l.ms === 'number' && typeof l.reqId === 'string' && l.level === 30));
  // No token, no secret, no Authorization header anywhere in the log.
  const log = serve.stderr();
  for (const needle of [secret, token!.split('.')[2]!, 'Bearer', 'authorization'])
    assert.ok(!log.toLowerCase().includes(needle.toLowerCase()), `the log contains ${needle}`);
});

test('--log-level error keeps request lines out; an unknown level is a usage error', async () => {
  const serve = await startServe({ args: ['--log-level', 'error'] });
  try {
    assert.equal((await fetch(`${serve.url}/healthz`)).status, 200);
  } finally {
    await serve.stop();
  }
  assert.ok(!serve.stderr().includes('"msg":"request"'));
  await assert.rejects(startServe({ args: ['--log-level', 'loud'] }), /loud|log-level/);
});
