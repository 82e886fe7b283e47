import { randomUUID } from 'node:crypto';
import { ecdsaDerToRaw, type Signer } from '../../core/signer.js';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { GITHUB_REQUIRED_CLAIMS } from '../../oidc/index.js';
import { HttpError } from '../http/index.js';

export const DEFAULT_TOKEN_TTL_SECONDS = 600;
export const MAX_TOKEN_TTL_SECONDS = 24 * 60 * 60;
export const DEV_AUDIENCE = 'sigstore';

/** The identity a development token is minted for. */
export type DevIdentity = { kind: 'email'; email: string } | { kind: 'github'; claims: Record<string, string> };

export interface DevSigner {
  /** The IdP key, through the key store's signing interface. */
  signer: Signer;
  kid: string;
  jwk: JWK;
}

/** Encoded protected headers by kid: the same for every token of a key. */
const headers = new Map<string, string>();

function headerFor(kid: string): string {
  let h = headers.get(kid);
  if (h === undefined) {
    h = Buffer.from(JSON.stringify({ alg: 'ES256', kid, typ: 'JWT' })).toString('base64url');
    if (headers.size < 64) headers.set(kid, h);
  }
  return h;
}

/** Public JWK (with kid, use, alg) and a kid derived from the key itself (RFC 7638 thumbprint). */
export async function devSigner(signer: Signer): Promise<DevSigner> {
  if (signer.algorithm !== 'ecdsa-p256') {
    throw new TypeError('the development identity provider signs with an ECDSA P-256 key (ES256)');
  }
  const pub = signer.publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(pub);
  return { signer, kid, jwk: { ...pub, kid, use: 'sig', alg: 'ES256' } };
}

/**
 * Signs an ID token with the IdP key: a compact JWS, ES256 (raw r||s), kid in the header.
 * Signed in the calling thread: a P-256 signature (~30 µs) costs less than a hop to the
 * libuv thread pool and back; the DER signature is re-encoded as JWS wants it.
 */
export async function signIdToken(signer: DevSigner, claims: Record<string, unknown>): Promise<string> {
  const input = `${headerFor(signer.kid)}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = ecdsaDerToRaw(signer.signer.sign(Buffer.from(input, 'latin1'), 'sha256'), 32);
  return `${input}.${signature.toString('base64url')}`;
}

export function parseTtl(value: unknown): number {
  if (value === undefined || value === '') return DEFAULT_TOKEN_TTL_SECONDS;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TOKEN_TTL_SECONDS) {
    throw new HttpError(
      'REQUEST_INVALID',
      `ttl must be a whole number of seconds between 1 and ${MAX_TOKEN_TTL_SECONDS}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

const EMAIL_RE = /^[^\s@<>"]{1,64}@[^\s@<>"]{1,255}$/;

export function parseEmail(value: unknown): string {
  if (typeof value !== 'string' || !EMAIL_RE.test(value)) {
    throw new HttpError('REQUEST_INVALID', `email must be an email address, got ${JSON.stringify(value ?? null)}`);
  }
  return value;
}

/** GitHub Actions token claims, with sensible defaults for everything not given. */
export function githubClaims(given: Record<string, string>): Record<string, string> {
  const repository = given.repository;
  if (!repository || !/^[\w.-]+\/[\w.-]+$/.test(repository)) {
    throw new HttpError('REQUEST_INVALID', `repository must look like owner/name, got ${JSON.stringify(repository ?? null)}`);
  }
  const owner = repository.split('/')[0]!;
  const ref = given.ref ?? 'refs/heads/main';
  const workflowPath = given.workflow_path ?? '.github/workflows/release.yml';
  const sha =
    given.sha ?? '0000000000000000000000000000000000000000'.replace(/0/g, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]!);
  const workflowRef = `${repository}/${workflowPath}@${ref}`;
  const claims: Record<string, string> = {
    sub: `repo:${repository}:ref:${ref}`,
    repository,
    repository_owner: owner,
    repository_id: given.repository_id ?? '1',
    repository_owner_id: given.repository_owner_id ?? '1',
    repository_visibility: given.repository_visibility ?? 'public',
    ref,
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    sha,
    event_name: given.event_name ?? 'push',
    workflow: given.workflow ?? 'Release',
    workflow_ref: given.workflow_ref ?? workflowRef,
    workflow_sha: given.workflow_sha ?? sha,
    job_workflow_ref: given.job_workflow_ref ?? workflowRef,
    job_workflow_sha: given.job_workflow_sha ?? sha,
    runner_environment: given.runner_environment ?? 'github-hosted',
    run_id: given.run_id ?? '1',
    run_attempt: given.run_attempt ?? '1',
    actor: given.actor ?? owner,
  };
  if (given.environment) claims.environment = given.environment;
  if (given.sub) claims.sub = given.sub;
  for (const name of GITHUB_REQUIRED_CLAIMS) {
    if (!claims[name]) throw new HttpError('REQUEST_INVALID', `claim ${name} must not be empty`);
  }
  return claims;
}

/** The claim set of a development token (protocols §2.4): email tokens carry email + email_verified; workflow tokens no email. */
export function devTokenClaims(
  issuer: string,
  identity: DevIdentity,
  audience: string,
  ttl: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const base = { iss: issuer, aud: audience, iat: now, nbf: now, exp: now + ttl, jti: randomUUID(), ...extra };
  if (identity.kind === 'email') return { ...base, sub: identity.email, email: identity.email, email_verified: true };
  return { ...base, ...identity.claims };
}
