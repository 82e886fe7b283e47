import { isIPv6 } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { KeylessError } from '../core/errors.js';
import type { ErrorCode } from '../core/error-codes.js';
import { createHttpApp, type LogLevel } from '../services/http/index.js';
import { DEFAULT_CONFIG, isLoopbackHost, parsePublicUrl, type ServerConfig, type StorageConfig } from './config.js';
import { FileKeyStore, ensurePrivateDir, type KeyStore } from './keys.js';
import { lockDataDir, lockDataDirWhileStarting } from './lock.js';
import { composeServices, type ComposedServices } from './compose.js';
import type { ServiceModule } from './module.js';

export interface ServeOptions {
  dataDir: string;
  host: string;
  /** 0 picks a free port; the URL printed (and written into the trust files) carries the real one. */
  port: number;
  config?: ServerConfig;
  /** Address written into the trust files; default `http://HOST:PORT`. */
  publicUrl?: string;
  /** Where warnings go (the CLI passes stderr). Never receives key material or tokens. */
  warn?: (message: string) => void;
  /** Another key store (e.g. PKCS#11); default: files in `<dataDir>/keys`. */
  keyStore?: KeyStore;
  /** Request and error logs (JSON lines); none by default. */
  log?: { level: LogLevel; stream: NodeJS.WritableStream };
  /** The service modules to compose (default SERVICE_MODULES: dev IdP, CT log, Rekor v1/v2, TSA, CA). */
  modules?: readonly ServiceModule[];
}

export interface RunningServer {
  /** The address the server listens on, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** The address written into the trust files. */
  readonly publicUrl: string;
  readonly app: FastifyInstance;
  readonly services: ComposedServices;
  /** Where the logs are kept. */
  readonly storage: StorageConfig;
  /** Stops accepting connections, lets requests in flight finish (up to `graceMs`), then closes storage. */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_DATA_DIR = './keyless-data';
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 3000;
const DEFAULT_GRACE_MS = 5000;

/**
 * Whether the development identity provider runs. `auto`: only when every way in is
 * loopback (the bind address and the public URL's host). `true` beyond loopback needs
 * the operator's explicit `allowPublic`, or the server refuses to start.
 */
export function devIdpEnabled(config: ServerConfig, host: string, publicUrl?: string): boolean {
  const publicHost = publicUrl === undefined ? host : new URL(publicUrl).hostname;
  const loopbackOnly = isLoopbackHost(host) && isLoopbackHost(publicHost);
  const setting = config.devIdp.enabled;
  if (setting === 'auto') return loopbackOnly;
  if (setting && !loopbackOnly && !config.devIdp.allowPublic) {
    throw new KeylessError(
      'DEV_IDP_NOT_LOOPBACK',
      `the development IdP (any identity, to anyone) is enabled but the server is reachable beyond loopback (bind ${host}, public URL host ${publicHost}); set "devIdp": {"enabled": true, "allowPublic": true} to accept that, or turn it off`,
    );
  }
  return setting;
}

/**
 * Starts `keyless serve` in an order that never lets a request meet a half-built server:
 * everything is validated first (configuration, public URL, dev IdP setting, data
 * directory and its lock, keys); then the port is bound, because with port 0 only the
 * bound socket knows the port that the trust files and log names must carry; then every
 * service is composed and fastify made ready. Until then the socket answers every
 * request itself with 503 and Retry-After (the gate below): fastify never sees a request
 * before it is ready. Any failure closes the socket and releases the data directory.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const config = options.config ?? (structuredClone(DEFAULT_CONFIG) as ServerConfig);
  const warn = options.warn ?? (() => {});
  const explicitUrl = options.publicUrl ?? config.publicUrl;
  const givenPublicUrl =
    explicitUrl === undefined ? undefined : parsePublicUrl(explicitUrl, options.publicUrl ? '--public-url' : 'publicUrl');
  const devIdp = devIdpEnabled(config, options.host, givenPublicUrl);
  ensurePrivateDir(options.dataDir, warn);
  // One process per SQLite data directory; on a shared database, one at a time while starting.
  const shared = config.storage.driver === 'postgres';
  const unlock = shared ? await lockDataDirWhileStarting(options.dataDir) : lockDataDir(options.dataDir);
  let keyStore: KeyStore;
  try {
    keyStore = options.keyStore ?? new FileKeyStore(options.dataDir, warn);
  } catch (e) {
    unlock();
    throw e;
  }

  let ready = false;
  const app = createHttpApp({
    bodyLimit: config.limits.bodyLimit,
    ...(options.log ? { log: options.log } : {}),
    connections: config.limits,
    gate: (_req, res) => {
      if (ready) return false;
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', connection: 'close' });
      res.end(JSON.stringify({ code: 'SERVER_STARTING' satisfies ErrorCode, message: 'the server is starting; retry shortly' }));
      return true;
    },
  });
  // No service takes text/plain: without fastify's default parser such bodies get a 415, not a confusing 400.
  app.removeContentTypeParser('text/plain');

  let port: number;
  try {
    port = await listenRaw(app, options.host, options.port);
  } catch (e) {
    await closeQuietly(app);
    unlock();
    throw e;
  }
  const hostInUrl = isIPv6(options.host) ? `[${options.host}]` : options.host;
  const url = `http://${hostInUrl}:${port}`;
  if ((options.host === '0.0.0.0' || options.host === '::') && !explicitUrl) {
    warn(
      `bound to ${options.host} without --public-url: the trust files will name ${url}, which clients elsewhere cannot reach; pass --public-url`,
    );
  }
  const publicUrl = givenPublicUrl ?? url;
  if (devIdp && !isLoopbackHost(new URL(publicUrl).hostname)) {
    warn(
      `the development IdP is served at ${publicUrl}/oidc, beyond loopback (devIdp.allowPublic): anyone who reaches it gets certificates for any identity`,
    );
  }

  let services: ComposedServices;
  try {
    services = await composeServices(app, {
      dataDir: options.dataDir,
      config,
      keyStore,
      publicUrl,
      devIdp,
      warn,
      ...(options.modules ? { modules: options.modules } : {}),
    });
    app.get('/healthz', async () => ({ status: 'ok', services: services.names }));
    await app.ready();
  } catch (e) {
    await closeQuietly(app);
    unlock();
    throw e;
  }
  ready = true;
  if (shared) unlock();

  let closing: Promise<void> | undefined;
  return {
    url,
    publicUrl,
    app,
    services,
    storage: config.storage,
    close(graceMs = DEFAULT_GRACE_MS) {
      closing ??= shutdown(app, graceMs).finally(unlock);
      return closing;
    },
  };
}

async function listenRaw(app: FastifyInstance, host: string, port: number): Promise<number> {
  const server = app.server;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      reject(new KeylessError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${e.code ?? e.message}`));
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

async function shutdown(app: FastifyInstance, graceMs: number): Promise<void> {
  const server = app.server;
  // No new connections; idle keep-alive sockets go now, busy ones when their answer is sent.
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  timer.unref();
  await drained;
  clearTimeout(timer);
  // Services close their storage in onClose hooks.
  await closeQuietly(app);
}

async function closeQuietly(app: FastifyInstance): Promise<void> {
  try {
    await app.close();
  } catch {
    // Already closed or never ready: nothing left to release.
  }
  if (app.server.listening) {
    const closed = new Promise<void>((resolve) => app.server.close(() => resolve()));
    app.server.closeAllConnections();
    await closed;
  }
}
