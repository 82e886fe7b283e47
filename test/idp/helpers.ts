import { softwareSigner } from '../../src/core/signer.js';
import { generateKeyPairSync, createHash, randomBytes, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/services/http/index.js';
import { idpService } from '../../src/services/idp/index.js';

export interface RunningIdp {
  app: FastifyInstance;
  base: string;
  issuer: string;
  key: KeyObject;
  close(): Promise<void>;
}

/** The dev IdP alone on loopback under /oidc, as SERVER mounts it. */
export async function startIdp(
  register?: (app: FastifyInstance, issuer: () => string, key: KeyObject) => Promise<void>,
): Promise<RunningIdp> {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const app = createHttpApp();
  let base = '';
  const issuer = () => `${base}/oidc`;
  await app.register(idpService({ issuerUrl: issuer, signingKey: softwareSigner(key) }), { prefix: '/oidc' });
  if (register) await register(app, issuer, key);
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { app, base, issuer: issuer(), key, close: () => app.close() };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export async function form(url: string, params: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', body: new URLSearchParams(params), redirect: 'manual' });
}
