import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

export interface TestIssuer {
  url: string;
  keys: { es256: KeyObject; rs256: KeyObject };
  requests: { discovery: number; jwks: number };
  /** What discovery reports; tests may change it. */
  discovery: Record<string, unknown>;
  jwks: { keys: Record<string, unknown>[] };
  sign(claims: Record<string, unknown>, header?: { alg?: string; kid?: string; key?: KeyObject }): Promise<string>;
  close(): Promise<void>;
}

/** A real OIDC issuer on loopback: discovery, JWKS and tokens signed with real keys. */
export async function startTestIssuer(): Promise<TestIssuer> {
  const es256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rs256 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const requests = { discovery: 0, jwks: 0 };
  const issuer: Partial<TestIssuer> = { requests };
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      requests.discovery++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.discovery));
    } else if (req.url === '/jwks') {
      requests.jwks++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer.url = url;
  issuer.keys = { es256: es256.privateKey, rs256: rs256.privateKey };
  issuer.discovery = {
    issuer: url,
    jwks_uri: `${url}/jwks`,
    id_token_signing_alg_values_supported: ['RS256', 'ES256'],
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
  };
  issuer.jwks = {
    keys: [
      { ...es256.publicKey.export({ format: 'jwk' }), kid: 'ec-1', use: 'sig', alg: 'ES256' },
      { ...rs256.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig', alg: 'RS256' },
    ],
  };
  issuer.sign = async (claims, header = {}) => {
    const alg = header.alg ?? 'ES256';
    const key = header.key ?? (alg === 'RS256' ? rs256.privateKey : es256.privateKey);
    return new SignJWT(claims).setProtectedHeader({ alg, kid: header.kid ?? (alg === 'RS256' ? 'rsa-1' : 'ec-1'), typ: 'JWT' }).sign(key);
  };
  issuer.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return issuer as TestIssuer;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Base64url JSON segment, for hand-made (malformed or unsigned) tokens. */
export function segment(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

export const GITHUB_CLAIMS = {
  sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
  job_workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main',
  job_workflow_sha: '1111111111111111111111111111111111111111',
  sha: '2222222222222222222222222222222222222222',
  event_name: 'push',
  repository: 'octo-org/octo-repo',
  workflow: 'Release',
  ref: 'refs/heads/main',
  runner_environment: 'github-hosted',
  repository_id: '123456',
  repository_owner: 'octo-org',
  repository_owner_id: '7890',
  repository_visibility: 'public',
  workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main',
  workflow_sha: '3333333333333333333333333333333333333333',
  run_id: '42',
  run_attempt: '1',
};
