// Identity policy: who must have signed. Exact comparisons by default; regular
// expressions only when asked for, and then anchored so they match the whole value.
import { KeylessError } from '../core/errors.js';
import { VerifyCode, type CheckLog } from './checks.js';
import { re2ToJavaScript } from './re2.js';

/** Certificate extension matches, by the names cosign gives its flags (without `certificate-`). */
export const EXTENSION_POLICY_OIDS = {
  githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.2',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.3',
  githubWorkflowName: '1.3.6.1.4.1.57264.1.4',
  githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.6',
  buildSignerURI: '1.3.6.1.4.1.57264.1.9',
  buildSignerDigest: '1.3.6.1.4.1.57264.1.10',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryURI: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryIdentifier: '1.3.6.1.4.1.57264.1.15',
  sourceRepositoryOwnerURI: '1.3.6.1.4.1.57264.1.16',
  sourceRepositoryOwnerIdentifier: '1.3.6.1.4.1.57264.1.17',
  buildConfigURI: '1.3.6.1.4.1.57264.1.18',
  buildConfigDigest: '1.3.6.1.4.1.57264.1.19',
  buildTrigger: '1.3.6.1.4.1.57264.1.20',
  runInvocationURI: '1.3.6.1.4.1.57264.1.21',
  sourceRepositoryVisibilityAtSigning: '1.3.6.1.4.1.57264.1.22',
  deploymentEnvironment: '1.3.6.1.4.1.57264.1.23',
  tokenSubject: '1.3.6.1.4.1.57264.1.24',
} as const;
export type ExtensionPolicyName = keyof typeof EXTENSION_POLICY_OIDS;

/** The newer (DER UTF8String) extension that carries the same GitHub value as a deprecated raw one. */
const GITHUB_FALLBACK: Partial<Record<ExtensionPolicyName, string>> = {
  githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.20',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.13',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.14',
};

export interface VerificationPolicy {
  /** Exact SAN (URI, email or username otherName). */
  certificateIdentity?: string;
  /** Regular expression that must match the whole SAN (`certificateIdentityRegExp` is accepted too). */
  certificateIdentityRegexp?: string;
  certificateIdentityRegExp?: string;
  /** Exact OIDC issuer (extension .1.8, else .1.1). */
  certificateOidcIssuer?: string;
  /** Regular expression that must match the whole issuer (`certificateOidcIssuerRegExp` is accepted too). */
  certificateOidcIssuerRegexp?: string;
  certificateOidcIssuerRegExp?: string;
  /**
   * Syntax of the two regular expressions: JavaScript's (default), or RE2's as cosign
   * takes them (`(?i)`, `\\z`, `[[:alpha:]]`, `\\pL`, ...; see re2.ts). Either way the
   * expression must match the whole value.
   */
  regexpSyntax?: 'javascript' | 're2';
  /** Exact values of Sigstore certificate extensions. */
  extensions?: Partial<Record<ExtensionPolicyName, string>>;
  /** Managed-key bundles: the PEM (SPKI) public key they were signed with (`key` is accepted too). */
  publicKey?: string | Uint8Array;
  key?: string | Uint8Array;
  /** For DSSE bundles: the payload type the envelope must carry. */
  payloadType?: string;
  /** For in-toto attestations: the predicate type the statement must carry. */
  predicateType?: string;
  /** Thresholds (defaults 1): transparency-log entries, SCTs, verified times. */
  tlogThreshold?: number;
  ctlogThreshold?: number;
  timestampThreshold?: number;
  /** RFC 3161 timestamps required (default 0; cosign's `--use-signed-timestamps` is 1). */
  signedTimestampThreshold?: number;
  /**
   * When the bundle yields no verified time, check the certificate at the current time
   * instead of failing (cosign's `--insecure-ignore-tlog` without `--use-signed-timestamps`).
   */
  verifyAtCurrentTime?: boolean;
  /**
   * Whether the artifact is matched against what the bundle signed (default true). False,
   * as cosign's `--check-claims=false`: a DSSE envelope is verified without an artifact (its
   * in-toto subjects, or a plain payload, are not compared with anything); a message
   * signature still needs the artifact, since its digest is what was signed.
   */
  checkClaims?: boolean;
}

/** A policy checked and compiled once: anchored regular expressions. */
export interface CompiledPolicy {
  source: VerificationPolicy;
  identity?: { exact?: string; regexp?: RegExp; text: string };
  issuer?: { exact?: string; regexp?: RegExp; text: string };
  extensions: { name: ExtensionPolicyName; oid: string; value: string }[];
}

const compiled = new WeakMap<VerificationPolicy, CompiledPolicy>();

/** Validates a policy; throws POLICY_INVALID (a usage problem, not a verification failure). */
export function compilePolicy(policy: VerificationPolicy): CompiledPolicy {
  const hit = compiled.get(policy);
  if (hit) return hit;
  if (typeof policy !== 'object' || policy === null) throw invalid('policy must be an object');
  const source: VerificationPolicy = {
    ...policy,
    certificateIdentityRegexp: alias('certificateIdentityRegexp', policy.certificateIdentityRegexp, policy.certificateIdentityRegExp),
    certificateOidcIssuerRegexp: alias(
      'certificateOidcIssuerRegexp',
      policy.certificateOidcIssuerRegexp,
      policy.certificateOidcIssuerRegExp,
    ),
    publicKey: alias('publicKey', policy.publicKey, policy.key),
  };
  if (policy.regexpSyntax !== undefined && policy.regexpSyntax !== 'javascript' && policy.regexpSyntax !== 're2')
    throw invalid('regexpSyntax must be "javascript" or "re2"');
  const re2 = policy.regexpSyntax === 're2';
  const identity = matcher('certificateIdentity', source.certificateIdentity, source.certificateIdentityRegexp, re2);
  const issuer = matcher('certificateOidcIssuer', source.certificateOidcIssuer, source.certificateOidcIssuerRegexp, re2);
  const extensions: CompiledPolicy['extensions'] = [];
  for (const [name, value] of Object.entries(policy.extensions ?? {})) {
    if (value === undefined) continue;
    const oid = EXTENSION_POLICY_OIDS[name as ExtensionPolicyName];
    if (!oid) throw invalid(`unknown certificate extension policy ${JSON.stringify(name)}`);
    if (typeof value !== 'string') throw invalid(`extensions.${name} must be a string`);
    extensions.push({ name: name as ExtensionPolicyName, oid, value });
  }
  for (const k of ['tlogThreshold', 'ctlogThreshold', 'timestampThreshold', 'signedTimestampThreshold'] as const) {
    const v = policy[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw invalid(`${k} must be a non-negative integer`);
  }
  if (source.publicKey !== undefined && (identity || issuer || extensions.length > 0)) {
    // Either a key or an identity is trusted, never both (conformance managed-key-and-client-identity_fail).
    throw invalid('give either a public key or an identity policy, not both');
  }
  const result: CompiledPolicy = { source, identity, issuer, extensions };
  compiled.set(policy, result);
  return result;
}

/** Two spellings of one field: either may be given, not both with different values. */
function alias<T>(name: string, a: T | undefined, b: T | undefined): T | undefined {
  if (a !== undefined && b !== undefined && a !== b) throw invalid(`${name} is given twice with different values`);
  return a ?? b;
}

function matcher(name: string, exact: unknown, regexp: unknown, re2: boolean): CompiledPolicy['identity'] {
  if (exact !== undefined && regexp !== undefined) throw invalid(`give either ${name} or ${name}Regexp, not both`);
  if (exact !== undefined) {
    if (typeof exact !== 'string' || exact.length === 0) throw invalid(`${name} must be a non-empty string`);
    return { exact, text: exact };
  }
  if (regexp !== undefined) {
    if (typeof regexp !== 'string' || regexp.length === 0) throw invalid(`${name}Regexp must be a non-empty string`);
    let source = regexp;
    if (re2) {
      try {
        source = re2ToJavaScript(regexp);
      } catch (e) {
        throw invalid(`${name}Regexp: ${(e as Error).message}`);
      }
    }
    try {
      // Anchored: the expression must match the whole value, not a part of it.
      return { regexp: new RegExp(`^(?:${source})$`, 'u'), text: regexp };
    } catch (e) {
      throw invalid(`${name}Regexp is not a valid regular expression (${(e as Error).message})`);
    }
  }
  return undefined;
}

function invalid(message: string): KeylessError {
  return new KeylessError(VerifyCode.POLICY_INVALID, `policy: ${message}`, { check: 'policy' });
}

function matches(m: NonNullable<CompiledPolicy['identity']>, value: string): boolean {
  return m.exact !== undefined ? m.exact === value : m.regexp!.test(value);
}

/** The certificate facts a policy looks at. */
export interface SignerIdentity {
  san: string | undefined;
  issuer: string | undefined;
  /** Sigstore extension values decoded to text, by OID. */
  extensions: Readonly<Record<string, string>>;
}

/** Checks identity, issuer and extension matches; records each, throws on the first mismatch. */
export function checkPolicy(log: CheckLog, policy: CompiledPolicy, signer: SignerIdentity): void {
  const { identity, issuer } = policy;
  if (identity) {
    const check = identity.regexp ? 'policy.identity-regexp' : 'policy.identity';
    if (signer.san === undefined || !matches(identity, signer.san)) {
      log.fail(VerifyCode.POLICY_IDENTITY_MISMATCH, check, 'certificate identity does not match', identity.text, signer.san ?? null);
    }
    log.pass(check, identity.text, signer.san);
  }
  if (issuer) {
    const check = issuer.regexp ? 'policy.issuer-regexp' : 'policy.issuer';
    if (signer.issuer === undefined || !matches(issuer, signer.issuer)) {
      log.fail(VerifyCode.POLICY_ISSUER_MISMATCH, check, 'certificate OIDC issuer does not match', issuer.text, signer.issuer ?? null);
    }
    log.pass(check, issuer.text, signer.issuer);
  }
  for (const { name, oid, value } of policy.extensions) {
    const fallback = GITHUB_FALLBACK[name];
    const actual = signer.extensions[oid] ?? (fallback ? signer.extensions[fallback] : undefined);
    const check = `policy.extension.${name}`;
    if (actual !== value)
      log.fail(VerifyCode.POLICY_EXTENSION_MISMATCH, check, `certificate extension ${name} (${oid}) does not match`, value, actual ?? null);
    log.pass(check, value, actual);
  }
}
