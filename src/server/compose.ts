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
import type { IssuerConfig } from '../oidc/index.js';
import { tufKeyProvider, tufTargetsFromTrustFiles } from './tuf.js';
import { readLogShards } from './shards.js';
import { publishTufRepository } from '../services/tuf/index.js';

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
  /** The TUF repository that publishes the trust files, when on. */
  tuf?: { mirror: string; rootPath: string; rootSha256: string; signed: string[] };
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
  // Rekor v2 has shards (src/server/shards.ts): the current one takes entries, retired ones are read-only.
  const v1Key = keyStore.loadOrCreate('rekor-v1', config.keys.rekorV1);
  const rekorV1 = await RekorV1Log.open({ engine, baseUrl: publicUrl, privateKey: v1Key.privateKey!, publicKey: v1Key.publicKey });
  await app.register(rekorV1Service({ log: rekorV1, verifier: inlineDigestVerifier }));
  trust.rekorV1 = { baseUrl: publicUrl, publicKey: v1Key.publicKey, logId: rekorV1.info.logId, start: v1Key.createdAt };
  const shards = readLogShards(dataDir, keyStore);
  const current = shards[shards.length - 1]!;
  for (const shard of shards) {
    const key = shard === shards[0] ? keyStore.loadOrCreate(shard.name, config.keys.rekorV2) : keyStore.load(shard.name);
    if (!key) throw new KeylessError('LOG_SHARDS_INVALID', `the key of Rekor v2 shard ${shard.name} is missing from ${dataDir}/keys`);
    const baseUrl = `${publicUrl}${shard.path}`;
    const log = await RekorV2Log.open({ engine, baseUrl, name: shard.name, privateKey: key.privateKey!, publicKey: key.publicKey }).catch((e: unknown) => {
      // The v2 checkpoint origin is the public URL's host name and is fixed when the log is created.
      if (e instanceof KeylessError && e.code === 'LOG_ORIGIN_MISMATCH') {
        throw new KeylessError('PUBLIC_URL_CHANGED', `${e.message}: the Rekor v2 log in ${dataDir} was created for another host name; keep the public URL's host (--public-url) or use a new data directory`);
      }
      throw e;
    });
    const retired = shard === current ? undefined : { successor: `${publicUrl}${current.path}` };
    await app.register(rekorV2Service({ log, verifier: inlineDigestVerifier, ...(retired ? { retired } : {}) }), shard.path ? { prefix: shard.path } : {});
    const description = { baseUrl, publicKey: key.publicKey, logId: log.info.logId, start: shard === shards[0] ? key.createdAt : shard.start, ...(shard.end ? { end: shard.end } : {}) };
    if (shard === current) trust.rekorV2 = description;
    else (trust.rekorV2Retired ??= []).push(description);
  }
  names.push('rekor-v1', shards.length > 1 ? `rekor-v2 (${shards.length} shards)` : 'rekor-v2');

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

  const trustFiles = writeTrustFiles(dataDir, trust);
  let tuf: ComposedServices['tuf'];
  if (config.tuf.enabled) {
    const published = await publishTufRepository(app, {
      dataDir,
      config: config.tuf,
      keys: tufKeyProvider(keyStore),
      contents: tufTargetsFromTrustFiles(trustFiles),
      publicUrl,
      warn,
    });
    tuf = { mirror: published.mirror, rootPath: published.rootPath, rootSha256: published.rootSha256, signed: published.signed };
    names.push('tuf');
  }
  return { names, devIdp: ctx.devIdp, trustFiles, devIdpIssuer, ...(tuf ? { tuf } : {}) };
}
