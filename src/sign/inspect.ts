// What a certificate issued for a token would say (`keyless token inspect` prints it).
import { asArray, asObject } from '../core/json.js';
// oidc's index would load jose (token verification), which nothing here needs: the signing
// commands load this module with the rest of sign and must not pay for it.
import { identityFromClaims } from '../oidc/identity.js';
import { findIssuerConfig } from '../oidc/issuers.js';
import { ISSUER_TYPES, type IssuerConfig, type IssuerType } from '../oidc/types.js';
import { callService, joinUrl, jsonBody, serviceName } from './http.js';
import { checkToken, decodeToken, type TokenClaims } from './token.js';

export interface InspectOptions {
  /** The CA to ask how it treats the token's issuer; without one, the issuer type is guessed from the claims. */
  caUrl?: string | undefined;
}

export interface TokenReport {
  issuer: unknown;
  subject: unknown;
  audience: unknown;
  expiresAt: string | undefined;
  /** `ok`, or what a client check found wrong. */
  status: string;
  statusCode: string | undefined;
  issuerType: string;
  /** Where the issuer type came from: the CA's configuration, or a guess from the claims. */
  issuerTypeSource: string;
  certificate: {
    san: { type: string; value: string } | undefined;
    issuer: string | undefined;
    extensions: Record<string, string>;
    error: string | undefined;
  };
  challenge: string | undefined;
}

export async function inspectToken(jwt: string, options: InspectOptions = {}): Promise<TokenReport> {
  const claims = decodeToken(jwt);
  let status = 'ok';
  let statusCode: string | undefined;
  let challenge: string | undefined;
  try {
    challenge = checkToken(jwt).challenge;
  } catch (e) {
    status = (e as Error).message;
    statusCode = (e as { code?: string }).code;
  }
  const { config, source } = await issuerConfigFor(claims, options.caUrl);
  const certificate: TokenReport['certificate'] = { san: undefined, issuer: undefined, extensions: {}, error: undefined };
  try {
    const identity = identityFromClaims(claims, config);
    certificate.san = identity.san;
    certificate.issuer = identity.issuer;
    certificate.extensions = Object.fromEntries(Object.entries(identity.extensions).filter(([, v]) => typeof v === 'string')) as Record<
      string,
      string
    >;
    challenge = identity.challengeClaimValue;
  } catch (e) {
    certificate.error = (e as Error).message;
  }
  return {
    issuer: claims.iss,
    subject: claims.sub,
    audience: claims.aud,
    expiresAt: typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : undefined,
    status,
    statusCode,
    issuerType: config.type,
    issuerTypeSource: source,
    certificate,
    challenge,
  };
}

/** Asks the CA (Fulcio `GET /api/v2/configuration`) how it treats this issuer; guesses when no CA is named. */
async function issuerConfigFor(claims: TokenClaims, caUrl: string | undefined): Promise<{ config: IssuerConfig; source: string }> {
  const iss = typeof claims.iss === 'string' ? claims.iss : '';
  if (caUrl) {
    const service = serviceName('Fulcio', caUrl);
    const res = await callService({ service, url: joinUrl(caUrl, '/api/v2/configuration'), headers: { Accept: 'application/json' } });
    const issuers = asArray(asObject(jsonBody(res, service), 'configuration').issuers ?? [], 'issuers').map(fromFulcioIssuer);
    return { config: findIssuerConfig(iss, issuers), source: `from ${caUrl}` };
  }
  return { config: { issuerUrl: iss, type: guessType(claims) }, source: 'guessed from the claims; pass --fulcio-url to ask the CA' };
}

function fromFulcioIssuer(v: unknown): IssuerConfig {
  const o = asObject(v, 'issuer');
  const str = (k: string): string | undefined => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
  const type = (ISSUER_TYPES as readonly string[]).includes(str('issuerType') ?? '') ? (str('issuerType') as IssuerType) : 'email';
  return {
    issuerUrl: str('issuerUrl'),
    wildcardIssuerUrl: str('wildcardIssuerUrl'),
    clientId: str('audience'),
    type,
    subjectDomain: str('subjectDomain'),
    spiffeTrustDomain: str('spiffeTrustDomain'),
    challengeClaim: str('challengeClaim'),
    skipEmailVerification: o.skipEmailVerification === true,
  };
}

function guessType(claims: TokenClaims): IssuerType {
  const iss = typeof claims.iss === 'string' ? claims.iss : '';
  if (iss === 'https://token.actions.githubusercontent.com' || claims.job_workflow_ref !== undefined) return 'github-workflow';
  if (claims.ci_config_ref_uri !== undefined) return 'gitlab-pipeline';
  if (claims.email !== undefined) return 'email';
  if (typeof claims.sub === 'string' && claims.sub.startsWith('spiffe://')) return 'spiffe';
  if (claims['kubernetes.io'] !== undefined) return 'kubernetes';
  return 'uri';
}
