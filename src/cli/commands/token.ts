import type { Command } from 'commander';

export function defineTokenCommands(program: Command): void {
  const token = program.command('token').description('identity tokens');
  token
    .command('inspect')
    .description(
      'show the identity and issuer a signing certificate for this token would carry, and whether the token is usable (exit 1 if not)',
    )
    .argument('[token]', 'the token or a file holding it (default: SIGSTORE_ID_TOKEN or the GitHub Actions token)')
    .option('--fulcio-url <url>', "ask this CA how it treats the token's issuer (GET /api/v2/configuration)")
    .option('--signing-config <file>', 'take the CA from this SigningConfig (env KEYLESS_SIGNING_CONFIG)')
    .option('--verify', "also verify the token's signature with the issuer's published keys (OIDC discovery, JWKS)")
    .option('--json', 'print the report as JSON')
    .action(async (value: string | undefined, opts: { fulcioUrl?: string; signingConfig?: string; json?: boolean; verify?: boolean }) => {
      const { inspectTokenCommand } = await import('./token-inspect.js');
      await inspectTokenCommand(value, opts);
    });
}
