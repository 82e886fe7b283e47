import { KeylessError } from '../../core/errors.js';
import { readResponseBody } from '../../core/index.js';

export interface DevTokenRequest {
  /** The server's base URL (`http://127.0.0.1:3000`) or the issuer URL itself (`…/oidc`). */
  url: string;
  email?: string;
  ttlSeconds?: number;
  audience?: string;
  /** GitHub-Actions-like claims (`repository`, `ref`, `sha`, `event_name`, …); turns the token into a workflow token. */
  github?: Record<string, string>;
  timeoutMs?: number;
}

/** The development IdP's issuer URL for a server base URL. */
export function devIssuerUrl(url: string): string {
  const base = url.replace(/\/+$/, '');
  return base.endsWith('/oidc') ? base : `${base}/oidc`;
}

/** A token answer is a few kilobytes. */
const MAX_TOKEN_ANSWER_BYTES = 256 * 1024;

/** Asks a Keyless development IdP for an ID token (client-credentials grant). */
export async function requestDevToken(req: DevTokenRequest): Promise<string> {
  const tokenUrl = `${devIssuerUrl(req.url)}/token`;
  const body: Record<string, unknown> = { grant_type: 'client_credentials' };
  if (req.email !== undefined) body.email = req.email;
  if (req.ttlSeconds !== undefined) body.ttl = req.ttlSeconds;
  if (req.audience !== undefined) body.audience = req.audience;
  if (req.github !== undefined) body.github = req.github;
  let response: Response;
  try {
    response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(req.timeoutMs ?? 10_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new KeylessError(
      'DEV_IDP_UNREACHABLE',
      `cannot reach the development identity provider at ${tokenUrl}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
      { check: 'dev-idp', cause: e },
    );
  }
  let text: string;
  try {
    text = (
      await readResponseBody(response, MAX_TOKEN_ANSWER_BYTES, `the development identity provider's answer from ${tokenUrl}`)
    ).toString('utf8');
  } catch (e) {
    throw new KeylessError(
      'DEV_IDP_UNREACHABLE',
      `cannot read the answer of the development identity provider at ${tokenUrl}: ${(e as Error).message}`,
      { check: 'dev-idp', cause: e },
    );
  }
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  if (response.status !== 200) {
    const detail = json && typeof json.message === 'string' ? `${String(json.code)}: ${json.message}` : `HTTP ${response.status}`;
    throw new KeylessError('DEV_IDP_REFUSED', `the development identity provider at ${tokenUrl} refused the request (${detail})`, {
      check: 'dev-idp',
      actual: response.status,
    });
  }
  const token = json?.id_token;
  if (typeof token !== 'string' || token.split('.').length !== 3) {
    throw new KeylessError('DEV_IDP_BAD_RESPONSE', `the answer from ${tokenUrl} holds no id_token`, { check: 'dev-idp' });
  }
  return token;
}
