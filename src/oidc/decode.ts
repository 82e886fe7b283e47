import { TokenError } from './errors.js';
import type { TokenClaims, TokenHeader } from './types.js';

/** Tokens larger than this are refused before any decoding (real ID tokens are 1–4 KB). */
export const MAX_TOKEN_LENGTH = 64 * 1024;

const B64URL_RE = /^[A-Za-z0-9_-]*$/;

export interface DecodedToken {
  header: TokenHeader;
  claims: TokenClaims;
  /** `<header>.<payload>` exactly as received: the JWS signing input. */
  signingInput: string;
  signature: Buffer;
  raw: string;
}

function part(segment: string, name: string): Buffer {
  if (!B64URL_RE.test(segment) || segment.length % 4 === 1) {
    throw new TokenError('TOKEN_MALFORMED', `token ${name} is not unpadded base64url`, { check: `token-${name}` });
  }
  return Buffer.from(segment, 'base64url');
}

function jsonObject(bytes: Buffer, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new TokenError('TOKEN_MALFORMED', `token ${name} is not valid JSON`, { check: `token-${name}` });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenError('TOKEN_MALFORMED', `token ${name} is not a JSON object`, { check: `token-${name}` });
  }
  return value as Record<string, unknown>;
}

/** Splits and decodes a compact JWS without checking anything cryptographic. */
export function decodeToken(jwt: unknown): DecodedToken {
  if (typeof jwt !== 'string' || jwt.length === 0) {
    throw new TokenError('TOKEN_MALFORMED', 'identity token is missing or not a string', { check: 'token-format' });
  }
  const raw = jwt.trim();
  if (raw.length > MAX_TOKEN_LENGTH) {
    throw new TokenError('TOKEN_MALFORMED', `identity token is ${raw.length} bytes, more than ${MAX_TOKEN_LENGTH}`, {
      check: 'token-format',
    });
  }
  const segments = raw.split('.');
  if (segments.length !== 3) {
    throw new TokenError(
      'TOKEN_MALFORMED',
      `identity token has ${segments.length} dot-separated parts, a JWS has 3 (header.payload.signature)`,
      { check: 'token-format' },
    );
  }
  const [h, p, s] = segments as [string, string, string];
  if (h === '' || p === '')
    throw new TokenError('TOKEN_MALFORMED', 'identity token has an empty header or payload', { check: 'token-format' });
  const header = jsonObject(part(h, 'header'), 'header') as TokenHeader;
  const claims = jsonObject(part(p, 'payload'), 'payload');
  const signature = part(s, 'signature');
  return { header, claims, signingInput: `${h}.${p}`, signature, raw };
}

/** The claims of a JWT, unverified (for clients that only look: `token inspect`, PoP value). */
export function decodeTokenUnverified(jwt: unknown): TokenClaims {
  return decodeToken(jwt).claims;
}
