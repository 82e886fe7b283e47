import { softwareSigner } from '../../src/core/signer.js';
import { generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/services/http/index.js';
import { idpService, devIdpIssuerConfigs, signIdToken, devSigner, type DevSigner } from '../../src/services/idp/index.js';
import { caService, inProcessCtSubmitter } from '../../src/services/ca/index.js';
import { CtLog, ctlogService } from '../../src/services/ctlog/index.js';
import { createCaChain, type CaChain } from '../../src/x509/build/index.js';
import { der } from '../../src/x509/index.js';
import type { IssuerConfig, JsonWebKeySet } from '../../src/oidc/index.js';

export interface Stack {
  app: FastifyInstance;
  base: string;
  issuer: string;
  chain: CaChain;
  ctLog: CtLog;
  signer: DevSigner;
  issuers: IssuerConfig[];
  close(): Promise<void>;
}

/** IdP (under /oidc), CT log (under /ct-log) and CA in one loopback server, as SERVER composes them. */
export async function startStack(
  options: { viaHttpDiscovery?: boolean; extraIssuers?: (jwks: JsonWebKeySet) => IssuerConfig[] } = {},
): Promise<Stack> {
  const idpKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const chain = createCaChain();
  const ctLog = new CtLog({
    signer: softwareSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
    roots: [chain.root.certificate],
  });
  const app = createHttpApp();
  let base = '';
  const issuerUrl = () => `${base}/oidc`;
  let issuers: IssuerConfig[] = [];
  await app.register(idpService({ issuerUrl, signingKey: softwareSigner(idpKey) }), { prefix: '/oidc' });
  await app.register(ctlogService({ log: ctLog }), { prefix: '/ct-log' });
  await app.register(
    caService({
      issuers: () => issuers,
      issuer: chain.intermediate,
      parents: [chain.root.certificate],
      submitToCtLog: inProcessCtSubmitter(ctLog),
    }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  issuers = await devIdpIssuerConfigs(issuerUrl(), softwareSigner(idpKey), { staticKeys: !options.viaHttpDiscovery });
  const signer = await devSigner(softwareSigner(idpKey));
  if (options.extraIssuers) issuers.push(...options.extraIssuers({ keys: [signer.jwk as JsonWebKeySet['keys'][number]] }));
  return { app, base, issuer: issuerUrl(), chain, ctLog, signer, issuers, close: () => app.close() };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function emailClaims(stack: Stack, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const t = nowSeconds();
  return {
    iss: stack.issuer,
    sub: 'dev@example.com',
    aud: 'sigstore',
    iat: t,
    exp: t + 600,
    email: 'dev@example.com',
    email_verified: true,
    ...extra,
  };
}

export function token(stack: Stack, claims: Record<string, unknown>): Promise<string> {
  return signIdToken(stack.signer, claims);
}

export function ecKey(curve = 'P-256'): { privateKey: KeyObject; publicKey: KeyObject; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return { privateKey, publicKey, pem: publicKey.export({ format: 'pem', type: 'spki' }) as string };
}

/** The request sigstore-js sends: token in the body, PEM key, PoP over the challenge value. */
export function publicKeyRequest(
  jwt: string,
  key: { privateKey: KeyObject; pem: string },
  challenge: string,
  hash: string | null = 'sha256',
): Record<string, unknown> {
  return {
    credentials: { oidcIdentityToken: jwt },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: key.pem },
      proofOfPossession: nodeSign(hash, Buffer.from(challenge), key.privateKey).toString('base64'),
    },
  };
}

/** A PKCS#10 CSR with an empty subject, signed ecdsa-with-SHA256 by `signingKey` (normally the same key). */
export function csrPem(publicKey: KeyObject, signingKey: KeyObject): string {
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const info = der.sequence(der.integer(0), der.sequence(), spki, der.context(0, Buffer.alloc(0)));
  const signature = nodeSign('sha256', info, signingKey);
  const csr = der.sequence(info, der.sequence(der.oid('1.2.840.10045.4.3.2')), der.bitString(signature));
  return `-----BEGIN CERTIFICATE REQUEST-----\n${csr.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE REQUEST-----\n`;
}

export async function post(
  stack: Stack,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${stack.base}/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}
