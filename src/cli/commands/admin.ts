import type { Command } from 'commander';

/** `keyless admin …`: operations on a stopped server's data directory (they refuse while it runs). */
export function defineAdminCommands(program: Command): void {
  const admin = program
    .command('admin')
    .description("operations on a stopped server's data directory; the next start publishes the result (through TUF)");
  admin
    .command('rotate-log')
    .description(
      'start a new log shard with a new key and retire the current one for writes (it stays readable and trusted for what it logged)',
    )
    .argument('<log>', 'the log to rotate: rekor-v2')
    .option('--data-dir <dir>', "the stopped server's data directory", './keyless-data')
    .option('--config <file>', "the server's configuration file (for the key type, keys.rekorV2)")
    .option(
      '--url <url>',
      "the new shard's own URL, https://<host> (a host name routed to this server): its origin is that host name, which every client accepts; without it the shard is <public URL>/shards/N",
    )
    .action(async (log: string, opts: { dataDir: string; config?: string; url?: string }, cmd: Command) => {
      if (log !== 'rekor-v2') cmd.error(`error: only rekor-v2 has shards (got ${log})`, { exitCode: 2, code: 'keyless.usage' });
      const { rotateLogCommand } = await import('./admin-impl.js');
      rotateLogCommand(opts);
    });
}
