// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TokenVerifier, decodeTokenUnverified } from '../../src/oidc/index.js';
import { startIdp, pkcePair, form, type RunningIdp } from './helpers.js';

let idp: RunningIdp;
let verifier: TokenVerifier;

before(async () => {
  idp = await startIdp();
  // discovery over HTTP, exactly as Fulcio would do it
  verifier = new TokenVerifier([
    { issuerUrl: idp.issuer, type: 'email' },
    { issuerUrl: `${idp.issuer}/github`, type: 'github-workflow' },
  ]);
});
after(() => idp.close());

test('discovery and JWKS', async () => {
  const doc = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  assert.equal(doc.issuer, idp.issuer);
  assert.equal(doc.jwks_uri, `${idp.issuer}/jwks`);
  assert.deepEqual(doc.id_token_signing_alg_values_supported, ['ES256']);
  assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
  const jwks = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
  assert.equal(jwks.keys.length, 1);
  assert.equal(jwks.keys[0]!.kty, 'EC');
  assert.equal(jwks.keys[0]!.d, undefined);
  const gh = (await (await fetch(`${idp.issuer}/github/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  assert.equal(gh.issuer, `${idp.issuer}/github`);
});

test('client credentials: an email token that verifies, audience sigstore, 10 minutes by default', async () => {
  const r = await form(`${idp.issuer}/token`, { grant_type: 'client_credentials', email: 'dev@example.com' });
  assert.equal(r.status, 200);
  const body = (await r.json()) as { id_token: string; token_type: string; expires_in: number };
  assert.equal(body.token_type, 'Bearer');
  const claims = decodeTokenUnverified(body.id_token);
  assert.equal(claims.aud, 'sigstore');
  assert.equal(claims.email_verified, true);
  assert.equal((claims.exp as number) - (claims.iat as number), 600);
  const v = await verifier.verify(body.id_token);
  assert.deepEqual(v.identity.san, { type: 'email', value: 'dev@example.com' });
  // JSON body and ttl
  const j = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', email: 'a@b.c', ttl: 30 }),
  });
  const c2 = decodeTokenUnverified(((await j.json()) as { id_token: string }).id_token);
  assert.equal((c2.exp as number) - (c2.iat as number), 30);
});

test('client credentials with workflow claims: GitHub-like issuer, no email claim', async () => {
  const r = await form(`${idp.issuer}/token`, {
    grant_type: 'client_credentials',
    github_repository: 'acme/app',
    github_ref: 'refs/tags/v1.0.0',
    github_event_name: 'release',
  });
  assert.equal(r.status, 200);
  const token = ((await r.json()) as { id_token: string }).id_token;
  const claims = decodeTokenUnverified(token);
  assert.equal(claims.email, undefined);
  assert.equal(claims.iss, `${idp.issuer}/github`);
  const v = await verifier.verify(token);
  assert.equal(v.identity.san.value, 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0');
  assert.equal(v.identity.extensions.buildTrigger, 'release');
  assert.equal(v.identity.challengeClaimValue, 'repo:acme/app:ref:refs/tags/v1.0.0');
});

test('token endpoint refuses bad requests with 4xx JSON codes', async () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ grant_type: 'client_credentials' }, 'REQUEST_INVALID'],
    [{ grant_type: 'client_credentials', email: 'nope' }, 'REQUEST_INVALID'],
    [{ grant_type: 'client_credentials', email: 'a@b.c', ttl: '0' }, 'REQUEST_INVALID'],
    [{ grant_type: 'client_credentials', email: 'a@b.c', ttl: '-5' }, 'REQUEST_INVALID'],
    [{ grant_type: 'client_credentials', github_repository: 'no-slash' }, 'REQUEST_INVALID'],
    [{ grant_type: 'client_credentials', email: 'a@b.c', github_repository: 'a/b' }, 'invalid_request'],
    [{ grant_type: 'password' }, 'unsupported_grant_type'],
    [{}, 'invalid_request'],
    [
      {
        grant_type: 'authorization_code',
        code: 'made-up',
        client_id: 'sigstore',
        redirect_uri: 'http://127.0.0.1/cb',
        code_verifier: 'x'.repeat(43),
      },
      'invalid_grant',
    ],
  ];
  for (const [params, code] of cases) {
    const r = await form(`${idp.issuer}/token`, params);
    assert.equal(r.status, 400, JSON.stringify(params));
    assert.equal(((await r.json()) as { code: string }).code, code, JSON.stringify(params));
  }
  const bad = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"grant_type":',
  });
  assert.equal(bad.status, 400);
});

test('authorization code with PKCE through the login page', async () => {
  const { verifier: codeVerifier, challenge } = pkcePair();
  const redirect = 'http://127.0.0.1:45678/callback';
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: 'sigstore',
    redirect_uri: redirect,
    state: 'st<a>te',
    nonce: 'n1',
    scope: 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const page = await fetch(`${idp.issuer}/authorize?${q}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type')!, /text\/html/);
  const html = await page.text();
  assert.match(html, /<input type="email" name="email" id="email"/);
  assert.match(html, /st&lt;a&gt;te/);
  assert.doesNotMatch(html, /st<a>te/);

  const post = await form(`${idp.issuer}/authorize`, { ...Object.fromEntries(q), email: 'browser@example.com' });
  assert.equal(post.status, 302);
  const location = new URL(post.headers.get('location')!);
  assert.equal(`${location.origin}${location.pathname}`, redirect);
  assert.equal(location.searchParams.get('state'), 'st<a>te');
  const code = location.searchParams.get('code')!;

  // a wrong verifier burns the code
  const wrong = await form(`${idp.issuer}/token`, {
    grant_type: 'authorization_code',
    code,
    client_id: 'sigstore',
    redirect_uri: redirect,
    code_verifier: pkcePair().verifier,
  });
  assert.equal(wrong.status, 400);
  assert.equal(((await wrong.json()) as { code: string }).code, 'invalid_grant');

  const post2 = await form(`${idp.issuer}/authorize`, { ...Object.fromEntries(q), email: 'browser@example.com' });
  const code2 = new URL(post2.headers.get('location')!).searchParams.get('code')!;
  const ok = await form(`${idp.issuer}/token`, {
    grant_type: 'authorization_code',
    code: code2,
    client_id: 'sigstore',
    redirect_uri: redirect,
    code_verifier: codeVerifier,
  });
  assert.equal(ok.status, 200);
  const token = ((await ok.json()) as { id_token: string }).id_token;
  const v = await verifier.verify(token);
  assert.equal(v.identity.san.value, 'browser@example.com');
  assert.equal(v.claims.nonce, 'n1');
  // replay
  const again = await form(`${idp.issuer}/token`, {
    grant_type: 'authorization_code',
    code: code2,
    client_id: 'sigstore',
    redirect_uri: redirect,
    code_verifier: codeVerifier,
  });
  assert.equal(again.status, 400);
});

test('authorize refuses non-loopback redirects, missing PKCE and plain PKCE', async () => {
  const { challenge } = pkcePair();
  const base = {
    response_type: 'code',
    client_id: 'sigstore',
    redirect_uri: 'http://localhost:1/cb',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  };
  for (const over of [
    { redirect_uri: 'https://evil.example/cb' },
    { redirect_uri: 'not a url' },
    { code_challenge: '' },
    { code_challenge_method: 'plain' },
    { response_type: 'token' },
  ]) {
    const r = await fetch(`${idp.issuer}/authorize?${new URLSearchParams({ ...base, ...over })}`);
    assert.equal(r.status, 400, JSON.stringify(over));
    assert.ok(((await r.json()) as { code: string }).code);
  }
  const badEmail = await form(`${idp.issuer}/authorize`, { ...base, email: 'not-an-email' });
  assert.equal(badEmail.status, 400);
  assert.match(await badEmail.text(), /id="error"/);
});

test('device flow (RFC 8628) with PKCE: pending, approval on the device page, token once', async () => {
  const { verifier: codeVerifier, challenge } = pkcePair();
  const doc = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
  assert.equal(doc.device_authorization_endpoint, `${idp.issuer}/device/code`);
  const start = await form(doc.device_authorization_endpoint!, {
    client_id: 'sigstore',
    scope: 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  assert.equal(start.status, 200);
  const da = (await start.json()) as Record<string, string | number>;
  assert.match(String(da.user_code), /^[A-Z]{4}-[A-Z]{4}$/);
  assert.equal(da.verification_uri, `${idp.issuer}/device`);
  const poll = () =>
    form(`${idp.issuer}/token`, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: String(da.device_code),
      client_id: 'sigstore',
      code_verifier: codeVerifier,
    });
  const pending = await poll();
  assert.equal(pending.status, 400);
  const pendingBody = (await pending.json()) as Record<string, string>;
  assert.equal(pendingBody.error, 'authorization_pending');
  assert.equal(pendingBody.code, 'authorization_pending');

  const pageHtml = await (await fetch(String(da.verification_uri_complete))).text();
  assert.match(pageHtml, new RegExp(`value="${da.user_code}"`));
  const wrong = await form(`${idp.issuer}/device`, { user_code: 'ZZZZ-ZZZZ', email: 'dev@example.com' });
  assert.equal(wrong.status, 400);
  const ok = await form(`${idp.issuer}/device`, { user_code: String(da.user_code).toLowerCase(), email: 'device@example.com' });
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /id="done"/);

  const done = await poll();
  assert.equal(done.status, 200);
  const v = await verifier.verify(((await done.json()) as { id_token: string }).id_token);
  assert.equal(v.identity.san.value, 'device@example.com');
  const again = await poll();
  assert.equal(((await again.json()) as Record<string, string>).error, 'invalid_grant');
});
