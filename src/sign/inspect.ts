// `keyless token inspect`: what a certificate issued for this token would say.
import { asArray, asObject } from '../core/json.js';
import { findIssuerConfig, identityFromClaims, type IssuerConfig, type IssuerType, ISSUER_TYPES } from '../oidc/index.js';
import { callService, joinUrl, jsonBody, serviceName } from './http.js';
import { checkToken, decodeToken, type TokenClaims } from './token.js';
import { obtainIdentityToken, readTokenArgument } from './token-sources.js';
import { SIGNING_CONFIG_ENV } from './config.js';
import { loadSigningConfig } from './signing-config.js';
import { selectServices } from './services.js';

export interface InspectFlags {
  fulcioUrl?: string;
  signingConfig?: string;
  json?: boolean;
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
  certificate: { san: { type: string; value: string } | undefined; issuer: string | undefined; extensions: Record<string, string>; error: string | undefined };
  challenge: string | undefined;
}

export async function inspectTokenCommand(token: string | undefined, flags: InspectFlags): Promise<void> {
  const jwt = token !== undefined
    ? readTokenArgument(token)
    : (await obtainIdentityToken({ interactive: false, canOpenBrowser: false, log: () => {} })).jwt;
  const report = await inspectToken(jwt, flags);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const c = report.certificate;
  const lines = [
    `issuer:        ${String(report.issuer)}`,
    `subject:       ${String(report.subject)}`,
    `audience:      ${JSON.stringify(report.audience)}`,
    `expires:       ${report.expiresAt ?? 'never (no exp claim)'}`,
    `status:        ${report.status}`,
    `issuer type:   ${report.issuerType} (${report.issuerTypeSource})`,
    c.san ? `certificate:   ${c.san.type} SAN ${c.san.value}` : `certificate:   none would be issued (${c.error})`,
    ...(c.issuer ? [`cert issuer:   ${c.issuer}`] : []),
    ...Object.entries(c.extensions).filter(([k]) => k !== 'issuer').map(([k, v]) => `  ${k}: ${v}`),
    ...(report.challenge ? [`signs (PoP):   ${report.challenge}`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function inspectToken(jwt: string, flags: InspectFlags): Promise<TokenReport> {
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
  const { config, source } = await issuerConfigFor(claims, flags);
  const certificate: TokenReport['certificate'] = { san: undefined, issuer: undefined, extensions: {}, error: undefined };
  try {
    const identity = identityFromClaims(claims, config);
    certificate.san = identity.san;
    certificate.issuer = identity.issuer;
    certificate.extensions = Object.fromEntries(Object.entries(identity.extensions).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
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
async function issuerConfigFor(claims: TokenClaims, flags: InspectFlags): Promise<{ config: IssuerConfig; source: string }> {
  const iss = typeof claims.iss === 'string' ? claims.iss : '';
  let caUrl = flags.fulcioUrl;
  const configPath = flags.signingConfig ?? process.env[SIGNING_CONFIG_ENV];
  if (!caUrl && configPath) caUrl = selectServices(loadSigningConfig(configPath)).ca.url;
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
