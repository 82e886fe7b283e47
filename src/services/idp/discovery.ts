// Discovery documents (the email issuer and its GitHub-like workflow twin) and the JWKS.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { IssuerConfig, JsonWebKeySet } from '../../oidc/index.js';
import type { Signer } from '../../core/signer.js';
import { DEV_AUDIENCE, devSigner } from './tokens.js';
import type { IdpContext } from './oauth.js';

/** Path (below the issuer) of the second issuer, whose tokens carry GitHub-Actions-like workflow claims. */
export const GITHUB_ISSUER_SUFFIX = '/github';

/** Issuer configurations the CA needs to accept this IdP's tokens: email identities and GitHub-like workflows. */
export async function devIdpIssuerConfigs(
  issuerUrl: string,
  signingKey: Signer,
  options: { staticKeys?: boolean } = {},
): Promise<IssuerConfig[]> {
  const signer = await devSigner(signingKey);
  const jwks: JsonWebKeySet | undefined =
    options.staticKeys === false ? undefined : { keys: [signer.jwk as JsonWebKeySet['keys'][number]] };
  const base = issuerUrl.replace(/\/+$/, '');
  return [
    { issuerUrl: base, clientId: DEV_AUDIENCE, type: 'email', algorithms: ['ES256'], ...(jwks ? { jwks } : {}) },
    {
      issuerUrl: `${base}${GITHUB_ISSUER_SUFFIX}`,
      clientId: DEV_AUDIENCE,
      type: 'github-workflow',
      algorithms: ['ES256'],
      ...(jwks ? { jwks } : {}),
    },
  ];
}

export function registerDiscovery(app: FastifyInstance, ctx: IdpContext, grantTypes: readonly string[]): void {
  const discovery = (iss: string, issuer: string) => ({
    issuer: iss,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    device_authorization_endpoint: `${issuer}/device/code`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code', 'id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
    grant_types_supported: grantTypes,
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    scopes_supported: ['openid', 'email'],
    claims_supported: ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'email', 'email_verified', 'nonce'],
  });
  const cacheable = (reply: FastifyReply) => reply.header('cache-control', 'public, max-age=300');
  const jwks = { keys: [ctx.signer.jwk] };
  app.get('/.well-known/openid-configuration', async (_req, reply) => cacheable(reply).send(discovery(ctx.issuer(), ctx.issuer())));
  app.get(`${GITHUB_ISSUER_SUFFIX}/.well-known/openid-configuration`, async (_req, reply) =>
    cacheable(reply).send(discovery(ctx.issuer() + GITHUB_ISSUER_SUFFIX, ctx.issuer())),
  );
  app.get('/jwks', async (_req, reply) => cacheable(reply).send(jwks));
}
