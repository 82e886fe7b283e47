import type { Command } from 'commander';

/** `keyless storage migrate`: moves an instance's logs from SQLite into PostgreSQL. */
export function defineStorageCommands(program: Command): void {
  const storage = program.command('storage').description('manage where the logs are kept');
  storage
    .command('migrate')
    .description('copy the logs of a SQLite-backed instance (its data directory) into an empty PostgreSQL database')
    .requiredOption('--from <dir>', 'data directory of the instance (stop its keyless serve first)')
    .requiredOption('--to <url>', 'postgres://USER@HOST/DB (password from PGPASSWORD)')
    .action(async (opts: { from: string; to: string }) => {
      const { runStorageMigrate } = await import('./storage-migrate.js');
      await runStorageMigrate(opts);
    });
}
