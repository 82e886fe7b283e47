// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { obtainIdentityToken } from '../../src/sign/token-sources.js';
import { readTokenArgument } from '../../src/cli/identity.js';
import { startFixture, json } from './fixtures.js';

const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
const quiet = { interactive: false, canOpenBrowser: false, log: () => {}, env: {} as NodeJS.ProcessEnv };

test('--identity-token takes the token itself or a file holding it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-token-'));
  const file = join(dir, 'token.jwt.txt');
  writeFileSync(file, `${JWT}\n`);
  assert.equal(readTokenArgument(JWT), JWT);
  assert.equal(readTokenArgument(file), JWT);
  assert.throws(() => readTokenArgument(join(dir, 'missing')), { code: 'TOKEN_MALFORMED' });
  if (process.getuid?.() !== 0) {
    chmodSync(file, 0);
    assert.throws(() => readTokenArgument(file), { code: 'FILE_UNREADABLE' });
  }
});

test('sources are tried in order: flag, SIGSTORE_ID_TOKEN, GitHub Actions', async () => {
  assert.deepEqual(await obtainIdentityToken({ ...quiet, identityToken: JWT, env: { SIGSTORE_ID_TOKEN: 'a.b.c' } }), {
    jwt: JWT,
    source: 'identity-token',
  });
  assert.deepEqual(await obtainIdentityToken({ ...quiet, env: { SIGSTORE_ID_TOKEN: ` ${JWT} ` } }), { jwt: JWT, source: 'env' });
});

test('GitHub Actions: the token is requested for audience sigstore with the bearer token', async () => {
  const f = await startFixture((_req, _b, res) => json(res, 200, { value: JWT }));
  try {
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: `${f.url}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-secret' };
    const got = await obtainIdentityToken({ ...quiet, env });
    assert.deepEqual(got, { jwt: JWT, source: 'github-actions' });
    const url = new URL(f.requests[0]!.path, f.url);
    assert.equal(url.searchParams.get('audience'), 'sigstore');
    assert.equal(url.searchParams.get('api-version'), '2.0');
    assert.equal(f.requests[0]!.headers.authorization, 'bearer runner-secret');
  } finally {
    await f.close();
  }
});

test('a forced source that is not there says what is missing', async () => {
  await assert.rejects(obtainIdentityToken({ ...quiet, source: 'env', identityToken: JWT }), { code: 'TOKEN_MISSING' });
  await assert.rejects(obtainIdentityToken({ ...quiet, source: 'github-actions' }), { code: 'TOKEN_MISSING' });
  await assert.rejects(obtainIdentityToken({ ...quiet, source: 'browser' }), { code: 'TOKEN_MISSING' });
});

test('with no token and no terminal, nothing interactive starts: TOKEN_MISSING at once', async () => {
  await assert.rejects(obtainIdentityToken({ ...quiet, oidcIssuer: 'http://127.0.0.1:9' }), { code: 'TOKEN_MISSING' });
});

/** An OAuth provider fixture: discovery, authorization (auto-approve, redirect), token endpoint with PKCE, device flow. */
async function startIdp(idToken: (nonce: string | undefined) => string) {
  const codes = new Map<string, { challenge: string; redirect: string; nonce: string | undefined }>();
  let devicePolls = 0;
  let deviceChallenge = '';
  const f = await startFixture((req, body, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const base = `http://${req.headers.host}`;
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer: base,
        authorization_endpoint: `${base}/auth`,
        token_endpoint: `${base}/token`,
        device_authorization_endpoint: `${base}/device`,
        jwks_uri: `${base}/jwks`,
      });
    }
    if (url.pathname === '/auth') {
      const q = url.searchParams;
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('redirect_uri') ?? '', /^http:\/\/localhost:\d+\/auth\/callback$/);
      codes.set('code-1', { challenge: q.get('code_challenge')!, redirect: q.get('redirect_uri')!, nonce: q.get('nonce') ?? undefined });
      res.writeHead(302, { Location: `${q.get('redirect_uri')}?code=code-1&state=${encodeURIComponent(q.get('state')!)}` }).end();
      return;
    }
    if (url.pathname === '/device') {
      const form = new URLSearchParams(body.toString());
      deviceChallenge = form.get('code_challenge') ?? '';
      return json(res, 200, {
        device_code: 'dev-1',
        user_code: 'ABCD-EFGH',
        verification_uri: `${base}/activate`,
        expires_in: 60,
        interval: 0,
      });
    }
    if (url.pathname === '/token') {
      const form = new URLSearchParams(body.toString());
      if (form.get('grant_type') === 'authorization_code') {
        const c = codes.get(form.get('code') ?? '');
        const verifierHash = createHash('sha256')
          .update(form.get('code_verifier') ?? '')
          .digest('base64url');
        if (!c || c.challenge !== verifierHash || c.redirect !== form.get('redirect_uri'))
          return json(res, 400, { error: 'invalid_grant' });
        return json(res, 200, { id_token: idToken(c.nonce), token_type: 'Bearer' });
      }
      if (form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:device_code') {
        if (++devicePolls < 3) return json(res, 400, { error: 'authorization_pending' });
        const verifierHash = createHash('sha256')
          .update(form.get('code_verifier') ?? '')
          .digest('base64url');
        if (verifierHash !== deviceChallenge) return json(res, 400, { error: 'invalid_grant' });
        return json(res, 200, { id_token: idToken(undefined) });
      }
    }
    json(res, 404, { error: 'not_found' });
  });
  return { f, polls: () => devicePolls };
}

const jwtWith = (claims: Record<string, unknown>) =>
  `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

test('browser login: authorization code with PKCE, state and nonce, over a loopback redirect', async () => {
  const { f } = await startIdp((nonce) => jwtWith({ iss: 'x', nonce }));
  try {
    const lines: string[] = [];
    const pending = obtainIdentityToken({
      ...quiet,
      source: 'browser',
      oidcIssuer: f.url,
      log: (l) => {
        lines.push(l);
        // The "browser": follow the printed URL through the provider's redirect.
        const url = /https?:\/\/\S+/.exec(l)?.[0];
        if (url) void fetch(url).then((r) => r.text());
      },
    });
    const { jwt, source } = await pending;
    assert.equal(source, 'browser');
    assert.ok(jwt.split('.').length === 3);
    assert.match(lines[0]!, /^Open this URL in a browser to log in: http/);
  } finally {
    await f.close();
  }
});

test('browser login refuses an ID token whose nonce is not ours', async () => {
  const { f } = await startIdp(() => jwtWith({ iss: 'x', nonce: 'someone-else' }));
  try {
    await assert.rejects(
      obtainIdentityToken({
        ...quiet,
        source: 'browser',
        oidcIssuer: f.url,
        log: (l) => {
          const u = /https?:\/\/\S+/.exec(l)?.[0];
          if (u) void fetch(u).then((r) => r.text());
        },
      }),
      { code: 'OIDC_NONCE_MISMATCH' },
    );
  } finally {
    await f.close();
  }
});

test('device flow: shows the code, polls through authorization_pending, returns the token', async () => {
  const { f, polls } = await startIdp(() => jwtWith({ iss: 'x' }));
  try {
    const lines: string[] = [];
    const { jwt, source } = await obtainIdentityToken({ ...quiet, source: 'device', oidcIssuer: f.url, log: (l) => lines.push(l) });
    assert.equal(source, 'device');
    assert.ok(jwt);
    assert.equal(polls(), 3);
    assert.match(lines[0]!, /enter the code ABCD-EFGH/);
  } finally {
    await f.close();
  }
});
