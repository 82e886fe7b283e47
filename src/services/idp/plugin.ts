import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Signer } from '../../core/signer.js';
import { HttpError, toHttpError } from '../http/index.js';
import { authorizationCodeGrant } from './authorization-code.js';
import { clientCredentialsGrant } from './client-credentials.js';
import { deviceGrant } from './device-flow.js';
import { registerDiscovery } from './discovery.js';
import { OAUTH_ERRORS, required, type GrantHandler, type IdpContext, type Params } from './oauth.js';
import { devSigner } from './tokens.js';

export interface IdpServiceOptions {
  /**
   * The public issuer URL, e.g. `http://127.0.0.1:3000/oidc`: register the plugin under that
   * URL's path as prefix. A function is read per request (for servers bound to port 0).
   */
  issuerUrl: string | (() => string);
  /** The ES256 (P-256) key, through the key store's signing interface. */
  signingKey: Signer;
  /** Whether `client_credentials` may mint tokens for any identity (default true: this is a development IdP). */
  allowClientCredentials?: boolean;
  /** Lifetime of an authorization code (default 120 s). */
  codeTtlSeconds?: number;
  /** Device flow: how long a device code lives (default 600 s) and the polling interval announced (default 1 s). */
  deviceCodeTtlSeconds?: number;
  deviceIntervalSeconds?: number;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * The development OIDC identity provider: discovery and JWKS, and one handler per grant
 * (authorization code with PKCE behind a login page, device flow, client credentials for
 * `keyless dev-token`). It signs any identity it is asked for, so SERVER enables it only
 * when every way in is loopback, unless the operator explicitly allows otherwise.
 */
export function idpService(options: IdpServiceOptions): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const ctx: IdpContext = {
      issuer: () => (typeof options.issuerUrl === 'function' ? options.issuerUrl() : options.issuerUrl).replace(/\/+$/, ''),
      signer: await devSigner(options.signingKey),
    };

    // OAuth clients read `error` / `error_description`; the shared `{code, message}` stays.
    app.setErrorHandler((error, request, reply) => {
      const { status, body, internal } = toHttpError(error);
      if (internal) request.log.error({ err: error, url: request.url.split('?')[0] }, 'internal error');
      const oauth = OAUTH_ERRORS.has(body.code) ? body.code : status >= 500 ? 'server_error' : 'invalid_request';
      void reply
        .code(status)
        .type('application/json')
        .send({ ...body, error: oauth, error_description: body.message });
    });
    app.addContentTypeParser(FORM, { parseAs: 'string' }, (_req, body, done) => {
      const params: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(body as string)) if (!(k in params)) params[k] = v;
      done(null, params);
    });

    const grants: GrantHandler[] = [authorizationCodeGrant(app, options), deviceGrant(app, ctx, options)];
    if (options.allowClientCredentials ?? true) grants.push(clientCredentialsGrant);
    const byType = new Map(grants.map((g) => [g.grantType, g]));
    registerDiscovery(
      app,
      ctx,
      grants.map((g) => g.grantType),
    );

    app.post('/token', async (req, reply) => {
      const params = (req.body ?? {}) as Params;
      if (typeof params !== 'object' || Array.isArray(params))
        throw new HttpError('invalid_request', 'the token request must be a form or a JSON object');
      const grant = required(params, 'grant_type');
      const handler = byType.get(grant);
      if (!handler) {
        if (grant === clientCredentialsGrant.grantType)
          throw new HttpError('unauthorized_client', 'the client_credentials grant is disabled');
        throw new HttpError(
          'unsupported_grant_type',
          `grant_type ${JSON.stringify(grant)} is not supported (authorization_code, device_code, client_credentials)`,
        );
      }
      const { idToken, ttl } = await handler.redeem(params, ctx);
      return reply.header('cache-control', 'no-store').send({
        access_token: idToken,
        id_token: idToken,
        token_type: 'Bearer',
        expires_in: ttl,
        scope: 'openid email',
      });
    });
  };
}
