import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from './config.js';
import type { KeyStore } from './keys.js';

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
}

/** Registers every service plugin into the app, with keys from the key store. */
export async function composeServices(app: FastifyInstance, ctx: ComposeContext): Promise<ComposedServices> {
  void app;
  void ctx;
  return { names: [], devIdp: false, trustFiles: [] };
}
