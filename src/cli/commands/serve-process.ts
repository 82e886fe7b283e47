import { basename, resolve } from 'node:path';
import type { LogLevel } from '../../services/http/index.js';
import {
  DEFAULT_CONFIG,
  loadConfigFile,
  parseDatabaseUrl,
  startServer,
  type RunningServer,
  type ServerConfig,
} from '../../server/index.js';

export interface RunServeOptions {
  dataDir: string;
  host: string;
  port: number;
  config?: string;
  publicUrl?: string;
  logLevel?: LogLevel;
  /** PostgreSQL URL: overrides the configuration's storage section. */
  database?: string;
}

/** Exit status of a start-up failure (bad configuration, public URL, data directory, port): a usage error. */
export const EXIT_STARTUP_FAILED = 2;

const DEV_IDP_BANNER = [
  '',
  '  ****************************************************************************',
  '  *  WARNING: the DEVELOPMENT identity provider is ON.                       *',
  '  *  Anyone who can reach this server can get a token for ANY identity and   *',
  '  *  a signing certificate for it. Never trust this instance for production. *',
  '  *  Turn it off with {"devIdp": {"enabled": false}} in the configuration.   *',
  '  ****************************************************************************',
  '',
].join('\n');

/**
 * The `keyless serve` process: starts the server, prints its URL alone on the first line
 * of stdout once it is ready, and shuts down gracefully on SIGTERM / SIGINT.
 */
export async function runServe(opts: RunServeOptions): Promise<void> {
  const warn = (message: string) => process.stderr.write(`keyless serve: warning: ${message}\n`);
  const dataDir = resolve(opts.dataDir);

  // Signal handlers first: a client may send SIGTERM the instant the URL appears.
  let server: RunningServer | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  let resolveStop: () => void = () => {};
  const stopped = new Promise<void>((r) => (resolveStop = r));
  const shutdown = () => {
    server!.close().then(resolveStop, (e: unknown) => {
      process.stderr.write(`keyless serve: error during shutdown: ${(e as Error).message}\n`);
      process.exitCode = 1;
      resolveStop();
    });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      // A second signal during shutdown ends the process at once.
      process.exit(130);
    }
    stopRequested = signal;
    process.stderr.write(`keyless serve: ${signal} received, shutting down\n`);
    if (server) shutdown();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    const config: ServerConfig = opts.config ? loadConfigFile(opts.config) : (structuredClone(DEFAULT_CONFIG) as ServerConfig);
    if (opts.database !== undefined) {
      const kept = config.storage.driver === 'postgres' ? config.storage : {};
      config.storage = { ...kept, driver: 'postgres', url: parseDatabaseUrl(opts.database, '--database') };
    }
    server = await startServer({
      dataDir,
      host: opts.host,
      port: opts.port,
      config,
      ...(opts.publicUrl === undefined ? {} : { publicUrl: opts.publicUrl }),
      warn,
      log: { level: opts.logLevel ?? 'info', stream: process.stderr },
    });
  } catch (e) {
    // A start-up failure is the operator's to fix: one line, exit 2, nothing left listening.
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`keyless serve: error: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exitCode = EXIT_STARTUP_FAILED;
    return;
  }

  if (server.services.devIdp) process.stderr.write(DEV_IDP_BANNER + '\n');
  process.stderr.write(
    `keyless serve: data directory ${dataDir}\n` +
      (server.storage.driver === 'postgres' ? `keyless serve: logs in PostgreSQL ${server.storage.url}\n` : '') +
      `keyless serve: services: ${server.services.names.join(', ') || '(none)'}\n` +
      `keyless serve: trust files for clients: ${server.services.trustFiles.join(', ') || '(none)'}\n` +
      (server.services.publicKeyFiles.length
        ? `keyless serve: service keys and chains (PEM): ${server.services.publicKeyFiles.map((f) => basename(f)).join(', ')}\n`
        : '') +
      `keyless serve: public URL ${server.publicUrl}\n` +
      (server.services.tuf
        ? `keyless serve: TUF repository ${server.services.tuf.mirror}${server.services.tuf.signed.length ? ` (signed ${server.services.tuf.signed.join(', ')})` : ''}\n` +
          `TUF root: ${server.services.tuf.rootPath} sha256:${server.services.tuf.rootSha256}\n`
        : ''),
  );
  if (stopRequested) shutdown();
  else process.stdout.write(`${server.url}\n`);
  await stopped;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
}
