import { InvalidArgumentError, type Command } from 'commander';

const DATA_DIR_HELP = "the stopped server's data directory";

/** A key count or threshold: 1 to 16 (MAX_TUF_KEYS_PER_ROLE, not imported: that would load the server at start). */
function keyCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 16) throw new InvalidArgumentError('must be a whole number from 1 to 16');
  return n;
}

/** The group command `name` if another module defined it already, else a new one. */
function group(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

/**
 * `keyless initialize` (cosign's flags), `keyless tuf status|rotate-root|sign-targets`
 * (offline operations on a stopped server's repository), `trusted-root show` and
 * `signing-config show` (where the trust comes from and what it holds).
 */
export function defineTufCommands(program: Command): void {
  program
    .command('initialize')
    .description(
      "trust a TUF repository (a Keyless server's <public-url>/tuf): store its root and fetch the trusted root and signing config into the cache",
    )
    .requiredOption('--mirror <url>', 'the TUF repository, e.g. https://sigstore.example.com/tuf')
    .requiredOption('--root <file-or-url>', 'the initial root.json (printed by keyless serve as "TUF root: ...")')
    .option('--root-checksum <sha256>', 'hex SHA-256 the root file must have (required in spirit when --root is a URL)')
    .addHelpText(
      'after',
      '\nThe cache is KEYLESS_TUF_ROOT (default ~/.cache/keyless/tuf); initialize replaces any earlier one.\nFrom then on, commands that need a trusted root or signing config and get neither flag\nnor environment variable use the TUF ones, refreshed on each run.',
    )
    .action(async (opts: { mirror: string; root: string; rootChecksum?: string }) => {
      const { initializeCommand } = await import('./tuf-impl.js');
      await initializeCommand(opts);
    });

  const tuf = program.command('tuf').description('the TUF repository of a Keyless data directory (run with the server stopped)');
  tuf
    .command('status')
    .description('versions, expiry and keys of the repository; what is due')
    .option('--data-dir <dir>', DATA_DIR_HELP, './keyless-data')
    .option('--config <file>', "the server's configuration file (for the tuf.*Expiry periods)")
    .action(async (opts: { dataDir: string; config?: string }) => {
      const { tufStatusCommand } = await import('./tuf-impl.js');
      await tufStatusCommand(opts);
    });
  tuf
    .command('rotate-root')
    .description('publish the next root version with new root keys, signed by a threshold of the current root keys and by every new one')
    .option('--data-dir <dir>', DATA_DIR_HELP, './keyless-data')
    .option('--config <file>', "the server's configuration file (for the tuf.*Expiry periods)")
    .option('--root-keys <n>', 'how many new root keys to create (1-16)', keyCount, 1)
    .option('--root-threshold <n>', 'how many root keys must sign the next root version (default: a majority of --root-keys)', keyCount)
    .option('--keep-root-key', "re-sign with the current root keys and threshold (extend the root's expiry)")
    .option('--targets', 'also replace the targets key(s)')
    .option('--targets-keys <n>', 'how many new targets keys to create (1-16; implies --targets)', keyCount)
    .option('--targets-threshold <n>', 'how many targets keys must sign targets metadata (default: a majority of --targets-keys)', keyCount)
    .option('--online', 'also replace the online (snapshot/timestamp) key')
    .addHelpText(
      'after',
      '\nExample: three root keys, any two of which sign the next rotation:\n  keyless tuf rotate-root --data-dir DIR --root-keys 3 --root-threshold 2\nThe new root is signed by every current root key in DIR/keys (at least the current\nthreshold of them) and by all new ones; afterwards keep the keys apart, offline.',
    )
    .action(
      async (
        opts: {
          dataDir: string;
          config?: string;
          rootKeys: number;
          rootThreshold?: number;
          keepRootKey?: boolean;
          targets?: boolean;
          targetsKeys?: number;
          targetsThreshold?: number;
          online?: boolean;
        },
        cmd: Command,
      ) => {
        const usage = (message: string) => cmd.error(`error: ${message}`, { exitCode: 2, code: 'keyless.usage' });
        const threshold = opts.rootThreshold ?? Math.floor(opts.rootKeys / 2) + 1;
        const targetsKeys = opts.targetsKeys ?? opts.targetsThreshold ?? 1;
        const targetsThreshold = opts.targetsThreshold ?? Math.floor(targetsKeys / 2) + 1;
        if (targetsThreshold > targetsKeys)
          usage(`--targets-threshold ${targetsThreshold} is more than the ${targetsKeys} targets key(s) of --targets-keys`);
        if (opts.keepRootKey && (cmd.getOptionValueSource('rootKeys') === 'cli' || opts.rootThreshold !== undefined))
          usage('--keep-root-key keeps the current root keys and threshold; leave out --root-keys and --root-threshold');
        if (threshold > opts.rootKeys) usage(`--root-threshold ${threshold} is more than the ${opts.rootKeys} root key(s) of --root-keys`);
        const { tufRotateRootCommand } = await import('./tuf-impl.js');
        await tufRotateRootCommand({
          ...opts,
          rootThreshold: threshold,
          targets: opts.targets || opts.targetsKeys !== undefined || opts.targetsThreshold !== undefined,
          targetsKeys,
          targetsThreshold,
        });
      },
    );
  tuf
    .command('sign-targets')
    .description("sign the data directory's current trust files as the next targets version (the next start publishes them)")
    .option('--data-dir <dir>', DATA_DIR_HELP, './keyless-data')
    .option('--config <file>', "the server's configuration file (for the tuf.*Expiry periods)")
    .action(async (opts: { dataDir: string; config?: string }) => {
      const { tufSignTargetsCommand } = await import('./tuf-impl.js');
      await tufSignTargetsCommand(opts);
    });

  const show =
    (kind: 'trusted-root' | 'signing-config') =>
    (opts: { trustedRoot?: string; signingConfig?: string; offline?: boolean; json?: boolean }) =>
      import('./trust-show.js').then(({ showTrustCommand }) => showTrustCommand(kind, opts));
  group(program, 'trusted-root', 'Sigstore trusted root (TrustedRoot)')
    .command('show')
    .description('where the trusted root comes from (flag, KEYLESS_TRUSTED_ROOT, TUF mirror, built-in) and what it holds')
    .option('--trusted-root <file>', 'show this file')
    .option('--offline', 'use the TUF cache without asking its mirror')
    .option('--json', 'print the trusted root itself')
    .action(show('trusted-root'));
  group(program, 'signing-config', 'Sigstore signing configuration (SigningConfig v0.2)')
    .command('show')
    .description('where the signing config comes from (flag, KEYLESS_SIGNING_CONFIG, TUF mirror, built-in) and what it holds')
    .option('--signing-config <file>', 'show this file')
    .option('--offline', 'use the TUF cache without asking its mirror')
    .option('--json', 'print the signing config itself')
    .action(show('signing-config'));
}
