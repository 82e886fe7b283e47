// The registry auth handshake (distribution's token spec): a 401 carries
// `WWW-Authenticate: Basic realm=…` or `Bearer realm=…,service=…,scope=…`; Bearer tokens
// are fetched from the realm and cached per scope until they expire.
import type { Credentials } from './credentials.js';

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** Parses the first Basic or Bearer challenge of a `WWW-Authenticate` header. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(Basic|Bearer)\b\s*(.*)$/is.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[2] as string).matchAll(/([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[(p[1] as string).toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: (m[1] as string).toLowerCase() as Challenge['scheme'], params };
}

export function basicHeader(c: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

/** What the token endpoint's answer must carry (`token` or `access_token`). */
export function tokenFromAnswer(body: unknown): { token: string; expiresInS: number } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { token?: unknown; access_token?: unknown; expires_in?: unknown };
  const token =
    typeof b.token === 'string' && b.token !== ''
      ? b.token
      : typeof b.access_token === 'string' && b.access_token !== ''
        ? b.access_token
        : undefined;
  if (!token) return undefined;
  // The spec's default lifetime is 60 s; a token is reused a little less long than it lives.
  const expiresInS = typeof b.expires_in === 'number' && b.expires_in > 0 ? b.expires_in : 60;
  return { token, expiresInS };
}

/** The token request for a scope: GET with Basic credentials, or POST for refresh tokens. */
export function tokenRequest(
  challenge: Challenge,
  scopes: string[],
  credentials: Credentials | undefined,
): { url: URL; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string } {
  const url = new URL(challenge.params.realm as string);
  const service = challenge.params.service;
  if (credentials?.kind === 'identity-token') {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.token, client_id: 'keyless' });
    if (service) form.set('service', service);
    for (const s of scopes) form.append('scope', s);
    return { url, method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() };
  }
  if (service) url.searchParams.set('service', service);
  for (const s of scopes) url.searchParams.append('scope', s);
  const headers: Record<string, string> = {};
  if (credentials?.kind === 'basic') headers.Authorization = basicHeader(credentials);
  return { url, method: 'GET', headers };
}
