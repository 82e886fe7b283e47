import { TokenError } from './errors.js';
import { renderSigstoreExtensions } from './extensions.js';
import type { Identity, IssuerConfig, SigstoreExtensions, SubjectAlternativeName, TokenClaims } from './types.js';

/**
 * What a certificate issued for these (already verified) claims carries, per issuer type
 * (protocols §2.2, §3.8–3.10): the SAN, the value the proof of possession signs, the
 * issuer, and every Sigstore extension. Throws a TokenError naming the claim or rule.
 */
export function identityFromClaims(claims: TokenClaims, config: IssuerConfig): Identity {
  const iss = requireString(claims, 'iss');
  const sub = optionalString(claims, 'sub');
  let san: SubjectAlternativeName;
  let extensions: SigstoreExtensions;
  let issuer = iss;
  let defaultChallenge: string;

  const type = config.type === 'ci-provider' ? ciProviderType(config) : config.type;
  switch (type) {
    case 'email': {
      const email = requireString(claims, 'email');
      if (!isEmail(email))
        throw new TokenError('TOKEN_CLAIM_INVALID', `claim "email" is not an email address: ${JSON.stringify(email)}`, {
          check: 'email',
          actual: email,
        });
      if (!config.skipEmailVerification) {
        const verified = claims.email_verified;
        if (verified !== true && verified !== 'true') {
          throw new TokenError('TOKEN_EMAIL_NOT_VERIFIED', `claim "email_verified" must be true, got ${JSON.stringify(verified ?? null)}`, {
            check: 'email_verified',
            expected: true,
            actual: verified,
          });
        }
      }
      if (config.issuerClaim) issuer = jsonPathString(claims, config.issuerClaim);
      san = { type: 'email', value: email };
      extensions = { issuer };
      defaultChallenge = email;
      break;
    }
    case 'github-workflow': {
      ({ san, extensions } = githubIdentity(claims, iss, config.ciBaseUrl ?? 'https://github.com'));
      defaultChallenge = requireString(claims, 'sub');
      break;
    }
    case 'gitlab-pipeline': {
      ({ san, extensions } = gitlabIdentity(claims, iss, config.ciBaseUrl ?? 'https://gitlab.com'));
      defaultChallenge = requireString(claims, 'sub');
      break;
    }
    case 'buildkite-job': {
      const org = requireString(claims, 'organization_slug');
      const pipeline = requireString(claims, 'pipeline_slug');
      san = { type: 'uri', value: `https://buildkite.com/${org}/${pipeline}` };
      extensions = { issuer };
      defaultChallenge = requireString(claims, 'sub');
      break;
    }
    case 'kubernetes': {
      const k8s = claims['kubernetes.io'];
      if (typeof k8s !== 'object' || k8s === null || Array.isArray(k8s)) {
        throw new TokenError('TOKEN_CLAIM_MISSING', 'claim "kubernetes.io" is missing or not an object', { check: 'kubernetes.io' });
      }
      const k = k8s as Record<string, unknown>;
      const namespace = requireString(k, 'namespace', 'kubernetes.io.namespace');
      const sa = k.serviceaccount;
      const name =
        typeof sa === 'object' && sa !== null
          ? requireString(sa as Record<string, unknown>, 'name', 'kubernetes.io.serviceaccount.name')
          : missing('kubernetes.io.serviceaccount.name');
      san = { type: 'uri', value: `https://kubernetes.io/namespaces/${namespace}/serviceaccounts/${name}` };
      extensions = { issuer };
      defaultChallenge = requireString(claims, 'sub');
      break;
    }
    case 'spiffe': {
      const s = requireString(claims, 'sub');
      const domain = config.spiffeTrustDomain;
      if (!domain)
        throw new TokenError('TOKEN_SUBJECT_INVALID', 'issuer of type spiffe has no spiffeTrustDomain configured', {
          check: 'spiffe-trust-domain',
        });
      const td = spiffeTrustDomain(s);
      if (td !== domain) {
        throw new TokenError('TOKEN_SUBJECT_INVALID', `claim "sub" ${JSON.stringify(s)} is not in the SPIFFE trust domain "${domain}"`, {
          check: 'spiffe-trust-domain',
          expected: domain,
          actual: td,
        });
      }
      san = { type: 'uri', value: s };
      extensions = { issuer };
      defaultChallenge = s;
      break;
    }
    case 'uri': {
      const s = requireString(claims, 'sub');
      const domain = config.subjectDomain;
      if (!domain)
        throw new TokenError('TOKEN_SUBJECT_INVALID', 'issuer of type uri has no subjectDomain configured', { check: 'subject-domain' });
      if (isEmail(s))
        throw new TokenError('TOKEN_SUBJECT_INVALID', `claim "sub" ${JSON.stringify(s)} is an email address, not a URI`, {
          check: 'subject-uri',
        });
      const su = parseUrl(s);
      const du = parseUrl(domain);
      if (!su || !du || su.protocol !== du.protocol || su.hostname !== du.hostname) {
        throw new TokenError(
          'TOKEN_SUBJECT_INVALID',
          `claim "sub" ${JSON.stringify(s)} does not have the scheme and host of the subject domain "${domain}"`,
          {
            check: 'subject-domain',
            expected: domain,
            actual: s,
          },
        );
      }
      san = { type: 'uri', value: s };
      extensions = { issuer };
      defaultChallenge = s;
      break;
    }
    case 'username': {
      const s = requireString(claims, 'sub');
      const domain = config.subjectDomain;
      if (!domain)
        throw new TokenError('TOKEN_SUBJECT_INVALID', 'issuer of type username has no subjectDomain configured', {
          check: 'subject-domain',
        });
      if (s.includes('!'))
        throw new TokenError('TOKEN_SUBJECT_INVALID', `claim "sub" ${JSON.stringify(s)} contains "!"`, { check: 'username' });
      if (isEmail(s))
        throw new TokenError('TOKEN_SUBJECT_INVALID', `claim "sub" ${JSON.stringify(s)} is an email address, not a username`, {
          check: 'username',
        });
      san = { type: 'otherName', value: `${s}!${domain}` };
      extensions = { issuer };
      defaultChallenge = s;
      break;
    }
    default:
      throw new TokenError('TOKEN_ISSUER_UNKNOWN', `issuer type ${JSON.stringify(config.type)} is not supported`, { check: 'issuer-type' });
  }

  // rfc822Name and URI are IA5Strings: printable ASCII only (Go's x509 refuses the rest, so does Fulcio).
  if (san.type !== 'otherName' && !/^[\x21-\x7e]+$/.test(san.value)) {
    throw new TokenError(
      'TOKEN_CLAIM_INVALID',
      `identity ${JSON.stringify(san.value)} cannot be put in the certificate: an ${san.type === 'email' ? 'email' : 'URI'} SAN must be printable ASCII without spaces`,
      {
        check: 'san',
        actual: san.value,
      },
    );
  }
  // Fulcio ≥ 1.8.6 records the raw subject for every issuer type.
  if (sub !== undefined && sub !== '') extensions.tokenSubject = sub;
  // Nothing the CA writes may carry control or format characters: a newline, an ANSI escape or
  // a bidirectional override in an identity lets a terminal show a line the signer never had.
  refuseInvisibleCharacters('san', san.value);
  for (const [name, value] of Object.entries(extensions)) {
    if (typeof value === 'string') refuseInvisibleCharacters(name, value);
  }
  const challengeClaimValue = config.challengeClaim ? requireString(claims, config.challengeClaim) : defaultChallenge;
  return { san, challengeClaimValue, issuer, extensions, extensionList: renderSigstoreExtensions(extensions) };
}

function ciProviderType(config: IssuerConfig): 'github-workflow' | 'gitlab-pipeline' {
  if (config.ciProvider === 'github-workflow' || config.ciProvider === 'gitlab-pipeline') return config.ciProvider;
  throw new TokenError(
    'TOKEN_ISSUER_UNKNOWN',
    `ci-provider ${JSON.stringify(config.ciProvider ?? null)} is not supported (github-workflow, gitlab-pipeline)`,
    { check: 'ci-provider' },
  );
}

/** The claims the GitHub Actions principal requires (protocols §3.10). */
export const GITHUB_REQUIRED_CLAIMS = [
  'job_workflow_ref',
  'sha',
  'event_name',
  'repository',
  'workflow',
  'ref',
  'job_workflow_sha',
  'runner_environment',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'repository_visibility',
  'workflow_ref',
  'workflow_sha',
  'run_id',
  'run_attempt',
] as const;

function githubIdentity(claims: TokenClaims, iss: string, base: string): { san: SubjectAlternativeName; extensions: SigstoreExtensions } {
  const c: Record<string, string> = {};
  for (const name of GITHUB_REQUIRED_CLAIMS) c[name] = requireString(claims, name);
  const b = base.replace(/\/+$/, '');
  const signer = `${b}/${c.job_workflow_ref}`;
  const environment = optionalString(claims, 'environment');
  return {
    san: { type: 'uri', value: signer },
    extensions: {
      issuer: iss,
      githubWorkflowTrigger: c.event_name,
      githubWorkflowSha: c.sha,
      githubWorkflowName: c.workflow,
      githubWorkflowRepository: c.repository,
      githubWorkflowRef: c.ref,
      buildSignerUri: signer,
      buildSignerDigest: c.job_workflow_sha,
      runnerEnvironment: c.runner_environment,
      sourceRepositoryUri: `${b}/${c.repository}`,
      sourceRepositoryDigest: c.sha,
      sourceRepositoryRef: c.ref,
      sourceRepositoryIdentifier: c.repository_id,
      sourceRepositoryOwnerUri: `${b}/${c.repository_owner}`,
      sourceRepositoryOwnerIdentifier: c.repository_owner_id,
      buildConfigUri: `${b}/${c.workflow_ref}`,
      buildConfigDigest: c.workflow_sha,
      buildTrigger: c.event_name,
      runInvocationUri: `${b}/${c.repository}/actions/runs/${c.run_id}/attempts/${c.run_attempt}`,
      sourceRepositoryVisibilityAtSigning: c.repository_visibility,
      ...(environment ? { deploymentEnvironment: environment } : {}),
    },
  };
}

/** The claims Fulcio's GitLab principal requires. */
export const GITLAB_REQUIRED_CLAIMS = [
  'project_path',
  'pipeline_source',
  'pipeline_id',
  'ci_config_ref_uri',
  'job_id',
  'ref',
  'ref_type',
  'namespace_path',
  'namespace_id',
  'project_id',
  'sha',
  'runner_environment',
  'runner_id',
] as const;

function gitlabIdentity(claims: TokenClaims, iss: string, base: string): { san: SubjectAlternativeName; extensions: SigstoreExtensions } {
  const c: Record<string, string> = {};
  for (const name of GITLAB_REQUIRED_CLAIMS) c[name] = requireString(claims, name);
  let ref: string;
  if (c.ref_type === 'branch') ref = `refs/heads/${c.ref}`;
  else if (c.ref_type === 'tag') ref = `refs/tags/${c.ref}`;
  else
    throw new TokenError('TOKEN_CLAIM_INVALID', `claim "ref_type" must be "branch" or "tag", got ${JSON.stringify(c.ref_type)}`, {
      check: 'ref_type',
      actual: c.ref_type,
    });
  const b = base.replace(/\/+$/, '');
  const baseUrl = parseUrl(b);
  // ci_config_ref_uri has no scheme: https, or the instance's scheme when it is the same host.
  const configRef = c.ci_config_ref_uri!.replace(/^[a-z]+:\/\//i, '');
  const sameHost = baseUrl !== undefined && configRef.split('/')[0] === baseUrl.host;
  const configUri = `${sameHost ? baseUrl.protocol : 'https:'}//${configRef}`;
  const ciConfigSha = optionalString(claims, 'ci_config_sha');
  const environment = optionalString(claims, 'environment');
  return {
    san: { type: 'uri', value: configUri },
    extensions: {
      issuer: iss,
      buildSignerUri: configUri,
      buildSignerDigest: ciConfigSha,
      runnerEnvironment: c.runner_environment,
      sourceRepositoryUri: `${b}/${c.project_path}`,
      sourceRepositoryDigest: c.sha,
      sourceRepositoryRef: ref,
      sourceRepositoryIdentifier: c.project_id,
      sourceRepositoryOwnerUri: `${b}/${c.namespace_path}`,
      sourceRepositoryOwnerIdentifier: c.namespace_id,
      buildConfigUri: configUri,
      buildConfigDigest: ciConfigSha,
      buildTrigger: c.pipeline_source,
      runInvocationUri: `${b}/${c.project_path}/-/jobs/${c.job_id}`,
      sourceRepositoryVisibilityAtSigning: optionalString(claims, 'project_visibility'),
      ...(environment ? { deploymentEnvironment: environment } : {}),
    },
  };
}

/** Control (Cc), format (Cf: bidi overrides, zero-width), line/paragraph separators and lone surrogates. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

function refuseInvisibleCharacters(field: string, value: string): void {
  const m = INVISIBLE.exec(value);
  if (m) {
    const codePoint = `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new TokenError(
      'TOKEN_CLAIM_INVALID',
      `${field} contains the control or format character ${codePoint} at position ${m.index}; such identities are refused`,
      {
        check: 'identity-characters',
        actual: JSON.stringify(value),
      },
    );
  }
}

function missing(name: string): never {
  throw new TokenError('TOKEN_CLAIM_MISSING', `claim "${name}" is missing`, { check: name });
}

/** A non-empty string claim (numbers, e.g. GitLab's runner_id, are rendered in decimal). */
function requireString(obj: Record<string, unknown>, name: string, label = name): string {
  const v = obj[name];
  if (v === undefined || v === null || v === '') missing(label);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new TokenError('TOKEN_CLAIM_INVALID', `claim "${label}" must be a string, got ${Array.isArray(v) ? 'an array' : typeof v}`, {
    check: label,
  });
}

function optionalString(obj: Record<string, unknown>, name: string): string | undefined {
  const v = obj[name];
  if (v === undefined || v === null) return undefined;
  return requireString(obj, name);
}

function isEmail(s: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s) || /^[^\s@]+@[^\s@.]+$/.test(s);
}

function parseUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

function spiffeTrustDomain(id: string): string | undefined {
  const m = /^spiffe:\/\/([a-z0-9._-]+)(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/.exec(id);
  return m ? m[1] : undefined;
}

/** `$.a.b` over the claims; the value must be a non-empty string. */
function jsonPathString(claims: TokenClaims, path: string): string {
  const m = /^\$((?:\.[A-Za-z0-9_-]+)+)$/.exec(path);
  if (!m) throw new TokenError('TOKEN_CLAIM_INVALID', `issuerClaim ${JSON.stringify(path)} is not a $.a.b path`, { check: 'issuer-claim' });
  let v: unknown = claims;
  for (const key of m[1]!.slice(1).split('.')) {
    v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
  }
  if (typeof v !== 'string' || v === '')
    throw new TokenError('TOKEN_CLAIM_MISSING', `claim at ${path} (issuerClaim) is missing or not a string`, { check: 'issuer-claim' });
  return v;
}
