import { callService, jsonBody, serviceName, type CallPolicy, DEFAULT_CALL_POLICY } from './http.js';
import { ServiceError, IdentityError } from './errors.js';
import { SIGSTORE_AUDIENCE } from './token.js';
import { browserLogin, clientCredentialsLogin, deviceLogin } from './oauth.js';
import { ambientEnabled, buildkiteToken, filesystemToken, googleToken, spiffeToken } from './ambient.js';

/**
 * Where an identity token can come from; `--oidc-provider` forces one. The ambient ones
 * carry cosign's provider names; `client-credentials` is cosign's `--fulcio-auth-flow client_credentials`.
 */
export type TokenSource =
  | 'identity-token'
  | 'env'
  | 'github-actions'
  | 'buildkite-agent'
  | 'filesystem'
  | 'spiffe'
  | 'google'
  | 'client-credentials'
  | 'browser'
  | 'device';
/** The order sources are tried in when none is forced (cosign's: GitHub first, then the other ambient providers). */
export const TOKEN_SOURCES: readonly TokenSource[] = [
  'identity-token',
  'env',
  'github-actions',
  'buildkite-agent',
  'filesystem',
  'google',
  'spiffe',
  'client-credentials',
  'browser',
  'device',
];
/** The sources cosign calls ambient providers (`--oidc-disable-ambient-providers` skips them). */
const AMBIENT: ReadonlySet<TokenSource> = new Set(['env', 'github-actions', 'buildkite-agent', 'filesystem', 'google', 'spiffe']);

export const TOKEN_ENV = 'SIGSTORE_ID_TOKEN';

export interface TokenSourceOptions {
  /** Forces one source; otherwise the first available in TOKEN_SOURCES order. */
  source?: TokenSource | undefined;
  /** The token itself (`--identity-token`; the CLI reads it from a file when given a path). */
  identityToken?: string | undefined;
  /** The environment the `env` and `github-actions` sources read (the CLI passes its own). */
  env: Readonly<Record<string, string | undefined>>;
  /** Issuer for interactive logins (`--oidc-issuer`); the signing config's OIDC URL otherwise. */
  oidcIssuer?: string | undefined;
  oidcClientId?: string | undefined;
  oidcClientSecret?: string | undefined;
  oidcRedirectUrl?: string | undefined;
  /** Opens the browser login's URL (`--browser-command`, `$BROWSER` in the CLI); none: the URL is only printed. */
  openUrl?: ((url: string) => void) | undefined;
  /** Interactive flows run by default only when a person is there (stdin is a terminal). */
  interactive: boolean;
  /** Whether a graphical browser can open here; decides browser vs device flow when not forced. */
  canOpenBrowser: boolean;
  log: (line: string) => void;
  audience?: string;
  policy?: CallPolicy;
  interactiveTimeoutMs?: number;
  /** cosign's `--oidc-disable-ambient-providers`: only the flag and interactive logins. */
  disableAmbient?: boolean;
}

/** Returns the raw JWT from the forced source, or the first source that has one. */
export async function obtainIdentityToken(o: TokenSourceOptions): Promise<{ jwt: string; source: TokenSource }> {
  const order: TokenSource[] = o.source ? [o.source] : TOKEN_SOURCES.filter((s) => !(o.disableAmbient && AMBIENT.has(s)));
  const audience = o.audience ?? SIGSTORE_AUDIENCE;
  for (const source of order) {
    const forced = o.source !== undefined;
    switch (source) {
      case 'buildkite-agent':
      case 'filesystem':
      case 'spiffe':
      case 'google':
        // Forced, a source says itself what it misses; unforced, it is tried only where cosign would.
        if (!forced && !ambientEnabled[source](o.env)) break;
        return { jwt: await ambientToken(source, o.env, audience, o.policy), source };
      case 'client-credentials': {
        if (!forced) break; // never chosen automatically, as in cosign
        if (!o.oidcIssuer)
          throw new IdentityError(
            'TOKEN_MISSING',
            'the client_credentials flow needs an identity provider: pass --oidc-issuer or use a signing config with oidcUrls',
          );
        const jwt = await clientCredentialsLogin({
          issuer: o.oidcIssuer,
          clientId: o.oidcClientId ?? SIGSTORE_AUDIENCE,
          clientSecret: o.oidcClientSecret,
          redirectUrl: o.oidcRedirectUrl,
          policy: o.policy,
        });
        return { jwt, source };
      }
      case 'identity-token':
        if (o.identityToken !== undefined) return { jwt: o.identityToken, source };
        if (forced) throw new IdentityError('TOKEN_MISSING', '--oidc-provider identity-token needs --identity-token TOKEN_OR_FILE');
        break;
      case 'env': {
        const v = o.env[TOKEN_ENV];
        if (v !== undefined && v.trim() !== '') return { jwt: v.trim(), source };
        if (forced) throw new IdentityError('TOKEN_MISSING', `${TOKEN_ENV} is not set`);
        break;
      }
      case 'github-actions':
        if (o.env.ACTIONS_ID_TOKEN_REQUEST_URL && o.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
          return {
            jwt: await githubActionsToken(o.env.ACTIONS_ID_TOKEN_REQUEST_URL, o.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN, audience, o.policy),
            source,
          };
        }
        if (forced)
          throw new IdentityError(
            'TOKEN_MISSING',
            'not in GitHub Actions with id-token permission: ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set',
          );
        break;
      case 'browser':
      case 'device': {
        if (!forced && !o.interactive) break;
        // Without a browser, the automatic choice is the device flow.
        if (!forced && source === 'browser' && !o.canOpenBrowser) break;
        if (!o.oidcIssuer)
          throw new IdentityError(
            'TOKEN_MISSING',
            `an interactive login needs an identity provider: pass --oidc-issuer or use a signing config with oidcUrls`,
          );
        const common = {
          issuer: o.oidcIssuer,
          clientId: o.oidcClientId ?? SIGSTORE_AUDIENCE,
          clientSecret: o.oidcClientSecret,
          log: o.log,
          policy: o.policy,
          timeoutMs: o.interactiveTimeoutMs,
        };
        const jwt =
          source === 'browser'
            ? await browserLogin({ ...common, redirectUrl: o.oidcRedirectUrl, openUrl: o.openUrl })
            : await deviceLogin(common);
        return { jwt, source };
      }
    }
  }
  throw new IdentityError(
    'TOKEN_MISSING',
    `no identity token: pass --identity-token, set ${TOKEN_ENV}, run where an ambient provider is (GitHub Actions with id-token permission, Buildkite, a SPIFFE agent, Google, the file /var/run/sigstore/cosign/oidc-token), or log in with --oidc-provider browser|device` +
      (o.interactive ? '' : ' (interactive login is not started automatically when stdin is not a terminal)'),
  );
}

function ambientToken(
  source: 'buildkite-agent' | 'filesystem' | 'spiffe' | 'google',
  env: TokenSourceOptions['env'],
  audience: string,
  policy: CallPolicy | undefined,
): Promise<string> {
  switch (source) {
    case 'filesystem':
      return Promise.resolve(filesystemToken(env));
    case 'buildkite-agent':
      return buildkiteToken(env, audience, policy);
    case 'google':
      return googleToken(env, audience, policy);
    case 'spiffe':
      return spiffeToken(env, audience, policy?.timeoutMs);
  }
}

/** GitHub Actions' ambient OIDC token, requested for the `sigstore` audience. */
export async function githubActionsToken(
  requestUrl: string,
  requestToken: string,
  audience: string,
  policy: CallPolicy = DEFAULT_CALL_POLICY,
): Promise<string> {
  const service = serviceName('GitHub Actions token service', new URL(requestUrl).origin);
  const url = new URL(requestUrl);
  url.searchParams.set('audience', audience);
  const res = await callService(
    { service, url: url.toString(), headers: { Authorization: `bearer ${requestToken}`, Accept: 'application/json' } },
    policy,
  );
  const body = jsonBody(res, service) as { value?: unknown };
  if (typeof body?.value !== 'string' || !body.value)
    throw new ServiceError('SERVICE_BAD_RESPONSE', service, 'answer has no "value" token');
  return body.value;
}
