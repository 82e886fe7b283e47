import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from './config.js';
import type { KeyStore } from './keys.js';
import type { ModuleContext, ModuleSetup, ServiceModule, TufAnnouncement } from './module.js';
import { devIdpModule, DEV_IDP_PATH } from './modules/dev-idp.js';
import { ctlogModule } from './modules/ctlog.js';
import { rekorModule } from './modules/rekor.js';
import { tsaModule } from './modules/tsa.js';
import { caModule } from './modules/ca.js';
import { tufModule } from './modules/tuf.js';
import { explorerModule } from './modules/explorer.js';
import { loadOrCreateCa, type CaMaterial } from './pki.js';
import { openLogStorage, type LogStorage } from './storage.js';
import { writePublicKeyFiles, writeTrustFiles, type TrustDescription } from './trust-files.js';

export { DEV_IDP_PATH };

/**
 * The services `keyless serve` runs, in set-up order: the IdP first (the CA accepts its
 * tokens), the CT log before the CA (the CA embeds its SCTs), the CA; the TUF repository
 * (it publishes the trust files the others describe), then the explorer (it reads the logs
 * the modules before it opened).
 */
export const SERVICE_MODULES: readonly ServiceModule[] = [
  devIdpModule,
  ctlogModule,
  rekorModule,
  tsaModule,
  caModule,
  tufModule,
  explorerModule,
];

export interface ComposeContext {
  dataDir: string;
  config: ServerConfig;
  keyStore: KeyStore;
  /** Base URL written into the trust files and used as issuer / log names. */
  publicUrl: string;
  devIdp: boolean;
  warn: (message: string) => void;
  /** The modules to compose (default SERVICE_MODULES). */
  modules?: readonly ServiceModule[];
}

export interface ComposedServices {
  /** Services registered, for /healthz and the start-up line. */
  names: string[];
  /** Whether the development identity provider is served. */
  devIdp: boolean;
  /** Paths of the trust files written for clients. */
  trustFiles: string[];
  /** Paths of each service's public key (and the CA's and TSA's chains) as PEM, beside them. */
  publicKeyFiles: string[];
  /** The dev IdP's issuer URL when it is on. */
  devIdpIssuer: string | undefined;
  /** The TUF repository that publishes the trust files, when on. */
  tuf?: TufAnnouncement;
}

/**
 * Sets up every module of the list, registers their routes into the app and writes the
 * trust files from what each adds. A module that is off adds nothing, so the trust files
 * never name something the server does not serve. Storage opened here is closed with
 * the app, or at once when composition fails.
 */
export async function composeServices(app: FastifyInstance, ctx: ComposeContext): Promise<ComposedServices> {
  let storage: Promise<LogStorage> | undefined;
  let ca: CaMaterial | undefined;
  const moduleContext: ModuleContext = {
    config: ctx.config,
    dataDir: ctx.dataDir,
    keyStore: ctx.keyStore,
    publicUrl: ctx.publicUrl,
    devIdp: ctx.devIdp,
    warn: ctx.warn,
    issuers: ctx.config.issuers.map((i) => ({ ...i })),
    storage: () => (storage ??= openLogStorage(ctx.config.storage, ctx.dataDir)),
    caMaterial: () => (ca ??= loadOrCreateCa(ctx.dataDir, ctx.keyStore, ctx.config, ctx.warn)),
  };
  app.addHook('onClose', async () => {
    await (await storage?.catch(() => undefined))?.close();
  });
  try {
    const setups: ModuleSetup[] = [];
    for (const module of ctx.modules ?? SERVICE_MODULES) {
      const setup = await module.setup(moduleContext);
      if (setup) setups.push(setup);
    }
    const trust: TrustDescription = { organization: ctx.config.organization, operator: new URL(ctx.publicUrl).hostname, oidcIssuers: [] };
    for (const setup of setups) {
      await setup.register(app);
      setup.describe?.(trust);
    }
    const names = setups.flatMap((s) => s.services);
    const trustFiles = writeTrustFiles(ctx.dataDir, trust);
    const publicKeyFiles = writePublicKeyFiles(ctx.dataDir, trust);
    let tuf: TufAnnouncement | undefined;
    for (const setup of setups) tuf = (await setup.afterTrustFiles?.(app, trustFiles))?.tuf ?? tuf;
    return {
      // The CA first in the start-up line: it is what clients reach first.
      names: [...names.filter((n) => n === 'ca'), ...names.filter((n) => n !== 'ca')],
      devIdp: names.includes('dev-idp'),
      trustFiles,
      publicKeyFiles,
      devIdpIssuer: names.includes('dev-idp') ? `${ctx.publicUrl}${DEV_IDP_PATH}` : undefined,
      ...(tuf ? { tuf } : {}),
    };
  } catch (e) {
    const s = storage;
    storage = undefined;
    await (await s?.catch(() => undefined))?.close().catch(() => {});
    throw e;
  }
}
