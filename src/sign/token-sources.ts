import { readFileSync, statSync } from 'node:fs';
import { callService, jsonBody, serviceName, type CallPolicy, DEFAULT_CALL_POLICY } from './http.js';
import { ServiceError, IdentityError } from './errors.js';
import { SIGSTORE_AUDIENCE } from './token.js';
import { browserLogin, deviceLogin } from './oauth.js';

/** Where an identity token can come from; `--oidc-provider` forces one. */
export type TokenSource = 'identity-token' | 'env' | 'github-actions' | 'browser' | 'device';
export const TOKEN_SOURCES: readonly TokenSource[] = ['identity-token', 'env', 'github-actions', 'browser', 'device'];

export const TOKEN_ENV = 'SIGSTORE_ID_TOKEN';

export interface TokenSourceOptions {
  /** Forces one source; otherwise the first available in TOKEN_SOURCES order. */
  source?: TokenSource | undefined;
  /** `--identity-token`: the token itself, or a path to a file holding it. */
  identityToken?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Issuer for interactive logins (`--oidc-issuer`); the signing config's OIDC URL otherwise. */
  oidcIssuer?: string | undefined;
  oidcClientId?: string | undefined;
  oidcClientSecret?: string | undefined;
  oidcRedirectUrl?: string | undefined;
  /** Command that opens a URL (`--browser-command`, `$BROWSER`); none: the URL is only printed. */
  browserCommand?: string | undefined;
  /** Interactive flows run by default only when a person is there (stdin is a terminal). */
  interactive: boolean;
  /** Whether a graphical browser can open here; decides browser vs device flow when not forced. */
  canOpenBrowser: boolean;
  log: (line: string) => void;
  audience?: string;
  policy?: CallPolicy;
  interactiveTimeoutMs?: number;
}

/** Returns the raw JWT from the forced source, or the first source that has one. */
export async function obtainIdentityToken(o: TokenSourceOptions): Promise<{ jwt: string; source: TokenSource }> {
  const env = o.env ?? process.env;
  const order: TokenSource[] = o.source ? [o.source] : [...TOKEN_SOURCES];
  for (const source of order) {
    const forced = o.source !== undefined;
    switch (source) {
      case 'identity-token':
        if (o.identityToken !== undefined) return { jwt: readTokenArgument(o.identityToken), source };
        if (forced) throw new IdentityError('TOKEN_MISSING', '--oidc-provider identity-token needs --identity-token TOKEN_OR_FILE');
        break;
      case 'env': {
        const v = env[TOKEN_ENV];
        if (v !== undefined && v.trim() !== '') return { jwt: v.trim(), source };
        if (forced) throw new IdentityError('TOKEN_MISSING', `${TOKEN_ENV} is not set`);
        break;
      }
      case 'github-actions':
        if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
          return { jwt: await githubActionsToken(env.ACTIONS_ID_TOKEN_REQUEST_URL, env.ACTIONS_ID_TOKEN_REQUEST_TOKEN, o.audience ?? SIGSTORE_AUDIENCE, o.policy), source };
        }
        if (forced) throw new IdentityError('TOKEN_MISSING', 'not in GitHub Actions with id-token permission: ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set');
        break;
      case 'browser':
      case 'device': {
        if (!forced && !o.interactive) break;
        // Without a browser, the automatic choice is the device flow.
        if (!forced && source === 'browser' && !o.canOpenBrowser) break;
        if (!o.oidcIssuer) throw new IdentityError('TOKEN_MISSING', `an interactive login needs an identity provider: pass --oidc-issuer or use a signing config with oidcUrls`);
        const common = { issuer: o.oidcIssuer, clientId: o.oidcClientId ?? SIGSTORE_AUDIENCE, clientSecret: o.oidcClientSecret, log: o.log, policy: o.policy, timeoutMs: o.interactiveTimeoutMs };
        const jwt = source === 'browser'
          ? await browserLogin({ ...common, redirectUrl: o.oidcRedirectUrl, browserCommand: o.browserCommand })
          : await deviceLogin(common);
        return { jwt, source };
      }
    }
  }
  throw new IdentityError('TOKEN_MISSING',
    `no identity token: pass --identity-token, set ${TOKEN_ENV}, run in GitHub Actions with id-token permission, or log in with --oidc-provider browser|device`
    + (o.interactive ? '' : ' (interactive login is not started automatically when stdin is not a terminal)'));
}

/** `--identity-token` holds either the JWT itself or the path of a file that does. */
export function readTokenArgument(value: string): string {
  const v = value.trim();
  let isFile = false;
  if (v.length < 4096) {
    try {
      isFile = statSync(v).isFile();
    } catch {
      isFile = false;
    }
  }
  if (isFile) {
    try {
      return readFileSync(v, 'utf8').trim();
    } catch (e) {
      throw new IdentityError('FILE_UNREADABLE', `cannot read the identity token file ${v} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(v)) return v;
  throw new IdentityError('TOKEN_MALFORMED', '--identity-token is neither a JWT nor a readable file', { check: 'identity-token' });
}

/** GitHub Actions' ambient OIDC token, requested for the `sigstore` audience. */
export async function githubActionsToken(requestUrl: string, requestToken: string, audience: string, policy: CallPolicy = DEFAULT_CALL_POLICY): Promise<string> {
  const service = serviceName('GitHub Actions token service', new URL(requestUrl).origin);
  const url = new URL(requestUrl);
  url.searchParams.set('audience', audience);
  const res = await callService({ service, url: url.toString(), headers: { Authorization: `bearer ${requestToken}`, Accept: 'application/json' } }, policy);
  const body = jsonBody(res, service) as { value?: unknown };
  if (typeof body?.value !== 'string' || !body.value) throw new ServiceError('SERVICE_BAD_RESPONSE', service, 'answer has no "value" token');
  return body.value;
}
