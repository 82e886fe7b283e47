import { createHash, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { IssuerConfig, JsonWebKeySet } from '../../oidc/index.js';
import { HttpError, toHttpError } from '../http/index.js';
import { devicePage, loginPage } from './login-page.js';
import {
  DEV_AUDIENCE, devSigner, devTokenClaims, githubClaims, parseEmail, parseTtl, signIdToken, type DevIdentity, type DevSigner,
} from './tokens.js';

export interface IdpServiceOptions {
  /**
   * The public issuer URL, e.g. `http://127.0.0.1:3000/oidc`: register the plugin under that
   * URL's path as prefix. A function is read per request (for servers bound to port 0).
   */
  issuerUrl: string | (() => string);
  /** The ES256 (P-256) signing key; SERVER persists it. */
  signingKey: KeyObject;
  /** Whether `client_credentials` may mint tokens for any identity (default true: this is a development IdP). */
  allowClientCredentials?: boolean;
  /** Lifetime of an authorization code (default 120 s). */
  codeTtlSeconds?: number;
  /** Device flow: how long a device code lives (default 600 s) and the polling interval announced (default 1 s). */
  deviceCodeTtlSeconds?: number;
  deviceIntervalSeconds?: number;
}

interface PendingDevice {
  clientId: string;
  userCode: string;
  codeChallenge: string | undefined;
  email: string | undefined;
  expiresAt: number;
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** User codes avoid look-alike characters (RFC 8628 §6.1). */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

function userCode(): string {
  const bytes = randomBytes(8);
  const chars = [...bytes].map((b) => USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`;
}

/** OAuth error names (RFC 6749 §5.2, RFC 8628 §3.5) pass through; our own codes map to invalid_request. */
const OAUTH_ERRORS = new Set([
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope',
  'unsupported_response_type', 'authorization_pending', 'slow_down', 'access_denied', 'expired_token',
]);

/** Path (below the issuer) of the second issuer, whose tokens carry GitHub-Actions-like workflow claims. */
export const GITHUB_ISSUER_SUFFIX = '/github';

/** Issuer configurations the CA needs to accept this IdP's tokens: email identities and GitHub-like workflows. */
export async function devIdpIssuerConfigs(issuerUrl: string, signingKey: KeyObject, options: { staticKeys?: boolean } = {}): Promise<IssuerConfig[]> {
  const signer = await devSigner(signingKey);
  const jwks: JsonWebKeySet | undefined = options.staticKeys === false ? undefined : { keys: [signer.jwk as JsonWebKeySet['keys'][number]] };
  const base = issuerUrl.replace(/\/+$/, '');
  return [
    { issuerUrl: base, clientId: DEV_AUDIENCE, type: 'email', algorithms: ['ES256'], ...(jwks ? { jwks } : {}) },
    { issuerUrl: `${base}${GITHUB_ISSUER_SUFFIX}`, clientId: DEV_AUDIENCE, type: 'github-workflow', algorithms: ['ES256'], ...(jwks ? { jwks } : {}) },
  ];
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | undefined;
  email: string;
  expiresAt: number;
}

const MAX_PENDING_CODES = 10_000;
const FORM = 'application/x-www-form-urlencoded';

type Params = Record<string, unknown>;

function str(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw new HttpError('invalid_request', `parameter ${name} must be a string`);
  return v;
}

function required(params: Params, name: string): string {
  const v = str(params, name);
  if (v === undefined) throw new HttpError('invalid_request', `parameter ${name} is required`);
  return v;
}

/** Only loopback redirect targets: a development IdP must not become an open redirector. */
function checkRedirectUri(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HttpError('invalid_request', `redirect_uri ${JSON.stringify(value)} is not a URL`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (!loopback || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new HttpError('invalid_request', `redirect_uri must be an http(s) loopback URL, got ${JSON.stringify(value)}`);
  }
  return url;
}

/** PKCE S256 (RFC 7636): base64url(SHA-256(verifier)) must equal the challenge, compared in constant time. */
function checkPkce(verifier: string, challenge: string): void {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) throw new HttpError('invalid_grant', 'code_verifier must be 43-128 unreserved characters');
  const a = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const b = Buffer.from(challenge);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new HttpError('invalid_grant', 'code_verifier does not match the code_challenge (PKCE S256)');
}

/** Parameters the login page and its POST carry through. */
const AUTHORIZE_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'state', 'nonce', 'scope', 'code_challenge', 'code_challenge_method'] as const;

function authorizeRequest(params: Params): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of AUTHORIZE_PARAMS) {
    const v = str(params, name);
    if (v !== undefined) out[name] = v;
  }
  if (out.response_type !== 'code') throw new HttpError('unsupported_response_type', `response_type must be "code", got ${JSON.stringify(out.response_type ?? null)}`);
  required(out, 'client_id');
  checkRedirectUri(required(out, 'redirect_uri'));
  if (!out.code_challenge) throw new HttpError('invalid_request', 'code_challenge is required (PKCE)');
  if (out.code_challenge_method !== 'S256') throw new HttpError('invalid_request', `code_challenge_method must be "S256", got ${JSON.stringify(out.code_challenge_method ?? null)}`);
  if (!/^[A-Za-z0-9_-]{43}$/.test(out.code_challenge)) throw new HttpError('invalid_request', 'code_challenge must be the base64url SHA-256 of the code verifier (43 characters)');
  return out;
}

/** Workflow claims a client may ask for: `github_<claim>` parameters (or `github` as an object in JSON). */
function requestedGithubClaims(params: Params): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const nested = params.github;
  if (nested !== undefined) {
    if (typeof nested !== 'object' || nested === null || Array.isArray(nested)) throw new HttpError('invalid_request', 'github must be an object of claims');
    for (const [k, v] of Object.entries(nested)) {
      if (typeof v !== 'string') throw new HttpError('invalid_request', `github.${k} must be a string`);
      out[k] = v;
    }
  }
  for (const [k, v] of Object.entries(params)) {
    if (k.startsWith('github_') && v !== undefined) {
      if (typeof v !== 'string') throw new HttpError('invalid_request', `${k} must be a string`);
      out[k.slice('github_'.length)] = v;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The development OIDC identity provider: discovery, JWKS, authorization code with PKCE
 * behind a small login page, and client credentials for `keyless dev-token`. It signs any
 * identity it is asked for, so SERVER enables it only on loopback and says so loudly.
 */
export function idpService(options: IdpServiceOptions): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const issuerOf = (): string => (typeof options.issuerUrl === 'function' ? options.issuerUrl() : options.issuerUrl).replace(/\/+$/, '');
    const signer: DevSigner = await devSigner(options.signingKey);
    const allowClientCredentials = options.allowClientCredentials ?? true;
    const codeTtlMs = (options.codeTtlSeconds ?? 120) * 1000;
    const codes = new Map<string, PendingCode>();
    const devices = new Map<string, PendingDevice>();
    const deviceTtlMs = (options.deviceCodeTtlSeconds ?? 600) * 1000;
    const deviceInterval = options.deviceIntervalSeconds ?? 1;
    const jwks = { keys: [signer.jwk] };

    // OAuth clients read `error` / `error_description`; the shared `{code, message}` stays.
    app.setErrorHandler((error, request, reply) => {
      const { status, body, internal } = toHttpError(error);
      if (internal) request.log.error({ err: error, url: request.url.split('?')[0] }, 'internal error');
      const oauth = OAUTH_ERRORS.has(body.code) ? body.code : status >= 500 ? 'server_error' : 'invalid_request';
      void reply.code(status).type('application/json').send({ ...body, error: oauth, error_description: body.message });
    });

    app.addContentTypeParser(FORM, { parseAs: 'string' }, (_req, body, done) => {
      const params: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(body as string)) if (!(k in params)) params[k] = v;
      done(null, params);
    });

    const discovery = (iss: string, issuer: string) => ({
      issuer: iss,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      device_authorization_endpoint: `${issuer}/device/code`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code', 'id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      grant_types_supported: ['authorization_code', DEVICE_GRANT, ...(allowClientCredentials ? ['client_credentials'] : [])],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['openid', 'email'],
      claims_supported: ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'email', 'email_verified', 'nonce'],
    });
    const cacheable = (reply: FastifyReply) => reply.header('cache-control', 'public, max-age=300');

    app.get('/.well-known/openid-configuration', async (_req, reply) => cacheable(reply).send(discovery(issuerOf(), issuerOf())));
    app.get(`${GITHUB_ISSUER_SUFFIX}/.well-known/openid-configuration`, async (_req, reply) => cacheable(reply).send(discovery(issuerOf() + GITHUB_ISSUER_SUFFIX, issuerOf())));
    app.get('/jwks', async (_req, reply) => cacheable(reply).send(jwks));

    app.get('/authorize', async (req, reply) => {
      const params = authorizeRequest(req.query as Params);
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(loginPage(params));
    });

    app.post('/authorize', async (req, reply) => {
      const body = (req.body ?? {}) as Params;
      const params = authorizeRequest(body);
      let email: string;
      try {
        email = parseEmail(str(body, 'email'));
      } catch {
        return reply.code(400).type('text/html; charset=utf-8').send(loginPage(params, 'Please enter a valid email address.'));
      }
      prune(codes);
      if (codes.size >= MAX_PENDING_CODES) throw new HttpError('TOO_MANY_PENDING_CODES', 'too many unredeemed authorization codes; try again shortly');
      const code = randomBytes(32).toString('base64url');
      codes.set(code, {
        clientId: params.client_id!, redirectUri: params.redirect_uri!, codeChallenge: params.code_challenge!, nonce: params.nonce,
        email, expiresAt: Date.now() + codeTtlMs,
      });
      const target = new URL(params.redirect_uri!);
      target.searchParams.set('code', code);
      if (params.state !== undefined) target.searchParams.set('state', params.state);
      return reply.code(302).header('location', target.toString()).header('cache-control', 'no-store').send();
    });

    // ---- Device authorization grant (RFC 8628), for terminals with no browser ----
    app.post('/device/code', async (req, reply) => {
      const params = (req.body ?? {}) as Params;
      const clientId = required(params, 'client_id');
      const challenge = str(params, 'code_challenge');
      if (challenge !== undefined) {
        if (str(params, 'code_challenge_method') !== 'S256') throw new HttpError('invalid_request', 'code_challenge_method must be "S256"');
        if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) throw new HttpError('invalid_request', 'code_challenge must be the base64url SHA-256 of the code verifier (43 characters)');
      }
      prune(devices);
      if (devices.size >= MAX_PENDING_CODES) throw new HttpError('TOO_MANY_PENDING_CODES', 'too many pending device logins; try again shortly');
      const deviceCode = randomBytes(32).toString('base64url');
      const code = userCode();
      devices.set(deviceCode, { clientId, userCode: code, codeChallenge: challenge, email: undefined, expiresAt: Date.now() + deviceTtlMs });
      const issuer = issuerOf();
      return reply.header('cache-control', 'no-store').send({
        device_code: deviceCode,
        user_code: code,
        verification_uri: `${issuer}/device`,
        verification_uri_complete: `${issuer}/device?user_code=${encodeURIComponent(code)}`,
        expires_in: Math.floor(deviceTtlMs / 1000),
        interval: deviceInterval,
      });
    });

    app.get('/device', async (req, reply) => {
      const q = req.query as Params;
      const code = typeof q.user_code === 'string' ? q.user_code.slice(0, 32) : '';
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(devicePage(code, 'form'));
    });

    app.post('/device', async (req, reply) => {
      const body = (req.body ?? {}) as Params;
      const code = (str(body, 'user_code') ?? '').toUpperCase().trim().slice(0, 32);
      const html = (status: number, text: string) => reply.code(status).type('text/html; charset=utf-8').send(text);
      const entry = [...devices.values()].find((d) => d.userCode === code && d.expiresAt >= Date.now() && d.email === undefined);
      if (!entry) return html(400, devicePage(code, 'form', 'Unknown or expired code.'));
      let email: string;
      try {
        email = parseEmail(str(body, 'email'));
      } catch {
        return html(400, devicePage(code, 'form', 'Please enter a valid email address.'));
      }
      entry.email = email;
      return html(200, devicePage(code, 'done'));
    });

    app.post('/token', async (req, reply) => {
      const params = (req.body ?? {}) as Params;
      if (typeof params !== 'object' || Array.isArray(params)) throw new HttpError('invalid_request', 'the token request must be a form or a JSON object');
      const grant = required(params, 'grant_type');
      const issuer = issuerOf();
      let idToken: string;
      let ttl: number;
      if (grant === 'authorization_code') {
        const code = required(params, 'code');
        const pending = codes.get(code);
        codes.delete(code); // one use only, even when the rest fails
        if (!pending || pending.expiresAt < Date.now()) throw new HttpError('invalid_grant', 'authorization code is unknown, used or expired');
        const clientId = required(params, 'client_id');
        if (clientId !== pending.clientId) throw new HttpError('invalid_grant', `client_id ${JSON.stringify(clientId)} is not the one the code was issued to`);
        const redirectUri = required(params, 'redirect_uri');
        if (redirectUri !== pending.redirectUri) throw new HttpError('invalid_grant', 'redirect_uri differs from the one in the authorization request');
        checkPkce(required(params, 'code_verifier'), pending.codeChallenge);
        ttl = parseTtl(undefined);
        const claims = devTokenClaims(issuer, { kind: 'email', email: pending.email }, pending.clientId, ttl, pending.nonce ? { nonce: pending.nonce } : {});
        idToken = await signIdToken(signer, claims);
      } else if (grant === DEVICE_GRANT) {
        const deviceCode = required(params, 'device_code');
        const pending = devices.get(deviceCode);
        if (!pending) throw new HttpError('invalid_grant', 'device_code is unknown or already used');
        if (pending.expiresAt < Date.now()) {
          devices.delete(deviceCode);
          throw new HttpError('expired_token', 'the device code expired before the login was completed');
        }
        if (required(params, 'client_id') !== pending.clientId) throw new HttpError('invalid_grant', 'client_id is not the one the device code was issued to');
        if (pending.email === undefined) throw new HttpError('authorization_pending', 'the user has not completed the login yet');
        devices.delete(deviceCode);
        if (pending.codeChallenge !== undefined) {
          checkPkce(required(params, 'code_verifier'), pending.codeChallenge);
        }
        ttl = parseTtl(undefined);
        idToken = await signIdToken(signer, devTokenClaims(issuer, { kind: 'email', email: pending.email }, pending.clientId, ttl));
      } else if (grant === 'client_credentials') {
        if (!allowClientCredentials) throw new HttpError('unauthorized_client', 'the client_credentials grant is disabled');
        ttl = parseTtl(params.ttl);
        const audience = str(params, 'audience') ?? str(params, 'client_id') ?? DEV_AUDIENCE;
        const github = requestedGithubClaims(params);
        let identity: DevIdentity;
        let iss = issuer;
        const githubIssuer = issuer + GITHUB_ISSUER_SUFFIX;
        if (github) {
          if (str(params, 'email') !== undefined) throw new HttpError('invalid_request', 'ask for either an email identity or workflow claims, not both');
          identity = { kind: 'github', claims: githubClaims(github) };
          iss = githubIssuer;
        } else {
          identity = { kind: 'email', email: parseEmail(str(params, 'email')) };
        }
        idToken = await signIdToken(signer, devTokenClaims(iss, identity, audience, ttl));
      } else {
        throw new HttpError('unsupported_grant_type', `grant_type ${JSON.stringify(grant)} is not supported (authorization_code, device_code, client_credentials)`);
      }
      return reply.header('cache-control', 'no-store').send({
        access_token: idToken, id_token: idToken, token_type: 'Bearer', expires_in: ttl, scope: 'openid email',
      });
    });
  };
}

function prune(pending: Map<string, { expiresAt: number }>): void {
  const now = Date.now();
  for (const [k, v] of pending) if (v.expiresAt < now) pending.delete(k);
}
