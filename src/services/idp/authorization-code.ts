// Authorization code with PKCE (RFC 6749 §4.1, RFC 7636) behind the small login page.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../http/index.js';
import { loginPage } from './login-page.js';
import { devTokenClaims, parseEmail, parseTtl, signIdToken } from './tokens.js';
import { MAX_PENDING_CODES, checkChallenge, checkPkce, html, prune, required, str, type GrantHandler, type Params } from './oauth.js';

interface PendingCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | undefined;
  email: string;
  expiresAt: number;
}

/** Parameters the login page and its POST carry through. */
const AUTHORIZE_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'nonce',
  'scope',
  'code_challenge',
  'code_challenge_method',
] as const;

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

function authorizeRequest(params: Params): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of AUTHORIZE_PARAMS) {
    const v = str(params, name);
    if (v !== undefined) out[name] = v;
  }
  if (out.response_type !== 'code')
    throw new HttpError('unsupported_response_type', `response_type must be "code", got ${JSON.stringify(out.response_type ?? null)}`);
  required(out, 'client_id');
  checkRedirectUri(required(out, 'redirect_uri'));
  if (!out.code_challenge) throw new HttpError('invalid_request', 'code_challenge is required (PKCE)');
  checkChallenge(out.code_challenge, out.code_challenge_method);
  return out;
}

/** Registers `/authorize` (page and form) and returns the `authorization_code` grant that redeems its codes. */
export function authorizationCodeGrant(app: FastifyInstance, options: { codeTtlSeconds?: number } = {}): GrantHandler {
  const codeTtlMs = (options.codeTtlSeconds ?? 120) * 1000;
  const codes = new Map<string, PendingCode>();

  app.get('/authorize', async (req, reply) => html(reply, 200, loginPage(authorizeRequest(req.query as Params))));

  app.post('/authorize', async (req, reply) => {
    const body = (req.body ?? {}) as Params;
    const params = authorizeRequest(body);
    let email: string;
    try {
      email = parseEmail(str(body, 'email'));
    } catch {
      return html(reply, 400, loginPage(params, 'Please enter a valid email address.'));
    }
    prune(codes);
    if (codes.size >= MAX_PENDING_CODES)
      throw new HttpError('TOO_MANY_PENDING_CODES', 'too many unredeemed authorization codes; try again shortly');
    const code = randomBytes(32).toString('base64url');
    codes.set(code, {
      clientId: params.client_id!,
      redirectUri: params.redirect_uri!,
      codeChallenge: params.code_challenge!,
      nonce: params.nonce,
      email,
      expiresAt: Date.now() + codeTtlMs,
    });
    const target = new URL(params.redirect_uri!);
    target.searchParams.set('code', code);
    if (params.state !== undefined) target.searchParams.set('state', params.state);
    return reply.code(302).header('location', target.toString()).header('cache-control', 'no-store').send();
  });

  return {
    grantType: 'authorization_code',
    async redeem(params, ctx) {
      const code = required(params, 'code');
      const pending = codes.get(code);
      codes.delete(code); // one use only, even when the rest fails
      if (!pending || pending.expiresAt < Date.now())
        throw new HttpError('invalid_grant', 'authorization code is unknown, used or expired');
      const clientId = required(params, 'client_id');
      if (clientId !== pending.clientId)
        throw new HttpError('invalid_grant', `client_id ${JSON.stringify(clientId)} is not the one the code was issued to`);
      const redirectUri = required(params, 'redirect_uri');
      if (redirectUri !== pending.redirectUri)
        throw new HttpError('invalid_grant', 'redirect_uri differs from the one in the authorization request');
      checkPkce(required(params, 'code_verifier'), pending.codeChallenge);
      const ttl = parseTtl(undefined);
      const claims = devTokenClaims(
        ctx.issuer(),
        { kind: 'email', email: pending.email },
        pending.clientId,
        ttl,
        pending.nonce ? { nonce: pending.nonce } : {},
      );
      return { idToken: await signIdToken(ctx.signer, claims), ttl };
    },
  };
}
