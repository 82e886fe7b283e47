import type { IssuerConfig, TokenClaims } from './types.js';

const KNOWN_ISSUERS: Record<string, Partial<IssuerConfig>> = {
  'https://token.actions.githubusercontent.com': { type: 'github-workflow' },
  'https://gitlab.com': { type: 'gitlab-pipeline' },
  'https://agent.buildkite.com': { type: 'buildkite-job' },
};

/**
 * A best guess of the issuer configuration for claims from an unconfigured issuer (for
 * `keyless token inspect`): the public-good issuers by URL, then by the claims present.
 * A CA never uses this; it only accepts configured issuers.
 */
export function inferIssuerConfig(claims: TokenClaims): IssuerConfig {
  const iss = typeof claims.iss === 'string' ? claims.iss : '';
  const known = KNOWN_ISSUERS[iss];
  if (known) return { issuerUrl: iss, ...known } as IssuerConfig;
  if (typeof claims.email === 'string') return { issuerUrl: iss, type: 'email' };
  if (typeof claims.job_workflow_ref === 'string') return { issuerUrl: iss, type: 'github-workflow' };
  if (typeof claims.ci_config_ref_uri === 'string') return { issuerUrl: iss, type: 'gitlab-pipeline' };
  if (typeof claims['kubernetes.io'] === 'object' && claims['kubernetes.io'] !== null) return { issuerUrl: iss, type: 'kubernetes' };
  const sub = typeof claims.sub === 'string' ? claims.sub : '';
  const spiffe = /^spiffe:\/\/([^/]+)/.exec(sub);
  if (spiffe) return { issuerUrl: iss, type: 'spiffe', spiffeTrustDomain: spiffe[1]! };
  try {
    const u = new URL(sub);
    if (u.protocol === 'https:' || u.protocol === 'http:')
      return { issuerUrl: iss, type: 'uri', subjectDomain: `${u.protocol}//${u.host}` };
  } catch {
    // not a URI: a username
  }
  let domain = 'unknown';
  try {
    domain = new URL(iss).hostname;
  } catch {
    // keep the placeholder
  }
  return { issuerUrl: iss, type: 'username', subjectDomain: domain };
}
