// Straight from the two modules, not src/oidc/index.ts: the index also loads token
// verification and with it jose (~20-80 ms), which a signing client never needs.
import { decodeTokenUnverified } from '../oidc/decode.js';
import { TokenError } from '../oidc/errors.js';
import { IdentityError } from './errors.js';

export const SIGSTORE_AUDIENCE = 'sigstore';

/** Seconds a token must still be valid for when signing starts (certificate request + margin). */
export const DEFAULT_MIN_VALIDITY_SECONDS = 5;
/** Clock skew tolerated on `nbf` / `iat`, as Fulcio's verifier does. */
export const CLOCK_SKEW_SECONDS = 60;

export interface TokenClaims {
  iss?: unknown;
  sub?: unknown;
  aud?: unknown;
  exp?: unknown;
  nbf?: unknown;
  iat?: unknown;
  email?: unknown;
  email_verified?: unknown;
  [claim: string]: unknown;
}

export interface TokenCheckOptions {
  /** The audience Fulcio expects (the issuer's client ID there; `sigstore` for public issuers). */
  audience?: string;
  /** When given, `iss` must equal it exactly. */
  issuer?: string;
  /** Unix seconds; default now. */
  now?: number;
  minValiditySeconds?: number;
}

export interface CheckedToken {
  /** The raw JWT, to hand to the CA. */
  jwt: string;
  claims: TokenClaims;
  issuer: string;
  subject: string;
  email: string | undefined;
  expiresAt: Date;
  /**
   * What the proof of possession signs: the email when the token has one (then it must be
   * verified), otherwise `sub` — the rule sigstore-js and sigstore-go follow, which matches
   * Fulcio's challenge claim for email issuers (`email`) and every other type (`sub`).
   */
  challenge: string;
}

/** Decodes a JWT's claims without verifying it; the CA verifies the signature. */
export function decodeToken(jwt: string): TokenClaims {
  if (!jwt.trim()) throw new IdentityError('TOKEN_MISSING', 'identity token is empty');
  return decodeTokenUnverified(jwt) as TokenClaims;
}

/**
 * Checks what a client can check before sending a token to the CA: audience, expiry,
 * not-before, issuer, and the claim the proof of possession will sign. Each failure says
 * exactly which claim is wrong, with the expected and actual values.
 */
export function checkToken(jwt: string, options: TokenCheckOptions = {}): CheckedToken {
  const claims = decodeToken(jwt);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const audience = options.audience ?? SIGSTORE_AUDIENCE;

  if (typeof claims.iss !== 'string' || !claims.iss)
    throw new TokenError('TOKEN_CLAIM_MISSING', 'identity token has no "iss" (issuer) claim', { check: 'iss' });
  const issuer = claims.iss;
  if (!isIssuerUrl(issuer)) {
    throw new TokenError('TOKEN_CLAIM_INVALID', `identity token issuer "${issuer}" is not an http(s) URL`, {
      check: 'iss',
      actual: issuer,
    });
  }
  if (options.issuer !== undefined && issuer !== options.issuer) {
    throw new TokenError('TOKEN_ISSUER_MISMATCH', `identity token issuer is "${issuer}", expected "${options.issuer}"`, {
      check: 'iss',
      expected: options.issuer,
      actual: issuer,
    });
  }

  const auds =
    typeof claims.aud === 'string'
      ? [claims.aud]
      : Array.isArray(claims.aud)
        ? claims.aud.filter((a): a is string => typeof a === 'string')
        : [];
  if (!auds.includes(audience)) {
    const actual = auds.length ? auds.map((a) => `"${a}"`).join(', ') : 'none';
    throw new TokenError('TOKEN_AUDIENCE_MISMATCH', `identity token audience is ${actual}, expected "${audience}"`, {
      check: 'aud',
      expected: audience,
      actual: auds,
    });
  }

  if (typeof claims.exp !== 'number')
    throw new TokenError('TOKEN_CLAIM_MISSING', 'identity token has no "exp" (expiry) claim', { check: 'exp' });
  const minValidity = options.minValiditySeconds ?? DEFAULT_MIN_VALIDITY_SECONDS;
  if (claims.exp <= now) {
    throw new TokenError('TOKEN_EXPIRED', `identity token expired at ${isoSeconds(claims.exp)} (${now - claims.exp} s ago)`, {
      check: 'exp',
      expected: `after ${isoSeconds(now)}`,
      actual: isoSeconds(claims.exp),
    });
  }
  if (claims.exp < now + minValidity) {
    throw new TokenError(
      'TOKEN_EXPIRED',
      `identity token expires at ${isoSeconds(claims.exp)}, in ${claims.exp - now} s: too soon to request a certificate`,
      { check: 'exp', actual: isoSeconds(claims.exp) },
    );
  }
  if (typeof claims.nbf === 'number' && claims.nbf > now + CLOCK_SKEW_SECONDS) {
    throw new TokenError('TOKEN_NOT_YET_VALID', `identity token is not valid before ${isoSeconds(claims.nbf)}`, {
      check: 'nbf',
      actual: isoSeconds(claims.nbf),
    });
  }

  if (typeof claims.sub !== 'string' || !claims.sub)
    throw new TokenError('TOKEN_CLAIM_MISSING', 'identity token has no "sub" (subject) claim', { check: 'sub' });
  let email: string | undefined;
  if (claims.email !== undefined) {
    if (typeof claims.email !== 'string' || !claims.email)
      throw new TokenError('TOKEN_CLAIM_INVALID', 'identity token "email" claim is not a string', { check: 'email' });
    if (claims.email_verified !== true && claims.email_verified !== 'true') {
      throw new TokenError(
        'TOKEN_EMAIL_NOT_VERIFIED',
        `identity token email "${claims.email}" is not verified (email_verified is ${JSON.stringify(claims.email_verified) ?? 'absent'})`,
        { check: 'email_verified', expected: true, actual: claims.email_verified },
      );
    }
    email = claims.email;
  }
  return {
    jwt: jwt.trim(),
    claims,
    issuer,
    subject: claims.sub,
    email,
    expiresAt: new Date(claims.exp * 1000),
    challenge: email ?? claims.sub,
  };
}

function isIssuerUrl(iss: string): boolean {
  try {
    const u = new URL(iss);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

function isoSeconds(unix: number): string {
  return new Date(unix * 1000).toISOString().replace('.000Z', 'Z');
}
