// Client credentials: a token for any identity asked for (`keyless dev-token`), email or GitHub-like workflow.
import { HttpError } from '../http/index.js';
import { GITHUB_ISSUER_SUFFIX } from './discovery.js';
import { DEV_AUDIENCE, devTokenClaims, githubClaims, parseEmail, parseTtl, signIdToken, type DevIdentity } from './tokens.js';
import { str, type GrantHandler, type Params } from './oauth.js';

/** Workflow claims a client may ask for: `github_<claim>` parameters (or `github` as an object in JSON). */
function requestedGithubClaims(params: Params): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const nested = params.github;
  if (nested !== undefined) {
    if (typeof nested !== 'object' || nested === null || Array.isArray(nested))
      throw new HttpError('invalid_request', 'github must be an object of claims');
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

export const clientCredentialsGrant: GrantHandler = {
  grantType: 'client_credentials',
  async redeem(params, ctx) {
    const ttl = parseTtl(params.ttl);
    const audience = str(params, 'audience') ?? str(params, 'client_id') ?? DEV_AUDIENCE;
    const github = requestedGithubClaims(params);
    let identity: DevIdentity;
    let iss = ctx.issuer();
    if (github) {
      if (str(params, 'email') !== undefined)
        throw new HttpError('invalid_request', 'ask for either an email identity or workflow claims, not both');
      identity = { kind: 'github', claims: githubClaims(github) };
      iss += GITHUB_ISSUER_SUFFIX;
    } else {
      identity = { kind: 'email', email: parseEmail(str(params, 'email')) };
    }
    return { idToken: await signIdToken(ctx.signer, devTokenClaims(iss, identity, audience, ttl)), ttl };
  },
};
