import type { Command } from 'commander';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const SERVICE_SPEC = 'url=URL,api-version=N,start-time=RFC3339[,end-time=RFC3339],operator=NAME';

const SIGNING_CONFIG_EXAMPLE = `
Each service flag is repeatable and takes a comma-separated key=value list:
  ${SERVICE_SPEC}
URLs are written exactly as given; api-version is the service's major API version
(Fulcio 1, Rekor 1 or 2, TSA 1, OIDC 1).

Example:
  keyless signing-config create \\
    --fulcio "url=https://fulcio.example.com,api-version=1,start-time=2025-01-01T00:00:00Z,operator=example.com" \\
    --rekor "url=https://log2025-1.example.com,api-version=2,start-time=2025-01-01T00:00:00Z,operator=example.com" \\
    --rekor "url=https://rekor.example.com,api-version=1,start-time=2025-01-01T00:00:00Z,operator=example.com" \\
    --tsa "url=https://tsa.example.com/api/v1/timestamp,api-version=1,start-time=2025-01-01T00:00:00Z,operator=example.com" \\
    --oidc-provider "url=https://oauth2.example.com/auth,api-version=1,start-time=2025-01-01T00:00:00Z,operator=example.com" \\
    --rekor-config ANY --tsa-config EXACT:1 --out signing_config.json

Start from the default services and add a TSA:
  keyless signing-config create --with-default-services \\
    --tsa "url=https://tsa.example.com/api/v1/timestamp,api-version=1,start-time=2025-01-01T00:00:00Z,operator=example.com" \\
    --out signing_config.json`;

const TRUSTED_ROOT_EXAMPLE = `
Each flag is repeatable and takes a comma-separated key=value list (file values are paths):
  --fulcio  url=URL,certificate-chain=PEM[,start-time=T][,end-time=T][,operator=NAME]
            chain: the CA that issues signing certificates first, the root last;
            start-time defaults to that first certificate's notBefore
  --tsa     url=URL,certificate-chain=PEM[,start-time=T][,end-time=T][,operator=NAME]
            chain: the TSA signing certificate (timeStamping EKU) first, the root last
  --rekor   url=URL,public-key=PEM,start-time=T[,end-time=T][,origin=NAME][,operator=NAME]
            without origin: a Rekor v1 log, log ID = SHA-256 of the DER public key;
            with origin: a Rekor v2 (tiles) log, log ID = the C2SP signed-note key ID
            for that origin (use the host of url, e.g. url=https://log.example.com,
            origin=log.example.com)
  --ctfe    url=URL,public-key=PEM,start-time=T[,end-time=T][,operator=NAME]
            log ID = SHA-256 of the DER public key
Times are RFC 3339 (2025-01-01T00:00:00Z); validity windows are inclusive, no end
means open-ended.

Example:
  keyless trusted-root create \\
    --fulcio "url=https://fulcio.example.com,certificate-chain=ca-chain.pem" \\
    --rekor "url=https://rekor.example.com,public-key=rekor.pub,start-time=2025-01-01T00:00:00Z" \\
    --rekor "url=https://log2025-1.example.com,public-key=rekor2.pub,start-time=2025-01-01T00:00:00Z,origin=log2025-1.example.com" \\
    --ctfe "url=https://ctfe.example.com,public-key=ctfe.pub,start-time=2025-01-01T00:00:00Z" \\
    --tsa "url=https://tsa.example.com/api/v1/timestamp,certificate-chain=tsa-chain.pem" \\
    --out trusted_root.json`;

/** Runs an implementation; a UsageError becomes commander's usage failure (exit 2). */
async function run(cmd: Command, fn: () => void | Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof Error && (e as { code?: string }).code === 'USAGE')
      cmd.error(`error: ${e.message}`, { exitCode: 2, code: 'keyless.usage' });
    throw e;
  }
}

export function defineTrustCommands(program: Command): void {
  const signingConfig = program.command('signing-config').description('Sigstore signing configuration (SigningConfig v0.2)');
  signingConfig
    .command('create')
    .description('Create a SigningConfig v0.2 listing the CA, transparency logs, TSAs and OIDC providers clients should use')
    .option('--fulcio <spec>', `certificate authority (repeatable): ${SERVICE_SPEC}`, collect)
    .option('--rekor <spec>', `transparency log (repeatable): ${SERVICE_SPEC}`, collect)
    .option('--tsa <spec>', `timestamp authority, full URL of its endpoint (repeatable): ${SERVICE_SPEC}`, collect)
    .option('--oidc-provider <spec>', `OIDC issuer for interactive login (repeatable): ${SERVICE_SPEC}`, collect)
    .option('--rekor-config <selector>', 'how many logs a client uses: ANY, ALL or EXACT:<count> (default ANY)')
    .option('--tsa-config <selector>', 'how many TSAs a client uses: ANY, ALL or EXACT:<count> (default ANY)')
    .option('--out <file>', 'write the signing config here (default: stdout)')
    .option('--output-file <file>', 'same as --out')
    .option('--base-config <file>', "a signing config to start from: each kind of service given by a flag replaces the base's")
    .option(
      '--with-default-services',
      'start from the default services (the TUF cache of keyless initialize, else the public-good instance); flags add to them',
    )
    .option('--no-default-fulcio', 'leave out the default (or base) certificate authorities')
    .option('--no-default-rekor', 'leave out the default (or base) transparency logs')
    .option('--no-default-tsa', 'leave out the default (or base) timestamp authorities')
    .option('--no-default-oidc', 'leave out the default (or base) OIDC providers')
    .addHelpText('after', SIGNING_CONFIG_EXAMPLE)
    .action(async (opts, cmd: Command) => {
      const { signingConfigCreate, defaultSigningConfig, readSigningConfigFile } = await import('./trust-create.js');
      await run(cmd, async () => {
        const out = sameOutput(cmd, opts.out, opts.outputFile);
        signingConfigCreate({
          ...opts,
          ...noDefaults(opts),
          outputFile: out,
          baseConfig: opts.baseConfig === undefined ? undefined : readSigningConfigFile(opts.baseConfig),
          defaults: opts.withDefaultServices ? await defaultSigningConfig() : undefined,
        });
      });
    });

  const trustedRoot = program.command('trusted-root').description('Sigstore trusted root (TrustedRoot)');
  trustedRoot
    .command('create')
    .description('Create a trusted root from CA and TSA certificate chains and transparency / CT log public keys')
    .option(
      '--fulcio <spec>',
      'certificate authority (repeatable): url=URL,certificate-chain=PEM[,start-time=T][,end-time=T][,operator=NAME]',
      collect,
    )
    .option(
      '--rekor <spec>',
      'transparency log (repeatable): url=URL,public-key=PEM,start-time=T[,end-time=T][,origin=NAME][,operator=NAME]',
      collect,
    )
    .option(
      '--ctfe <spec>',
      'certificate transparency log (repeatable): url=URL,public-key=PEM,start-time=T[,end-time=T][,operator=NAME]',
      collect,
    )
    .option(
      '--tsa <spec>',
      'timestamp authority (repeatable): url=URL,certificate-chain=PEM[,start-time=T][,end-time=T][,operator=NAME]',
      collect,
    )
    .option('--out <file>', 'write the trusted root here (default: stdout)')
    .option('--output-file <file>', 'same as --out')
    .option(
      '--with-default-services',
      'start from the default trusted root (the TUF cache of keyless initialize, else the built-in public-good one); flags add to it',
    )
    .option('--no-default-fulcio', 'leave out the default certificate authorities')
    .option('--no-default-rekor', 'leave out the default transparency logs')
    .option('--no-default-ctfe', 'leave out the default CT logs')
    .option('--no-default-tsa', 'leave out the default timestamp authorities')
    .addHelpText('after', TRUSTED_ROOT_EXAMPLE)
    .action(async (opts, cmd: Command) => {
      const { trustedRootCreate, defaultTrustedRoot } = await import('./trust-create.js');
      await run(cmd, async () => {
        const out = sameOutput(cmd, opts.out, opts.outputFile);
        trustedRootCreate({
          ...opts,
          ...noDefaults(opts),
          out,
          defaults: opts.withDefaultServices ? await defaultTrustedRoot() : undefined,
        });
      });
    });
}

/** `--out` and `--output-file` are one output; both given must agree. */
function sameOutput(cmd: Command, out: string | undefined, outputFile: string | undefined): string | undefined {
  if (out !== undefined && outputFile !== undefined && out !== outputFile)
    cmd.error('error: --out and --output-file name different files', { exitCode: 2, code: 'keyless.usage' });
  return out ?? outputFile;
}

/** commander turns `--no-default-x` into `defaultX: false`; the builders take `noDefaultX`. */
function noDefaults(opts: Record<string, unknown>): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const k of ['Fulcio', 'Rekor', 'Tsa', 'Oidc', 'Ctfe']) out[`noDefault${k}`] = opts[`default${k}`] === false;
  return out;
}
