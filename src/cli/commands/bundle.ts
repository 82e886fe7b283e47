import type { Command } from 'commander';

export function defineBundleCommands(program: Command): void {
  program
    .command('bundle')
    .description('Sigstore bundles')
    .command('inspect')
    .description(
      'show what a bundle holds (identity, issuer, extensions, validity, log entries, timestamps, statement), without verifying it',
    )
    .argument('<file>', 'the bundle')
    .option('--json', 'print the report as JSON (alone on stdout)')
    .addHelpText('after', '\nExample:\n  keyless bundle inspect release.tar.gz.sigstore.json --json')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { bundleInspectCommand } = await import('./bundle-inspect.js');
      bundleInspectCommand(file, opts);
    });
}
