import type { FastifyInstance } from 'fastify';
import type { IssuerConfig } from '../oidc/index.js';
import type { CtSubmitter } from '../services/ca/index.js';
import type { ServerConfig } from './config.js';
import type { KeyStore } from './keys.js';
import type { CaMaterial } from './pki.js';
import type { LogStorage } from './storage.js';
import type { TrustDescription } from './trust-files.js';

/**
 * A service as the server composes it: which configuration sections it reads, the
 * routes it registers, and what it adds to the trust files. A TUF repository or the web
 * explorer is one more module in the list (compose.ts).
 */
export interface ServiceModule {
  readonly name: string;
  /** The configuration sections this module reads (docs/configuration.md). */
  readonly configSections: readonly (keyof ServerConfig)[];
  /** Loads keys and storage and builds the service; undefined when it is turned off. */
  setup(ctx: ModuleContext): Promise<ModuleSetup | undefined>;
}

export interface ModuleSetup {
  /** Names listed by /healthz and the start-up line. */
  services: string[];
  /** Registers the routes (fastify plugins) into the one app. */
  register(app: FastifyInstance): PromiseLike<unknown>;
  /** Adds this service to what trusted_root.json and signing_config.json describe. */
  describe?(trust: TrustDescription): void;
  /** Runs once the trust files are written (the TUF module publishes them); may register routes. */
  afterTrustFiles?(app: FastifyInstance, trustFiles: string[]): Promise<{ tuf?: TufAnnouncement } | void>;
}

/** What the start-up output says about the TUF repository. */
export interface TufAnnouncement {
  mirror: string;
  rootPath: string;
  rootSha256: string;
  /** What this start signed (e.g. "targets v2"). */
  signed: string[];
}

/** What the server gives every module; modules earlier in the list may leave things for later ones. */
export interface ModuleContext {
  readonly config: ServerConfig;
  readonly dataDir: string;
  /** Services sign through the key store's Signers and never hold private keys. */
  readonly keyStore: KeyStore;
  /** Base URL written into the trust files, with the real port. */
  readonly publicUrl: string;
  /** Whether the development IdP is to be served (decided before binding: server.ts). */
  readonly devIdp: boolean;
  warn(message: string): void;
  /** The log engines from the configured storage driver, opened on first use and closed with the server. */
  storage(): Promise<LogStorage>;
  /** The CA's root and intermediate, loaded (or created) once. */
  caMaterial(): CaMaterial;
  /** Identity issuers the CA accepts: the configured ones, plus what an IdP module adds. */
  readonly issuers: IssuerConfig[];
  /** The CT log the CA submits precertificates to, when a CT module runs. */
  ctSubmitter?: CtSubmitter;
}
