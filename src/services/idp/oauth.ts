// What every grant handler shares: request parameters, OAuth error names, PKCE, pending-code tables.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { DevSigner } from './tokens.js';
import { HttpError } from '../http/index.js';

export type Params = Record<string, unknown>;

/** OAuth error names (RFC 6749 §5.2, RFC 8628 §3.5) pass through; our own codes map to invalid_request. */
export const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'unsupported_response_type',
  'authorization_pending',
  'slow_down',
  'access_denied',
  'expired_token',
]);

/** Most unredeemed codes of one kind held at once (authorization codes, device codes). */
export const MAX_PENDING_CODES = 10_000;

/** What a grant handler needs from the IdP: its issuer URL now, and its token signer. */
export interface IdpContext {
  issuer(): string;
  signer: DevSigner;
}

/** A `grant_type` the token endpoint redeems: returns the ID token and its lifetime. */
export interface GrantHandler {
  grantType: string;
  redeem(params: Params, ctx: IdpContext): Promise<{ idToken: string; ttl: number }>;
}

export function str(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw new HttpError('invalid_request', `parameter ${name} must be a string`);
  return v;
}

export function required(params: Params, name: string): string {
  const v = str(params, name);
  if (v === undefined) throw new HttpError('invalid_request', `parameter ${name} is required`);
  return v;
}

/** PKCE S256 (RFC 7636): base64url(SHA-256(verifier)) must equal the challenge, compared in constant time. */
export function checkPkce(verifier: string, challenge: string): void {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier))
    throw new HttpError('invalid_grant', 'code_verifier must be 43-128 unreserved characters');
  const a = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const b = Buffer.from(challenge);
  if (a.length !== b.length || !timingSafeEqual(a, b))
    throw new HttpError('invalid_grant', 'code_verifier does not match the code_challenge (PKCE S256)');
}

/** A code challenge as sent: S256 only, 43 base64url characters. */
export function checkChallenge(challenge: string, method: string | undefined): void {
  if (method !== 'S256')
    throw new HttpError('invalid_request', `code_challenge_method must be "S256", got ${JSON.stringify(method ?? null)}`);
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge))
    throw new HttpError('invalid_request', 'code_challenge must be the base64url SHA-256 of the code verifier (43 characters)');
}

export function prune(pending: Map<string, { expiresAt: number }>): void {
  const now = Date.now();
  for (const [k, v] of pending) if (v.expiresAt < now) pending.delete(k);
}

export function html(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(text);
}
