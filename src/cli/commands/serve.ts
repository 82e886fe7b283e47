import { InvalidArgumentError, type Command } from 'commander';
// Not services/http/index.js: that loads fastify, which every command would then pay for.
import { LOG_LEVELS, type LogLevel } from '../../services/http/log-levels.js';

function parseLogLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${LOG_LEVELS.join(', ')}`);
  return value as LogLevel;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

/** `keyless serve`: the whole private Sigstore (CA, CT log, Rekor v1/v2, TSA, dev IdP) in one process. */
export function defineServeCommands(program: Command): void {
  program
    .command('serve')
    .description(
      'run a private Sigstore: CA, CT log, transparency logs (Rekor v1 and v2), TSA and a development identity provider on one port',
    )
    .option('--data-dir <dir>', 'keys, certificates, logs and trust files', './keyless-data')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to bind (0: any free port)', parsePort, 3000)
    .option('--config <file>', 'JSON configuration file (docs/configuration.md)')
    .option('--public-url <url>', 'address written into trusted_root.json and signing_config.json (default http://HOST:PORT)')
    .option(
      '--log-level <level>',
      `request and error logs, JSON lines on stderr (${LOG_LEVELS.join(', ')})`,
      parseLogLevel,
      'info' as LogLevel,
    )
    .option(
      '--database <url>',
      'keep the logs in PostgreSQL (postgres://USER@HOST/DB; password from PGPASSWORD), shared with other frontends; default: SQLite in the data directory',
    )
    .action(
      async (opts: {
        dataDir: string;
        host: string;
        port: number;
        config?: string;
        publicUrl?: string;
        logLevel: LogLevel;
        database?: string;
      }) => {
        const { runServe } = await import('./serve-process.js');
        await runServe(opts);
      },
    );
}
