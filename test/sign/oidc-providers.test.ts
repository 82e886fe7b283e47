// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Identity tokens from cosign's providers, each read from a loopback stand-in of what the
// provider reads (a file, the GitHub Actions token service, the Buildkite agent API, the
// Google metadata server and token endpoint, the SPIFFE Workload API (unix socket, TCP), an
// OIDC token endpoint for client_credentials). The stand-ins hand out a `keyless dev-token`
// token, and `keyless sign-blob` signs end to end against a real `keyless serve`; the
// bundle then verifies for that identity.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { generateKeyPairSync, verify as verifySignature } from 'node:crypto';
import { startServe, keyless, type Serve } from './serve-helper.js';
import { startFixture, json, type Fixture } from './fixtures.js';

const EMAIL = 'ambient@example.com';
let serve: Serve;
let token: string;
let issuer: string;
let work: string;
let signingConfig: string;

before(async () => {
  serve = await startServe();
  work = mkdtempSync(join(tmpdir(), 'keyless-oidc-providers-'));
  const t = await keyless(['dev-token', '--url', serve.url, '--email', EMAIL]);
  assert.equal(t.code, 0, t.stderr);
  token = t.stdout.trim();
  issuer = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iss as string;
  signingConfig = serve.signingConfig(1);
});
after(async () => {
  await serve?.stop();
});

let n = 0;
/** Signs a fresh file with these flags and environment; asserts it worked and the bundle verifies for EMAIL. */
async function signWith(flags: string[], env: Record<string, string>, config = signingConfig): Promise<string> {
  n++;
  const artifact = join(work, `artifact-${n}.txt`);
  const bundle = join(work, `artifact-${n}.sigstore.json`);
  writeFileSync(artifact, `artifact ${n}\n`);
  const r = await keyless(
    ['sign-blob', artifact, '--bundle', bundle, '--signing-config', config, '--trusted-root', serve.trustedRoot, ...flags],
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  const v = await keyless([
    'verify-blob',
    artifact,
    '--bundle',
    bundle,
    '--certificate-identity',
    EMAIL,
    '--certificate-oidc-issuer',
    issuer,
    '--trusted-root',
    serve.trustedRoot,
  ]);
  assert.equal(v.code, 0, v.stderr);
  return r.stderr;
}

async function withFixture(handler: Parameters<typeof startFixture>[0], body: (f: Fixture) => Promise<void>): Promise<void> {
  const f = await startFixture(handler);
  try {
    await body(f);
  } finally {
    await f.close();
  }
}

test('filesystem: the token file (KEYLESS_OIDC_TOKEN_PATH standing in for /var/run/sigstore/cosign/oidc-token), forced and found by itself', async () => {
  const file = join(work, 'oidc-token');
  writeFileSync(file, `${token}\n`);
  await signWith(['--oidc-provider', 'filesystem'], { KEYLESS_OIDC_TOKEN_PATH: file });
  // Not forced: an existing token file is an ambient provider, as in cosign.
  await signWith([], { KEYLESS_OIDC_TOKEN_PATH: file });
  // ... unless ambient providers are turned off.
  const off = await keyless(
    [
      'sign-blob',
      file,
      '--bundle',
      join(work, 'off.json'),
      '--oidc-disable-ambient-providers',
      '--signing-config',
      signingConfig,
      '--trusted-root',
      serve.trustedRoot,
    ],
    { KEYLESS_OIDC_TOKEN_PATH: file },
  );
  assert.notEqual(off.code, 0);
  assert.match(off.stderr, /no identity token/);
  const missing = await keyless(
    [
      'sign-blob',
      file,
      '--bundle',
      join(work, 'missing.json'),
      '--oidc-provider',
      'filesystem',
      '--signing-config',
      signingConfig,
      '--trusted-root',
      serve.trustedRoot,
    ],
    { KEYLESS_OIDC_TOKEN_PATH: join(work, 'no-such-token') },
  );
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /filesystem: cannot read .*no-such-token \(no such file or directory\)/);
});

test('github-actions: ACTIONS_ID_TOKEN_REQUEST_URL with audience sigstore and the bearer token', async () => {
  await withFixture(
    (_req, _b, res) => json(res, 200, { value: token }),
    async (f) => {
      await signWith(['--oidc-provider', 'github-actions'], {
        ACTIONS_ID_TOKEN_REQUEST_URL: `${f.url}/token?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-secret',
      });
      const url = new URL(f.requests[0]!.path, f.url);
      assert.equal(url.searchParams.get('audience'), 'sigstore');
      assert.equal(f.requests[0]!.headers.authorization, 'bearer runner-secret');
    },
  );
});

test('buildkite-agent: the agent API answers the job an OIDC token for audience sigstore', async () => {
  await withFixture(
    (req, body, res) => {
      if (req.method !== 'POST' || req.url !== '/v3/jobs/job-42/oidc/tokens') return json(res, 404, { message: 'not found' });
      if (req.headers.authorization !== 'Token agent-secret') return json(res, 401, { message: 'unauthorized' });
      if ((JSON.parse(body.toString()) as { audience?: string }).audience !== 'sigstore') return json(res, 422, { message: 'audience' });
      return json(res, 201, { token });
    },
    async (f) => {
      const env = { BUILDKITE_AGENT_ACCESS_TOKEN: 'agent-secret', BUILDKITE_JOB_ID: 'job-42', BUILDKITE_AGENT_ENDPOINT: `${f.url}/v3` };
      await signWith(['--oidc-provider', 'buildkite-agent'], env);
      // Found by itself too (BUILDKITE_AGENT_ACCESS_TOKEN set).
      await signWith([], env);
      assert.equal(f.requests.length, 2);
    },
  );
});

/** IAM Credentials generateIdToken, paid with `bearer`: the test's token, for audience sigstore with the email claim. */
function answerGenerateIdToken(req: IncomingMessage, body: Buffer, res: ServerResponse, bearer: string): void {
  if (req.headers.authorization !== `Bearer ${bearer}`) return json(res, 401, {});
  const asked = JSON.parse(body.toString()) as { audience?: string; includeEmail?: boolean };
  if (asked.audience !== 'sigstore' || asked.includeEmail !== true) return json(res, 400, {});
  return json(res, 200, { token });
}

/** sign-blob with `--oidc-provider provider` in `env`, expected to fail before signing. */
const signFails = (provider: string, env: Record<string, string>) =>
  keyless(
    [
      'sign-blob',
      signingConfig,
      '--bundle',
      join(work, 'no.json'),
      '--oidc-provider',
      provider,
      '--signing-config',
      signingConfig,
      '--trusted-root',
      serve.trustedRoot,
    ],
    env,
  );

test('google: the metadata server identity endpoint (GCE_METADATA_HOST) with Metadata-Flavor: Google', async () => {
  await withFixture(
    (req, _b, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/computeMetadata/v1/instance/service-accounts/default/identity') return json(res, 404, {});
      if (req.headers['metadata-flavor'] !== 'Google') return json(res, 403, {});
      if (url.searchParams.get('audience') !== 'sigstore' || url.searchParams.get('format') !== 'full') return json(res, 400, {});
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(token);
    },
    async (f) => {
      await signWith(['--oidc-provider', 'google'], { GCE_METADATA_HOST: new URL(f.url).host });
      assert.equal(f.requests.length, 1);
    },
  );
});

test('google: a service-account key (GOOGLE_APPLICATION_CREDENTIALS) exchanged at its token_uri for an ID token', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await withFixture(
    (_req, body, res) => {
      const form = new URLSearchParams(body.toString());
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return json(res, 400, { error: 'grant' });
      const [h, p, s] = (form.get('assertion') ?? '').split('.');
      const ok = verifySignature('RSA-SHA256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s ?? '', 'base64url'));
      const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>;
      if (!ok || claims.target_audience !== 'sigstore' || claims.iss !== 'signer@project.iam.gserviceaccount.com')
        return json(res, 400, { error: 'invalid_grant' });
      return json(res, 200, { id_token: token });
    },
    async (f) => {
      const keyFile = join(work, 'sa.json');
      writeFileSync(
        keyFile,
        JSON.stringify({
          type: 'service_account',
          client_email: 'signer@project.iam.gserviceaccount.com',
          private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
          private_key_id: 'k1',
          token_uri: `${f.url}/token`,
        }),
      );
      await signWith(['--oidc-provider', 'google'], { GOOGLE_APPLICATION_CREDENTIALS: keyFile });
      assert.equal(f.requests.length, 1);
    },
  );
});

test('google: external_account credentials (workload identity federation): subject token, STS exchange, service account access token, ID token', async () => {
  const sa = 'signer@project.iam.gserviceaccount.com';
  const audience = '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/ci/providers/gha';
  await withFixture(
    (req, body, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/subject') {
        if (req.headers['x-flavor'] !== 'ci') return json(res, 403, {});
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('subject-from-url\n');
        return;
      }
      if (url.pathname === '/sts') {
        const form = new URLSearchParams(body.toString());
        if (
          form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange' ||
          form.get('audience') !== audience ||
          form.get('subject_token_type') !== 'urn:ietf:params:oauth:token-type:jwt' ||
          form.get('requested_token_type') !== 'urn:ietf:params:oauth:token-type:access_token' ||
          !['subject-from-file', 'subject-from-url'].includes(form.get('subject_token') ?? '')
        )
          return json(res, 400, { error: 'invalid_request' });
        return json(res, 200, { access_token: 'federated-access', token_type: 'Bearer', expires_in: 3600 });
      }
      if (url.pathname === `/v1/projects/-/serviceAccounts/${sa}:generateAccessToken`) {
        if (req.headers.authorization !== 'Bearer federated-access') return json(res, 401, {});
        return json(res, 200, { accessToken: 'sa-access', expireTime: '2030-01-01T00:00:00Z' });
      }
      if (url.pathname === `/v1/projects/-/serviceAccounts/${encodeURIComponent(sa)}:generateIdToken`)
        return answerGenerateIdToken(req, body, res, 'sa-access');
      return json(res, 404, {});
    },
    async (f) => {
      const subjectFile = join(work, 'subject.json');
      writeFileSync(subjectFile, JSON.stringify({ id_token: 'subject-from-file' }));
      const credentials = (source: Record<string, unknown>, impersonate = true) => {
        const file = join(work, `external-${Object.keys(source)[0]}-${impersonate}.json`);
        writeFileSync(
          file,
          JSON.stringify({
            type: 'external_account',
            audience,
            subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
            token_url: `${f.url}/sts`,
            credential_source: source,
            ...(impersonate
              ? { service_account_impersonation_url: `${f.url}/v1/projects/-/serviceAccounts/${sa}:generateAccessToken` }
              : {}),
          }),
        );
        return { GOOGLE_APPLICATION_CREDENTIALS: file, KEYLESS_GOOGLE_IAM_CREDENTIALS_URL: f.url };
      };
      await signWith(
        ['--oidc-provider', 'google'],
        credentials({ file: subjectFile, format: { type: 'json', subject_token_field_name: 'id_token' } }),
      );
      await signWith(['--oidc-provider', 'google'], credentials({ url: `${f.url}/subject`, headers: { 'X-Flavor': 'ci' } }));
      assert.deepEqual(
        f.requests.map((r) => new URL(r.path, f.url).pathname.split('/').pop()),
        [
          'sts',
          `${sa}:generateAccessToken`,
          `${encodeURIComponent(sa)}:generateIdToken`,
          'subject',
          'sts',
          `${sa}:generateAccessToken`,
          `${encodeURIComponent(sa)}:generateIdToken`,
        ],
      );
      // No service account to impersonate: no ID token, said plainly.
      const r = await signFails('google', credentials({ file: subjectFile }, false));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /an ID token from external_account credentials needs service_account_impersonation_url/);
    },
  );
});

test('google: impersonating GOOGLE_SERVICE_ACCOUNT_NAME through IAM Credentials generateIdToken, paid with the metadata server access token', async () => {
  await withFixture(
    (req, body, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/computeMetadata/v1/instance/service-accounts/default/token') {
        if (req.headers['metadata-flavor'] !== 'Google') return json(res, 403, {});
        return json(res, 200, { access_token: 'ya29.metadata-access', expires_in: 3600, token_type: 'Bearer' });
      }
      if (url.pathname === '/v1/projects/-/serviceAccounts/signer%40project.iam.gserviceaccount.com:generateIdToken')
        return answerGenerateIdToken(req, body, res, 'ya29.metadata-access');
      return json(res, 404, {});
    },
    async (f) => {
      const env = {
        GOOGLE_SERVICE_ACCOUNT_NAME: 'signer@project.iam.gserviceaccount.com',
        GCE_METADATA_HOST: new URL(f.url).host,
        KEYLESS_GOOGLE_IAM_CREDENTIALS_URL: f.url,
      };
      await signWith(['--oidc-provider', 'google-impersonate'], env);
      // Found by itself too (GOOGLE_SERVICE_ACCOUNT_NAME set), as cosign's google-impersonate is.
      await signWith([], env);
      assert.deepEqual(
        f.requests.map((r) => r.path.split('/').pop()),
        [
          'token',
          'signer%40project.iam.gserviceaccount.com:generateIdToken',
          'token',
          'signer%40project.iam.gserviceaccount.com:generateIdToken',
        ],
      );
    },
  );
});

function varint(v: number): Buffer {
  const out: number[] = [];
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
const field = (n: number, b: Buffer): Buffer => Buffer.concat([varint((n << 3) | 2), varint(b.length), b]);
/** One uncompressed gRPC message: flag 0, 4-byte length, the message. */
function grpcFrame(msg: Buffer): Buffer {
  const frame = Buffer.alloc(5 + msg.length);
  frame.writeUInt32BE(msg.length, 1);
  msg.copy(frame, 5);
  return frame;
}

/** A SPIFFE Workload API stand-in: answers FetchJWTSVID with `token`, noting what each call sent. */
function workloadApi(): { server: Http2Server; seen: { path?: string; header?: string; audience?: string }[] } {
  const seen: { path?: string; header?: string; audience?: string }[] = [];
  const server: Http2Server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const msg = body.subarray(5, 5 + body.readUInt32BE(1));
      // JWTSVIDRequest { repeated string audience = 1 }: tag 0x0a, one-byte length here.
      seen.push({
        path: headers[':path'],
        header: headers['workload.spiffe.io'] as string | undefined,
        audience: msg[0] === 0x0a ? msg.subarray(2, 2 + msg[1]!).toString() : undefined,
      });
      const svid = field(1, Buffer.concat([field(1, Buffer.from('spiffe://example.org/signer')), field(2, Buffer.from(token))]));
      const frame = grpcFrame(svid);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frame);
    });
  });
  return { server, seen };
}

test('spiffe: FetchJWTSVID over gRPC on the Workload API socket (SPIFFE_ENDPOINT_SOCKET)', async () => {
  const socket = join(work, 'agent.sock');
  const { server, seen } = workloadApi();
  await new Promise<void>((r) => server.listen(socket, r));
  try {
    await signWith(['--oidc-provider', 'spiffe'], { SPIFFE_ENDPOINT_SOCKET: `unix://${socket}` });
    assert.deepEqual(seen, [{ path: '/SpiffeWorkloadAPI/FetchJWTSVID', header: 'true', audience: 'sigstore' }]);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
  const gone = await signFails('spiffe', { SPIFFE_ENDPOINT_SOCKET: join(work, 'no-agent.sock') });
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /SPIFFE Workload API at unix:\/\/.*no-agent\.sock: no such file or directory/);
});

test('spiffe: the Workload API over TCP (SPIFFE_ENDPOINT_SOCKET=tcp://IP:PORT); a host name instead of an IP is refused', async () => {
  const { server, seen } = workloadApi();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    await signWith(['--oidc-provider', 'spiffe'], { SPIFFE_ENDPOINT_SOCKET: `tcp://127.0.0.1:${port}` });
    assert.deepEqual(seen, [{ path: '/SpiffeWorkloadAPI/FetchJWTSVID', header: 'true', audience: 'sigstore' }]);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
  for (const endpoint of ['tcp://localhost:8081', 'tcp://127.0.0.1', 'tcp://127.0.0.1:8081/agent']) {
    const r = await signFails('spiffe', { SPIFFE_ENDPOINT_SOCKET: endpoint });
    assert.notEqual(r.code, 0, endpoint);
    assert.match(r.stderr, /is not tcp:\/\/IP:PORT \(an IP address, not a host name, and a port\)/, endpoint);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('--fulcio-auth-flow client_credentials: client ID and secret at the token endpoint of the signing config OIDC provider', async () => {
  const devIdp = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
  const secretFile = join(work, 'client-secret');
  writeFileSync(secretFile, 'ci-secret\n');
  // A stand-in provider: it checks the client's grant and asks the dev IdP for the identity this client stands for.
  await withFixture(
    async (req, body, res) => {
      const base = `http://${req.headers.host}`;
      if (req.url === '/.well-known/openid-configuration') return json(res, 200, { issuer: base, token_endpoint: `${base}/token` });
      const form = new URLSearchParams(body.toString());
      const ok =
        form.get('grant_type') === 'client_credentials' &&
        form.get('client_id') === 'sigstore' &&
        form.get('client_secret') === 'ci-secret' &&
        form.get('scope') === 'openid email';
      if (!ok) return json(res, 401, { error: 'invalid_client' });
      const r = await fetch(devIdp.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'sigstore', email: EMAIL }).toString(),
      });
      return json(res, 200, { id_token: ((await r.json()) as { id_token: string }).id_token, token_type: 'Bearer' });
    },
    async (f) => {
      const sc = JSON.parse(readFileSync(signingConfig, 'utf8')) as { oidcUrls: { url: string }[] };
      sc.oidcUrls = sc.oidcUrls.map((s) => ({ ...s, url: f.url }));
      const config = join(work, 'signing-config.client-credentials.json');
      writeFileSync(config, JSON.stringify(sc));
      await signWith(['--fulcio-auth-flow', 'client_credentials', '--oidc-client-secret-file', secretFile], {}, config);
      assert.equal(f.requests.filter((r) => r.path === '/token').length, 1);
    },
  );
});
