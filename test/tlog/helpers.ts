import { softwareSigner } from '../../src/core/signer.js';
import { generateKeyPairSync, createHash, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/services/http/index.js';
import { LogEngine } from '../../src/log/index.js';
import { createTestDatabase } from '../support/postgres.js';
import { RekorV1Log, RekorV2Log, rekorV1Service, rekorV2Service, type DigestVerifier } from '../../src/services/tlog/index.js';

export const V1_URL = 'https://rekor.keyless.test';
export const V2_URL = 'https://log2025.keyless.test';

export interface LogServer {
  app: FastifyInstance;
  url: string;
  engine: LogEngine;
  v1: RekorV1Log;
  v2: RekorV2Log;
  dir: string;
  v1Keys: { privateKey: KeyObject; publicKey: KeyObject };
  v2Keys: { privateKey: KeyObject; publicKey: KeyObject };
  close(): Promise<void>;
}

/** A deep copy of a bundle (JSON) with its first tlog entry changed by `f`. */
export function tamperTlogEntry(bundle: Record<string, unknown>, f: (tle: any) => void): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(bundle));
  f(copy.verificationMaterial.tlogEntries[0]);
  return copy;
}

/** Every log test over HTTP runs on both storage drivers (PostgreSQL: a fresh database per server, see test/support/postgres.ts). */
export const LOG_DRIVERS = ['sqlite', 'postgres'] as const;
export type LogDriver = (typeof LOG_DRIVERS)[number];

export async function startLogServer(
  opts: {
    dir?: string;
    v1Keys?: LogServer['v1Keys'];
    v2Keys?: LogServer['v2Keys'];
    verifier?: DigestVerifier;
    bodyLimit?: number;
    driver?: LogDriver;
  } = {},
): Promise<LogServer> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'keyless-tlog-'));
  const v1Keys = opts.v1Keys ?? generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const v2Keys = opts.v2Keys ?? generateKeyPairSync('ed25519');
  const db = opts.driver === 'postgres' ? await createTestDatabase('tlog') : undefined;
  const engine = db ? await LogEngine.openPostgres({ connectionString: db.url }) : LogEngine.openSqlite(dir);
  const v1 = await RekorV1Log.open({ engine, baseUrl: V1_URL, signer: softwareSigner(v1Keys.privateKey) });
  const v2 = await RekorV2Log.open({ engine, baseUrl: V2_URL, signer: softwareSigner(v2Keys.privateKey) });
  const app = createHttpApp({ bodyLimit: opts.bodyLimit });
  await app.register(rekorV1Service({ log: v1, verifier: opts.verifier }));
  await app.register(rekorV2Service({ log: v2, verifier: opts.verifier }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    url,
    engine,
    v1,
    v2,
    dir,
    v1Keys,
    v2Keys,
    async close() {
      await app.close();
      await engine.close();
      await db?.drop();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const signerKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const signerPem = signerKeys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
export const signerDer = signerKeys.publicKey.export({ format: 'der', type: 'spki' });

export function signArtifact(artifact: Buffer, key: KeyObject = signerKeys.privateKey): { digest: Buffer; signature: Buffer } {
  return { digest: createHash('sha256').update(artifact).digest(), signature: sign('sha256', artifact, key) };
}

export interface Signed {
  digest: Buffer;
  signature: Buffer;
}

export function hashedRekordV1({ digest, signature }: Signed, pem = signerPem): Record<string, unknown> {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
      signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(pem).toString('base64') } },
    },
  };
}

export function hashedRekordV2({ digest, signature }: Signed, der = signerDer): Record<string, unknown> {
  return {
    hashedRekordRequestV002: {
      digest: digest.toString('base64'),
      signature: {
        content: signature.toString('base64'),
        verifier: { publicKey: { rawBytes: der.toString('base64') }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
      },
    },
  };
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

export async function get(url: string): Promise<{ status: number; json: any; text: string; headers: Headers; bytes: Buffer }> {
  const res = await fetch(url);
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers, bytes };
}

/** A TrustedRoot (protobuf JSON) listing both logs. */
export function trustedRootJson(s: LogServer): Record<string, unknown> {
  const start = '2020-01-01T00:00:00Z';
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [s.v1.info, s.v2.info].map((i) => ({
      baseUrl: i.baseUrl,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: i.publicKeyDer.toString('base64'), keyDetails: i.keyDetails, validFor: { start } },
      logId: { keyId: i.logId.toString('base64') },
    })),
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  };
}

/** A v0.3 message-signature bundle with a managed public key. */
export function keyBundle(tle: Record<string, unknown>, { digest, signature }: Signed, hint = 'signer'): Record<string, unknown> {
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint }, tlogEntries: [tle], timestampVerificationData: { rfc3161Timestamps: [] } },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
      signature: signature.toString('base64'),
    },
  };
}
