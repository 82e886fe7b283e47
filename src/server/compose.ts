import type { FastifyInstance } from 'fastify';
import { KeylessError } from '../core/errors.js';
import type { ServerConfig } from './config.js';
import type { KeyStore } from './keys.js';
import { loadOrCreateCa, loadOrCreateTsa } from './pki.js';
import { writeTrustFiles, type TrustDescription } from './trust-files.js';
import { tsaService } from '../services/tsa/index.js';
import { idpService, devIdpIssuerConfigs } from '../services/idp/index.js';
import { CtLog, ctlogService, EngineCtLogStore } from '../services/ctlog/index.js';
import { LogEngine } from '../log/index.js';
import { caService, inProcessCtSubmitter } from '../services/ca/index.js';
import { RekorV1Log, RekorV2Log, rekorV1Service, rekorV2Service, inlineDigestVerifier } from '../services/tlog/index.js';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { explorerService } from '../services/explorer/index.js';
import { TRUSTED_ROOT_FILE } from './trust-files.js';
import type { IssuerConfig } from '../oidc/index.js';

export interface ComposeContext {
  dataDir: string;
  config: ServerConfig;
  keyStore: KeyStore;
  /** Base URL written into the trust files and used as issuer / log names. */
  publicUrl: string;
  devIdp: boolean;
  warn: (message: string) => void;
}

export interface ComposedServices {
  /** Services registered, for /healthz and the start-up line. */
  names: string[];
  /** Whether the development identity provider is served. */
  devIdp: boolean;
  /** Paths of the trust files written for clients. */
  trustFiles: string[];
  /** The dev IdP's issuer URL when it is on. */
  devIdpIssuer: string | undefined;
}

/** Path of the development IdP below the public URL (its issuer is `<publicUrl>/oidc`). */
export const DEV_IDP_PATH = '/oidc';

/**
 * Registers every service plugin into the app, with keys from the key store, and writes
 * the trust files that describe them. Services that are not available are left out of
 * both, so the trust files never name something the server does not serve.
 */
export async function composeServices(app: FastifyInstance, ctx: ComposeContext): Promise<ComposedServices> {
  const { config, keyStore, publicUrl, dataDir, warn } = ctx;
  const names: string[] = [];
  const host = new URL(publicUrl).hostname;
  const trust: TrustDescription = { organization: config.organization, operator: host, oidcIssuers: [] };

  // Identity issuers the CA accepts: configured ones, plus the dev IdP (with its keys in-process, no discovery round trip).
  const issuers: IssuerConfig[] = config.issuers.map((i) => ({ ...i }));
  let devIdpIssuer: string | undefined;
  if (ctx.devIdp) {
    const idpKey = keyStore.loadOrCreate('idp', config.keys.idp);
    devIdpIssuer = `${publicUrl}${DEV_IDP_PATH}`;
    await app.register(idpService({ issuerUrl: devIdpIssuer, signingKey: idpKey.privateKey! }), { prefix: DEV_IDP_PATH });
    issuers.push(...(await devIdpIssuerConfigs(devIdpIssuer, idpKey.privateKey!)));
    trust.oidcIssuers.push({ url: devIdpIssuer, start: idpKey.createdAt });
    names.push('dev-idp');
  }

  if (issuers.length === 0) warn('no identity issuers are configured and the development IdP is off: the CA will refuse every token (set "issuers" in the configuration)');

  const ca = loadOrCreateCa(dataDir, keyStore, config, warn);

  // The log engine (SQLite in <dataDir>/log): one database for the transparency logs, a
  // second one for the CT log. Each database commits in its own writer thread, so the CT
  // log's fsyncs and the Rekor logs' fsyncs run side by side instead of queueing behind
  // each other (bench/flows: 1.1-1.4x the flows per second when the disk is the limit).
  const engine = LogEngine.openSqlite(join(dataDir, 'log'));
  const ctEngine = LogEngine.openSqlite(join(dataDir, 'log'), 'ct.db');
  app.addHook('onClose', async () => {
    await Promise.all([engine.close(), ctEngine.close()]);
  });

  // The CT log accepts chains to our root and hands the CA its SCTs in-process.
  const ctKey = keyStore.loadOrCreate('ctlog', config.keys.ctlog);
  // Internal tree only (clients see SCTs and get-sth), so its origin does not follow the public URL.
  const ctOrigin = 'keyless-ct';
  const ctStore = await EngineCtLogStore.open(ctEngine, { origin: ctOrigin, privateKey: ctKey.privateKey! });
  const ctLog = new CtLog({ privateKey: ctKey.privateKey!, roots: [ca.root.certificate], store: ctStore });
  await app.register(ctlogService({ log: ctLog }));
  trust.ctlog = { baseUrl: publicUrl, publicKey: ctKey.publicKey, logId: ctLog.logId, start: ctKey.createdAt };
  names.push('ctlog');

  // Transparency logs: Rekor v1 (ECDSA P-256: SETs and checkpoints) and Rekor v2 (Ed25519 signed notes), same base URL.
  const v1Key = keyStore.loadOrCreate('rekor-v1', config.keys.rekorV1);
  const v2Key = keyStore.loadOrCreate('rekor-v2', config.keys.rekorV2);
  const rekorV1 = await RekorV1Log.open({ engine, baseUrl: publicUrl, privateKey: v1Key.privateKey!, publicKey: v1Key.publicKey });
  const rekorV2 = await RekorV2Log.open({ engine, baseUrl: publicUrl, privateKey: v2Key.privateKey!, publicKey: v2Key.publicKey }).catch((e: unknown) => {
    // The v2 checkpoint origin is the public URL's host name and is fixed when the log is created.
    if (e instanceof KeylessError && e.code === 'LOG_ORIGIN_MISMATCH') {
      throw new KeylessError('PUBLIC_URL_CHANGED', `${e.message}: the Rekor v2 log in ${dataDir} was created for another host name; keep the public URL's host (--public-url) or use a new data directory`);
    }
    throw e;
  });
  await app.register(rekorV1Service({ log: rekorV1, verifier: inlineDigestVerifier }));
  await app.register(rekorV2Service({ log: rekorV2, verifier: inlineDigestVerifier }));
  trust.rekorV1 = { baseUrl: publicUrl, publicKey: v1Key.publicKey, logId: rekorV1.info.logId, start: v1Key.createdAt };
  trust.rekorV2 = { baseUrl: publicUrl, publicKey: v2Key.publicKey, logId: rekorV2.info.logId, start: v2Key.createdAt };
  names.push('rekor-v1', 'rekor-v2');

  const tsa = loadOrCreateTsa(dataDir, keyStore, config, warn);
  await app.register(tsaService({ signer: tsa.signer, chain: tsa.chain }));
  trust.tsa = {
    uri: `${publicUrl}/api/v1/timestamp`,
    chain: tsa.chain.map((c) => c.der),
    start: tsa.signer.certificate.notBefore,
    commonName: `${config.organization} timestamp authority`,
  };
  names.push('tsa');

  await app.register(
    caService({
      issuers,
      issuer: ca.intermediate,
      parents: [ca.root.certificate],
      submitToCtLog: inProcessCtSubmitter(ctLog),
      validityMs: config.validity.leafCertificateMinutes * 60_000,
    }),
  );
  trust.ca = {
    uri: publicUrl,
    chain: [ca.intermediate.certificate.der, ca.root.certificate.der],
    start: ca.root.certificate.notBefore,
    commonName: `${config.organization} root CA`,
  };
  names.unshift('ca');

  // The log explorer at `/`: reads the logs above through their own read APIs.
  await app.register(
    explorerService({
      logs: [
        { name: 'rekor-v1', log: rekorV1.log },
        { name: 'rekor-v2', log: rekorV2.log },
      ],
      ctLog: true,
      trustedRoot: () => readTrustedRoot(dataDir),
    }),
  );
  names.push('explorer');

  const trustFiles = writeTrustFiles(dataDir, trust);
  return { names, devIdp: ctx.devIdp, trustFiles, devIdpIssuer };
}

function readTrustedRoot(dataDir: string): Buffer | undefined {
  try {
    return readFileSync(join(dataDir, TRUSTED_ROOT_FILE));
  } catch {
    return undefined;
  }
}
