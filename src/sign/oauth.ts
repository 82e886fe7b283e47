import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { asObject, asString } from '../core/json.js';
import { bytesEqual } from '../core/hash.js';
import { callService, jsonBody, serviceName, type CallPolicy, DEFAULT_CALL_POLICY } from './http.js';
import { ServiceError, IdentityError } from './errors.js';
import { decodeToken } from './token.js';

export interface OidcDiscovery {
  issuer: string;
  authorizationEndpoint: string | undefined;
  tokenEndpoint: string | undefined;
  deviceAuthorizationEndpoint: string | undefined;
}

/** `GET <issuer>/.well-known/openid-configuration`; its `issuer` must equal ours exactly. */
export async function discover(issuer: string, policy: CallPolicy = DEFAULT_CALL_POLICY): Promise<OidcDiscovery> {
  const service = serviceName('OIDC provider', issuer);
  const res = await callService(
    { service, url: `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, headers: { Accept: 'application/json' } },
    policy,
  );
  const doc = asObject(jsonBody(res, service), 'discovery');
  if (doc.issuer !== issuer) {
    throw new ServiceError(
      'OIDC_DISCOVERY_MISMATCH',
      service,
      `discovery document names issuer ${JSON.stringify(doc.issuer)}, expected "${issuer}"`,
      { check: 'issuer' },
    );
  }
  const opt = (k: string): string | undefined => (typeof doc[k] === 'string' ? (doc[k] as string) : undefined);
  return {
    issuer,
    authorizationEndpoint: opt('authorization_endpoint'),
    tokenEndpoint: opt('token_endpoint'),
    deviceAuthorizationEndpoint: opt('device_authorization_endpoint'),
  };
}

export interface InteractiveOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  /** Fixed redirect URL (`http://localhost:PORT/auth/callback`); default: localhost on a free port. */
  redirectUrl?: string | undefined;
  /**
   * Hands the authorization URL to a browser (the CLI runs `--browser-command`); without
   * it the URL is only printed. The URL is always printed to `log` first.
   */
  openUrl?: ((url: string) => void) | undefined;
  /** Where instructions go (stderr in the CLI; never stdout, which may carry output). */
  log: (line: string) => void;
  /** How long to wait for the browser to come back. */
  timeoutMs?: number;
  policy?: CallPolicy;
}

const DEFAULT_INTERACTIVE_TIMEOUT_MS = 300_000;

/**
 * OAuth 2.0 authorization code flow with PKCE (S256) and a loopback redirect (RFC 8252):
 * the browser logs in, comes back to a one-shot listener on 127.0.0.1, and the code is
 * exchanged for the ID token. `state` and `nonce` bind the answer to this request.
 */
export async function browserLogin(options: InteractiveOptions): Promise<string> {
  const discovery = await discover(options.issuer, options.policy);
  if (!discovery.authorizationEndpoint || !discovery.tokenEndpoint) {
    throw new ServiceError(
      'OIDC_FLOW_UNSUPPORTED',
      serviceName('OIDC provider', options.issuer),
      'offers no authorization_endpoint/token_endpoint for a browser login',
    );
  }
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');

  const wanted = options.redirectUrl ? new URL(options.redirectUrl) : undefined;
  const callbackPath = wanted?.pathname && wanted.pathname !== '/' ? wanted.pathname : '/auth/callback';
  const listener = await listenLoopback(wanted ? Number(wanted.port || 0) : 0);
  try {
    const port = (listener.server.address() as AddressInfo).port;
    const redirectUri = `http://${wanted?.hostname ?? 'localhost'}:${port}${callbackPath}`;
    const url = new URL(discovery.authorizationEndpoint);
    url.search = new URLSearchParams({
      ...Object.fromEntries(url.searchParams),
      response_type: 'code',
      client_id: options.clientId,
      redirect_uri: redirectUri,
      scope: 'openid email',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
      nonce,
    }).toString();
    const callback = listener.waitForCallback(callbackPath, options.timeoutMs ?? DEFAULT_INTERACTIVE_TIMEOUT_MS);
    options.log(`Open this URL in a browser to log in: ${url.toString()}`);
    options.openUrl?.(url.toString());
    const params = await callback;

    const error = params.get('error');
    if (error)
      throw new IdentityError(
        'OIDC_LOGIN_FAILED',
        `login failed at the identity provider: ${error}${params.get('error_description') ? ` (${params.get('error_description')})` : ''}`,
        { check: 'authorization' },
      );
    const gotState = params.get('state') ?? '';
    if (!bytesEqual(Buffer.from(gotState), Buffer.from(state)))
      throw new IdentityError('OIDC_STATE_MISMATCH', 'login redirect carried the wrong state (a different login answered)', {
        check: 'state',
      });
    const code = params.get('code');
    if (!code) throw new IdentityError('OIDC_LOGIN_FAILED', 'login redirect carried no authorization code', { check: 'code' });

    const idToken = await tokenRequest(
      discovery.tokenEndpoint,
      options.issuer,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: options.clientId,
        code_verifier: verifier,
        ...(options.clientSecret ? { client_secret: options.clientSecret } : {}),
      },
      options.policy,
    );
    const claims = decodeToken(idToken);
    if (claims.nonce !== undefined && claims.nonce !== nonce)
      throw new IdentityError('OIDC_NONCE_MISMATCH', 'ID token nonce does not match the login request', { check: 'nonce' });
    return idToken;
  } finally {
    listener.close();
  }
}

export interface DeviceOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  log: (line: string) => void;
  timeoutMs?: number;
  policy?: CallPolicy;
  /** Lower bound for the polling interval in ms (tests shorten it; the server's interval still applies when larger). */
  minIntervalMs?: number;
}

/** OAuth 2.0 device authorization grant (RFC 8628), for machines where no browser can open. */
export async function deviceLogin(options: DeviceOptions): Promise<string> {
  const discovery = await discover(options.issuer, options.policy);
  const service = serviceName('OIDC provider', options.issuer);
  if (!discovery.deviceAuthorizationEndpoint || !discovery.tokenEndpoint) {
    throw new ServiceError('OIDC_FLOW_UNSUPPORTED', service, 'offers no device_authorization_endpoint for the device flow');
  }
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const res = await callService(
    {
      service,
      url: discovery.deviceAuthorizationEndpoint,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({
        client_id: options.clientId,
        scope: 'openid email',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ...(options.clientSecret ? { client_secret: options.clientSecret } : {}),
      }).toString(),
    },
    options.policy,
  );
  const da = asObject(jsonBody(res, service), 'device authorization');
  const deviceCode = asString(da.device_code, 'device_code');
  const userCode = asString(da.user_code, 'user_code');
  const verificationUri = asString(da.verification_uri, 'verification_uri');
  const complete = typeof da.verification_uri_complete === 'string' ? da.verification_uri_complete : undefined;
  const expiresAt =
    Date.now() +
    Math.min(options.timeoutMs ?? DEFAULT_INTERACTIVE_TIMEOUT_MS, (typeof da.expires_in === 'number' ? da.expires_in : 600) * 1000);
  let intervalMs = Math.max(options.minIntervalMs ?? 0, (typeof da.interval === 'number' ? da.interval : 5) * 1000);
  options.log(`To log in, open ${verificationUri} and enter the code ${userCode}${complete ? ` (or open ${complete})` : ''}`);

  for (;;) {
    if (Date.now() + intervalMs > expiresAt)
      throw new IdentityError('OIDC_LOGIN_TIMEOUT', 'device login was not completed in time', { check: 'device-code' });
    await new Promise((r) => setTimeout(r, intervalMs));
    const poll = await callService(
      {
        service,
        url: discovery.tokenEndpoint,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          device_code: deviceCode,
          client_id: options.clientId,
          code_verifier: verifier,
          ...(options.clientSecret ? { client_secret: options.clientSecret } : {}),
        }).toString(),
        passThrough: [400, 401, 403],
      },
      options.policy,
    );
    const body = asObject(jsonBody(poll, service), 'token response');
    if (poll.status >= 200 && poll.status < 300) return idTokenOf(body, service);
    const err = typeof body.error === 'string' ? body.error : `HTTP ${poll.status}`;
    if (err === 'authorization_pending') continue;
    if (err === 'slow_down') {
      intervalMs += 5000;
      continue;
    }
    throw new IdentityError('OIDC_LOGIN_FAILED', `device login failed at the identity provider: ${err}`, { check: 'device-code' });
  }
}

/**
 * OAuth 2.0 client credentials grant (cosign's `--fulcio-auth-flow client_credentials`):
 * the client's ID and secret are exchanged at the token endpoint for an ID token.
 */
export async function clientCredentialsLogin(options: {
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  redirectUrl?: string | undefined;
  policy?: CallPolicy | undefined;
}): Promise<string> {
  const discovery = await discover(options.issuer, options.policy);
  if (!discovery.tokenEndpoint)
    throw new ServiceError('OIDC_FLOW_UNSUPPORTED', serviceName('OIDC provider', options.issuer), 'offers no token_endpoint');
  return tokenRequest(
    discovery.tokenEndpoint,
    options.issuer,
    {
      grant_type: 'client_credentials',
      client_id: options.clientId,
      client_secret: options.clientSecret ?? '',
      scope: 'openid email',
      ...(options.redirectUrl ? { redirect_uri: options.redirectUrl } : {}),
    },
    options.policy,
  );
}

async function tokenRequest(endpoint: string, issuer: string, form: Record<string, string>, policy?: CallPolicy): Promise<string> {
  const service = serviceName('OIDC provider', issuer);
  const res = await callService(
    {
      service,
      url: endpoint,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
    },
    { ...(policy ?? DEFAULT_CALL_POLICY), retries: 0 },
  );
  return idTokenOf(asObject(jsonBody(res, service), 'token response'), service);
}

function idTokenOf(body: Record<string, unknown>, service: string): string {
  if (typeof body.id_token !== 'string' || !body.id_token)
    throw new ServiceError('SERVICE_BAD_RESPONSE', service, 'token response has no id_token');
  return body.id_token;
}

interface LoopbackListener {
  server: Server;
  waitForCallback(path: string, timeoutMs: number): Promise<URLSearchParams>;
  close(): void;
}

/**
 * A one-shot HTTP listener on loopback for the redirect: on 127.0.0.1 and, on the same
 * port where it can, on ::1 — so that `localhost` (what cosign uses and public providers
 * register) reaches it whichever address the browser resolves first.
 */
function listenLoopback(port: number): Promise<LoopbackListener> {
  let resolveCb: ((p: URLSearchParams) => void) | undefined;
  let expectedPath = '/auth/callback';
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    if (url.pathname !== expectedPath || !resolveCb) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const ok = !url.searchParams.get('error');
    res
      .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close' })
      .end(
        `<!doctype html><title>Keyless</title><p>${ok ? 'Login complete: you can close this window.' : 'Login failed: see the terminal.'}</p>`,
      );
    const r = resolveCb;
    resolveCb = undefined;
    r(url.searchParams);
  };
  const server = createServer(handler);
  const v6 = createServer(handler);
  const listen = (srv: Server, p: number, host: string): Promise<void> =>
    new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(p, host, () => resolve());
    });
  return listen(server, port, '127.0.0.1').then(
    async () => {
      const bound = (server.address() as AddressInfo).port;
      // ::1 is optional (no IPv6, or the port taken there): 127.0.0.1 alone still works.
      const hasV6 = await listen(v6, bound, '::1').then(
        () => true,
        () => false,
      );
      return {
        server,
        waitForCallback(path, timeoutMs) {
          expectedPath = path;
          return new Promise((res, rej) => {
            const timer = setTimeout(
              () =>
                rej(
                  new IdentityError('OIDC_LOGIN_TIMEOUT', `browser login was not completed within ${Math.round(timeoutMs / 1000)} s`, {
                    check: 'authorization',
                  }),
                ),
              timeoutMs,
            );
            resolveCb = (p) => {
              clearTimeout(timer);
              res(p);
            };
          });
        },
        close() {
          for (const srv of hasV6 ? [server, v6] : [server]) {
            srv.closeAllConnections?.();
            srv.close();
          }
        },
      };
    },
    (e: Error) => {
      throw new IdentityError('OIDC_REDIRECT_LISTENER', `cannot listen for the login redirect on 127.0.0.1:${port} (${e.message})`);
    },
  );
}
