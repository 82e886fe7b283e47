import { TokenError } from './errors.js';
import type { IssuerConfig } from './types.js';

export const DEFAULT_AUDIENCE = 'sigstore';

const compiledWildcards = new WeakMap<IssuerConfig, RegExp>();

function wildcardRegExp(config: IssuerConfig): RegExp {
  let re = compiledWildcards.get(config);
  if (!re) {
    const parts = (config.wildcardIssuerUrl ?? '').split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
    re = new RegExp(`^${parts.join('[-_a-zA-Z0-9]+')}$`);
    compiledWildcards.set(config, re);
  }
  return re;
}

/** The configuration for `iss`: an exact issuerUrl first, then meta-issuer patterns (Fulcio's order). */
export function findIssuerConfig(iss: string, issuers: readonly IssuerConfig[]): IssuerConfig {
  for (const c of issuers) if (c.issuerUrl !== undefined && c.issuerUrl === iss) return c;
  for (const c of issuers) if (c.wildcardIssuerUrl !== undefined && wildcardRegExp(c).test(iss)) return c;
  throw new TokenError('TOKEN_ISSUER_UNKNOWN', `issuer "iss" ${JSON.stringify(iss)} is not a configured identity provider`, {
    check: 'iss',
    actual: iss,
    expected: issuers.map((c) => c.issuerUrl ?? c.wildcardIssuerUrl),
  });
}

export function audienceOf(config: IssuerConfig): string {
  return config.clientId ?? DEFAULT_AUDIENCE;
}

/** The OIDCIssuer objects of Fulcio's `GET /api/v2/configuration` (every scalar present, as grpc-gateway emits). */
export function issuerConfigurationJson(issuers: readonly IssuerConfig[]): Array<Record<string, unknown>> {
  return issuers.map((c) => ({
    ...(c.issuerUrl !== undefined ? { issuerUrl: c.issuerUrl } : { wildcardIssuerUrl: c.wildcardIssuerUrl ?? '' }),
    audience: audienceOf(c),
    challengeClaim: c.challengeClaim ?? (c.type === 'email' ? 'email' : 'sub'),
    spiffeTrustDomain: c.spiffeTrustDomain ?? '',
    issuerType: c.type,
    subjectDomain: c.subjectDomain ?? '',
    skipEmailVerification: c.skipEmailVerification ?? false,
  }));
}
