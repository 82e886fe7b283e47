import { KeyObject, constants, verify as nodeVerify } from 'node:crypto';
import { importJWK, type CryptoKey } from 'jose';
import { decodeToken, type DecodedToken } from './decode.js';
import { TokenError } from './errors.js';
import { KeylessError, readResponseBody } from '../core/index.js';
import { identityFromClaims } from './identity.js';
import { audienceOf, findIssuerConfig } from './issuers.js';
import type { Identity, IssuerConfig, JsonWebKeySet, PublicJwk, TokenClaims, TokenHeader } from './types.js';

/** JWS algorithms any issuer may use; `none` and HMAC are never accepted. */
export const ALLOWED_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
/** go-oidc's rule when discovery lists no algorithms. */
const DISCOVERY_DEFAULT_ALGORITHMS = ['RS256'];
export const DEFAULT_LEEWAY_SECONDS = 60;
const DEFAULT_CACHE_TTL_MS = 60 * 60 * 1000;
const MIN_REFRESH_INTERVAL_MS = 10_000;
const FAILURE_CACHE_MS = 5_000;
const MAX_DOCUMENT_BYTES = 1024 * 1024;
const MAX_CACHED_ISSUERS = 1000;

export interface TokenVerifierOptions {
  /** How long discovery documents and key sets are reused (default 1 hour). */
  cacheTtlMs?: number;
  /** Timeout of each discovery/JWKS request (default 5 s). */
  fetchTimeoutMs?: number;
  /** Clock skew tolerated on exp and nbf (default 60 s). */
  leewaySeconds?: number;
  fetch?: typeof fetch;
}

export interface VerifyOptions {
  /** The verification time (default: now). */
  now?: Date | number;
}

export interface VerifiedToken {
  header: TokenHeader;
  claims: TokenClaims;
  issuerConfig: IssuerConfig;
  /** The SAN, challenge value, issuer and extensions the certificate carries. */
  identity: Identity;
}

interface IssuerKeys {
  algorithms: readonly string[];
  keys: PublicJwk[];
  fetchedAt: number;
  /** undefined for a static key set (nothing to refresh). */
  jwksUri: string | undefined;
  imported: Map<PublicJwk, Map<string, Promise<KeyObject | undefined>>>;
}

/**
 * Verifies Sigstore identity tokens against a list of issuers with cached discovery and
 * key sets. One instance per service; concurrent requests share in-flight fetches.
 */
export class TokenVerifier {
  readonly issuers: readonly IssuerConfig[];
  private readonly ttl: number;
  private readonly timeout: number;
  private readonly leeway: number;
  private readonly fetchImpl: typeof fetch;
  private readonly cache = new Map<string, { at: number; value: Promise<IssuerKeys> }>();
  private readonly staticKeys = new WeakMap<IssuerConfig, IssuerKeys>();

  constructor(issuers: readonly IssuerConfig[], options: TokenVerifierOptions = {}) {
    this.issuers = issuers;
    this.ttl = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    this.timeout = options.fetchTimeoutMs ?? 5_000;
    this.leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async verify(jwt: unknown, options: VerifyOptions = {}): Promise<VerifiedToken> {
    const token = decodeToken(jwt);
    const { header, claims } = token;
    const alg = header.alg;
    if (typeof alg !== 'string') throw new TokenError('TOKEN_MALFORMED', 'token header has no "alg"', { check: 'alg' });
    if (alg.toLowerCase() === 'none')
      throw new TokenError('TOKEN_ALG_NONE', 'token is unsigned (alg "none")', { check: 'alg', actual: alg });
    const iss = claims.iss;
    if (typeof iss !== 'string' || iss === '') throw new TokenError('TOKEN_CLAIM_MISSING', 'claim "iss" is missing', { check: 'iss' });
    const config = findIssuerConfig(iss, this.issuers);

    const allowed = config.algorithms ? ALLOWED_ALGORITHMS.filter((a) => config.algorithms!.includes(a)) : ALLOWED_ALGORITHMS;
    if (!allowed.includes(alg)) {
      throw new TokenError('TOKEN_ALG_NOT_ALLOWED', `token algorithm "${alg}" is not allowed (${allowed.join(', ')})`, {
        check: 'alg',
        expected: allowed,
        actual: alg,
      });
    }
    let keys = await this.keysFor(iss, config);
    if (!keys.algorithms.includes(alg)) {
      throw new TokenError(
        'TOKEN_ALG_NOT_ALLOWED',
        `token algorithm "${alg}" is not among the issuer's id_token_signing_alg_values_supported (${keys.algorithms.join(', ')})`,
        {
          check: 'alg',
          expected: keys.algorithms,
          actual: alg,
        },
      );
    }
    const kid = header.kid;
    if (kid !== undefined && typeof kid !== 'string')
      throw new TokenError('TOKEN_MALFORMED', 'token header "kid" is not a string', { check: 'kid' });
    let candidates = selectKeys(keys.keys, kid, alg);
    if (candidates.length === 0 && keys.jwksUri !== undefined && Date.now() - keys.fetchedAt >= MIN_REFRESH_INTERVAL_MS) {
      // The issuer may have rotated its keys: refetch once, rate-limited.
      this.cache.delete(iss);
      keys = await this.keysFor(iss, config);
      candidates = selectKeys(keys.keys, kid, alg);
    }
    if (candidates.length === 0) {
      throw new TokenError(
        'TOKEN_UNKNOWN_KEY',
        kid !== undefined
          ? `token key id "kid" ${JSON.stringify(kid)} is not in the issuer's key set`
          : `the issuer's key set has no key for algorithm ${alg}`,
        {
          check: 'kid',
          actual: kid,
        },
      );
    }
    await this.checkSignature(token, alg, candidates, keys);
    checkClaims(claims, config, options.now, this.leeway);
    return { header, claims, issuerConfig: config, identity: identityFromClaims(claims, config) };
  }

  private async checkSignature(token: DecodedToken, alg: string, candidates: PublicJwk[], keys: IssuerKeys): Promise<void> {
    if (token.header.crit !== undefined || token.header.b64 !== undefined) {
      throw new TokenError('TOKEN_MALFORMED', 'token header uses JWS extensions ("crit"/"b64") that identity tokens never need', {
        check: 'jws',
      });
    }
    const data = Buffer.from(token.signingInput, 'latin1');
    for (const jwk of candidates) {
      const key = await importCached(keys, jwk, alg);
      if (key && verifyJws(alg, key, data, token.signature)) return;
    }
    throw new TokenError('TOKEN_SIGNATURE_INVALID', "token signature does not verify with the issuer's key", { check: 'signature' });
  }

  private keysFor(iss: string, config: IssuerConfig): Promise<IssuerKeys> {
    if (config.jwks) {
      let s = this.staticKeys.get(config);
      if (!s) {
        s = {
          algorithms: config.algorithms ?? ALLOWED_ALGORITHMS,
          keys: validKeys(config.jwks),
          fetchedAt: Date.now(),
          jwksUri: undefined,
          imported: new Map(),
        };
        this.staticKeys.set(config, s);
      }
      return Promise.resolve(s);
    }
    const now = Date.now();
    const hit = this.cache.get(iss);
    if (hit && now - hit.at < this.ttl) return hit.value;
    const value = this.discover(iss);
    const entry = { at: now, value };
    // Wildcard issuers can name many hosts: keep the cache bounded (oldest entry first out).
    if (this.cache.size >= MAX_CACHED_ISSUERS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(iss, entry);
    // A failure is remembered briefly only, so an issuer that comes back is used again soon.
    value.catch(() => {
      entry.at = Date.now() - this.ttl + FAILURE_CACHE_MS;
    });
    return value;
  }

  private async discover(iss: string): Promise<IssuerKeys> {
    const url = `${iss.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = await this.fetchJson(url, 'discovery document');
    if (doc.issuer !== iss) {
      throw new TokenError(
        'TOKEN_ISSUER_MISMATCH',
        `discovery document at ${url} names issuer ${JSON.stringify(doc.issuer)}, the token's "iss" is ${JSON.stringify(iss)}`,
        {
          check: 'discovery-issuer',
          expected: iss,
          actual: doc.issuer,
        },
      );
    }
    if (typeof doc.jwks_uri !== 'string')
      throw new TokenError('TOKEN_DISCOVERY_FAILED', `discovery document at ${url} has no jwks_uri`, { check: 'discovery' });
    const listed = doc.id_token_signing_alg_values_supported;
    const algorithms =
      Array.isArray(listed) && listed.length > 0 ? listed.filter((a): a is string => typeof a === 'string') : DISCOVERY_DEFAULT_ALGORITHMS;
    const jwks = await this.fetchJson(doc.jwks_uri, 'key set (jwks_uri)');
    return {
      algorithms,
      keys: validKeys(jwks as unknown as JsonWebKeySet),
      fetchedAt: Date.now(),
      jwksUri: doc.jwks_uri,
      imported: new Map(),
    };
  }

  private async fetchJson(url: string, what: string): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeout),
        headers: { accept: 'application/json' },
      });
    } catch (e) {
      if (isTimeout(e))
        throw new TokenError('TOKEN_DISCOVERY_TIMEOUT', `the issuer's ${what} at ${url} did not answer within ${this.timeout} ms`, {
          check: 'discovery',
          cause: e,
        });
      throw new TokenError('TOKEN_DISCOVERY_FAILED', `cannot fetch the issuer's ${what} from ${url}: ${(e as Error).message}`, {
        check: 'discovery',
        cause: e,
      });
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new TokenError('TOKEN_DISCOVERY_FAILED', `the issuer's ${what} at ${url} answered HTTP ${response.status}`, {
        check: 'discovery',
        actual: response.status,
      });
    }
    let text: string;
    try {
      text = (await readResponseBody(response, MAX_DOCUMENT_BYTES, `the issuer's ${what} at ${url}`)).toString('utf8');
    } catch (e) {
      if (isTimeout(e))
        throw new TokenError('TOKEN_DISCOVERY_TIMEOUT', `the issuer's ${what} at ${url} was not received within ${this.timeout} ms`, {
          check: 'discovery',
          cause: e,
        });
      const reason = e instanceof KeylessError ? e.message : `cannot be read: ${(e as Error).message}`;
      throw new TokenError('TOKEN_DISCOVERY_FAILED', e instanceof KeylessError ? reason : `the issuer's ${what} at ${url} ${reason}`, {
        check: 'discovery',
        cause: e,
      });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new TokenError('TOKEN_DISCOVERY_FAILED', `the issuer's ${what} at ${url} is not a JSON document`, { check: 'discovery' });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new TokenError('TOKEN_DISCOVERY_FAILED', `the issuer's ${what} at ${url} is not a JSON object`, { check: 'discovery' });
    }
    return value as Record<string, unknown>;
  }
}

/** The abort of AbortSignal.timeout(), while connecting or while reading the body. */
function isTimeout(e: unknown): boolean {
  return (e as { name?: unknown })?.name === 'TimeoutError';
}

function validKeys(jwks: JsonWebKeySet): PublicJwk[] {
  const keys = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new TokenError('TOKEN_DISCOVERY_FAILED', 'the issuer\'s key set has no "keys" array', { check: 'jwks' });
  return keys.filter(
    (k): k is PublicJwk =>
      typeof k === 'object' && k !== null && typeof (k as PublicJwk).kty === 'string' && (k as PublicJwk).use !== 'enc',
  );
}

const KTY_FOR_ALG: Record<string, string> = { RS: 'RSA', PS: 'RSA', ES: 'EC', Ed: 'OKP' };

function selectKeys(keys: PublicJwk[], kid: string | undefined, alg: string): PublicJwk[] {
  const kty = KTY_FOR_ALG[alg.slice(0, 2)];
  return keys.filter((k) => (kid === undefined || k.kid === kid) && k.kty === kty && (k.alg === undefined || k.alg === alg));
}

/** jose imports and checks the JWK against the algorithm (curve, RSA size); Node verifies with it. */
async function importCached(keys: IssuerKeys, jwk: PublicJwk, alg: string): Promise<KeyObject | undefined> {
  let byAlg = keys.imported.get(jwk);
  if (!byAlg) keys.imported.set(jwk, (byAlg = new Map()));
  let p = byAlg.get(alg);
  if (!p) {
    const { d: _private, ...publicOnly } = jwk as PublicJwk & { d?: unknown };
    p = importJWK(publicOnly as Parameters<typeof importJWK>[0], alg).then(
      (k) => KeyObject.from(k as CryptoKey),
      () => undefined, // a key that does not fit the algorithm is simply not a candidate
    );
    byAlg.set(alg, p);
  }
  return p;
}

const JWS_HASH: Record<string, string | null> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
  EdDSA: null,
};
const ES_SIGNATURE_BYTES: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132 };

/**
 * A JWS signature check with Node's crypto, in the calling thread: several times cheaper
 * than WebCrypto here, and a ~65 µs ES256 check costs less inline than the ~60 µs of
 * extra CPU a hop to the libuv thread pool and back takes (measured, 2 cores).
 */
function verifyJws(alg: string, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const hash = JWS_HASH[alg];
  if (hash === undefined) return false;
  const es = ES_SIGNATURE_BYTES[alg];
  if (es !== undefined && signature.length !== es) return false;
  const input = alg.startsWith('ES')
    ? { key, dsaEncoding: 'ieee-p1363' as const }
    : alg.startsWith('PS')
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
      : key;
  try {
    return nodeVerify(hash, data, input, signature);
  } catch {
    return false;
  }
}

function numericDate(claims: TokenClaims, name: string, required: boolean): number | undefined {
  const v = claims[name];
  if (v === undefined) {
    if (required) throw new TokenError('TOKEN_CLAIM_MISSING', `claim "${name}" is missing`, { check: name });
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new TokenError('TOKEN_CLAIM_INVALID', `claim "${name}" must be a number of seconds, got ${JSON.stringify(v)}`, {
      check: name,
      actual: v,
    });
  return v;
}

/** aud, exp, nbf (with leeway); the signature has been checked before. */
export function checkClaims(
  claims: TokenClaims,
  config: IssuerConfig,
  now: Date | number | undefined,
  leewaySeconds = DEFAULT_LEEWAY_SECONDS,
): void {
  const audience = audienceOf(config);
  const aud = claims.aud;
  const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
  if (auds === undefined) throw new TokenError('TOKEN_CLAIM_MISSING', 'claim "aud" is missing', { check: 'aud', expected: audience });
  if (!auds.includes(audience)) {
    throw new TokenError('TOKEN_AUDIENCE_MISMATCH', `aud ${JSON.stringify(auds)} does not contain ${JSON.stringify(audience)}`, {
      check: 'aud',
      expected: audience,
      actual: aud,
    });
  }
  const t = (now === undefined ? Date.now() : typeof now === 'number' ? now : now.getTime()) / 1000;
  const exp = numericDate(claims, 'exp', true)!;
  if (t > exp + leewaySeconds) {
    throw new TokenError(
      'TOKEN_EXPIRED',
      `token expired at ${new Date(exp * 1000).toISOString()} (exp ${exp}); now is ${new Date(t * 1000).toISOString()}`,
      {
        check: 'exp',
        expected: `>= ${Math.floor(t)}`,
        actual: exp,
      },
    );
  }
  const nbf = numericDate(claims, 'nbf', false);
  if (nbf !== undefined && t + leewaySeconds < nbf) {
    throw new TokenError(
      'TOKEN_NOT_YET_VALID',
      `token is not valid before ${new Date(nbf * 1000).toISOString()} (nbf ${nbf}); now is ${new Date(t * 1000).toISOString()}`,
      {
        check: 'nbf',
        expected: `<= ${Math.floor(t)}`,
        actual: nbf,
      },
    );
  }
  numericDate(claims, 'iat', false);
}

const sharedVerifiers = new WeakMap<readonly IssuerConfig[], TokenVerifier>();

/**
 * Verifies a token against `issuers`. Discovery and key sets are cached per issuers
 * array; services that keep a TokenVerifier of their own get the same behaviour.
 */
export function verifyIdentityToken(
  jwt: unknown,
  issuers: readonly IssuerConfig[],
  options: VerifyOptions & TokenVerifierOptions = {},
): Promise<VerifiedToken> {
  let v = sharedVerifiers.get(issuers);
  if (!v) sharedVerifiers.set(issuers, (v = new TokenVerifier(issuers, options)));
  return v.verify(jwt, options);
}
