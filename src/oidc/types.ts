/**
 * Issuer configuration and identity types (protocols §2.2, §3.8–3.10). The names
 * follow Fulcio's configuration file (`issuer-url`, `client-id`, `type`, ...) in camelCase.
 */

/** The issuer types Fulcio knows; each decides the SAN, the challenge claim and the extensions. */
export type IssuerType =
  'email' | 'github-workflow' | 'gitlab-pipeline' | 'buildkite-job' | 'kubernetes' | 'spiffe' | 'uri' | 'username' | 'ci-provider';

export const ISSUER_TYPES: readonly IssuerType[] = [
  'email',
  'github-workflow',
  'gitlab-pipeline',
  'buildkite-job',
  'kubernetes',
  'spiffe',
  'uri',
  'username',
  'ci-provider',
];

/** For `type: ci-provider`: which claim template renders the identity. */
export type CiProvider = 'github-workflow' | 'gitlab-pipeline';

/** A JSON Web Key as published in a JWKS (only the public members matter here). */
export interface PublicJwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  [member: string]: unknown;
}

export interface JsonWebKeySet {
  keys: PublicJwk[];
}

export interface IssuerConfig {
  /** Exact issuer URL (the token's `iss` must equal it). One of issuerUrl / wildcardIssuerUrl. */
  issuerUrl?: string;
  /** Meta-issuer pattern: each `*` matches `[-_a-zA-Z0-9]+` (Fulcio's meta issuers). */
  wildcardIssuerUrl?: string;
  /** The audience the token must carry (`client-id`); default `sigstore`. */
  clientId?: string;
  type: IssuerType;
  /** Only for `type: ci-provider`. */
  ciProvider?: CiProvider;
  /** `uri`: the scheme and host `sub` must have; `username`: the domain after `!`. */
  subjectDomain?: string;
  /** `spiffe`: the trust domain `sub` must belong to. */
  spiffeTrustDomain?: string;
  /** Overrides the claim whose value the proof of possession signs. */
  challengeClaim?: string;
  /** `email` only: a JSONPath (`$.a.b`) whose value replaces `iss` in the certificate. */
  issuerClaim?: string;
  /** `email` only: accept tokens whose `email_verified` is not true. */
  skipEmailVerification?: boolean;
  /** Base URL for CI identities (`https://github.com`, `https://gitlab.com`); defaults per provider. */
  ciBaseUrl?: string;
  /** JWS algorithms accepted for this issuer (narrows the global allow-list and discovery). */
  algorithms?: string[];
  /** A fixed key set: skips discovery and JWKS fetching (the in-process development IdP). */
  jwks?: JsonWebKeySet;
}

/** Decoded token claims; values are unchecked JSON. */
export type TokenClaims = Record<string, unknown>;

export interface TokenHeader {
  alg?: unknown;
  kid?: unknown;
  typ?: unknown;
  [member: string]: unknown;
}

export type SanType = 'email' | 'uri' | 'otherName';

/** The one Subject Alternative Name of a Fulcio leaf (otherName = username, OID 1.3.6.1.4.1.57264.1.7). */
export interface SubjectAlternativeName {
  type: SanType;
  value: string;
}

/**
 * The Sigstore certificate extensions (1.3.6.1.4.1.57264.1.*), named as in Fulcio's
 * `certificate.Extensions`. An empty or absent value is not emitted.
 */
export interface SigstoreExtensions {
  issuer: string; // .1.1 (raw) and .1.8 (UTF8String), always both
  githubWorkflowTrigger?: string; // .1.2
  githubWorkflowSha?: string; // .1.3
  githubWorkflowName?: string; // .1.4
  githubWorkflowRepository?: string; // .1.5
  githubWorkflowRef?: string; // .1.6
  buildSignerUri?: string; // .1.9
  buildSignerDigest?: string; // .1.10
  runnerEnvironment?: string; // .1.11
  sourceRepositoryUri?: string; // .1.12
  sourceRepositoryDigest?: string; // .1.13
  sourceRepositoryRef?: string; // .1.14
  sourceRepositoryIdentifier?: string; // .1.15
  sourceRepositoryOwnerUri?: string; // .1.16
  sourceRepositoryOwnerIdentifier?: string; // .1.17
  buildConfigUri?: string; // .1.18
  buildConfigDigest?: string; // .1.19
  buildTrigger?: string; // .1.20
  runInvocationUri?: string; // .1.21
  sourceRepositoryVisibilityAtSigning?: string; // .1.22
  deploymentEnvironment?: string; // .1.23
  tokenSubject?: string; // .1.24
}

/** What a verified token entitles its bearer to: everything the certificate carries. */
export interface Identity {
  san: SubjectAlternativeName;
  /** The claim value the proof of possession must sign (UTF-8). */
  challengeClaimValue: string;
  /** The issuer written into the certificate (`iss`, or the `issuerClaim` value). */
  issuer: string;
  extensions: SigstoreExtensions;
  /** Each extension in OID order with its DER extnValue contents (what the leaf carries). */
  extensionList: SigstoreExtensionValue[];
}

export interface SigstoreExtensionValue {
  oid: string;
  /** 'raw': the UTF-8 bytes are the extnValue (.1.1–.1.6); 'utf8string': a DER UTF8String (.1.8+). */
  encoding: 'raw' | 'utf8string';
  value: string;
  /** The extnValue contents (inside the OCTET STRING), ready for the certificate. */
  der: Buffer;
}
