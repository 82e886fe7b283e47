import { Command, Option } from 'commander';
import { printable } from '../printable.js';
import { noteCosignNoOps, withCosignNoOps } from '../cosign-compat.js';

export const ENV_HELP = `
Environment:
  SIGSTORE_ID_TOKEN        identity token (when no --identity-token is given)
  KEYLESS_SIGNING_CONFIG   SigningConfig v0.2 file (when no --signing-config is given)
  KEYLESS_TRUSTED_ROOT     TrustedRoot file (when no --trusted-root is given)
  KEYLESS_TUF_ROOT         TUF cache of keyless initialize (default ~/.cache/keyless/tuf)
  BROWSER                  command that opens the login URL (when no --browser-command is given)
  ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN   GitHub Actions ambient token
  BUILDKITE_AGENT_ACCESS_TOKEN, BUILDKITE_JOB_ID, BUILDKITE_AGENT_ENDPOINT   Buildkite agent API token
  KEYLESS_OIDC_TOKEN_PATH  file for --oidc-provider filesystem (default /var/run/sigstore/cosign/oidc-token)
  SPIFFE_ENDPOINT_SOCKET   SPIFFE Workload API socket (default /tmp/spire-agent/public/api.sock)
  GCE_METADATA_HOST / GOOGLE_APPLICATION_CREDENTIALS   Google metadata server / service-account key
  GOOGLE_SERVICE_ACCOUNT_NAME   Google service account to impersonate (IAM Credentials generateIdToken)

Without --signing-config (or its variable) the signing config and trusted root of the
TUF cache are used (keyless initialize), else the public-good Sigstore services with the
built-in trusted root. The bundle is verified with the trusted root before it is written; the
ephemeral P-256 key never leaves memory.`;

/** Flags every signing command shares; names follow cosign's where cosign has the flag. */
export function identityAndServiceFlags(cmd: Command): Command {
  return cmd
    .option('--identity-token <token-or-file>', 'identity token to use for the certificate: the token or a path to a file containing it')
    .addOption(
      new Option(
        '--oidc-provider <source>',
        'use only this identity token source; cosign names: github-actions, buildkite-agent, filesystem, google, spiffe',
      ).choices([
        'identity-token',
        'env',
        'github-actions',
        'buildkite-agent',
        'filesystem',
        'google',
        'google-workload-identity',
        'google-impersonate',
        'spiffe',
        'browser',
        'device',
      ]),
    )
    .addOption(
      new Option(
        '--fulcio-auth-flow <flow>',
        'flow for the token (cosign): normal = browser, device, token, client_credentials (--oidc-client-id and --oidc-client-secret-file)',
      ).choices(['normal', 'device', 'token', 'client_credentials']),
    )
    .option('--oidc-disable-ambient-providers', 'do not read ambient credentials (environment, CI, files, sockets) (cosign)')
    .option(
      '--oidc-issuer <url>',
      "OIDC provider that issues the token: used for an interactive login (default: the signing config's) and required as the token's issuer",
    )
    .option('--oidc-client-id <id>', 'OIDC client ID for an interactive login', 'sigstore')
    .option('--oidc-client-secret-file <file>', 'file holding the OIDC client secret, if the provider needs one')
    .option('--oidc-redirect-url <url>', 'loopback redirect URL for the browser login (default http://localhost:<free port>/auth/callback)')
    .option('--browser-command <cmd>', 'command that opens the login URL (the URL is always printed to stderr)')
    .option('--signing-config <file>', 'SigningConfig v0.2 that selects the services (env KEYLESS_SIGNING_CONFIG)')
    .option('--trusted-root <file>', 'TrustedRoot to verify the bundle with before writing it (env KEYLESS_TRUSTED_ROOT)')
    .option('--fulcio-url <url>', "certificate authority to use instead of the signing config's")
    .option('--rekor-url <url>', "transparency log to use instead of the signing config's")
    .addOption(new Option('--rekor-version <n>', 'major API version of --rekor-url').choices(['1', '2']).default('1'))
    .option('--timestamp-server-url <url>', "timestamp authority to use instead of the signing config's")
    .option('--offline', 'use the TUF cache without asking its mirror')
    .option('-y, --yes', 'accepted for cosign compatibility: Keyless never prompts')
    .option('-t, --timeout <duration>', 'give up after this long, e.g. 90s, 3m (default 3m)', '3m');
}

/** `90`, `90s`, `3m`, `1m30s` → milliseconds (cosign's duration flag). */
export function parseDuration(value: string): number | undefined {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$/.exec(value.trim());
  if (!m || value.trim() === '') return undefined;
  const ms = ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
  return ms > 0 ? ms : undefined;
}

/**
 * Runs an implementation within `--timeout`; a usage problem found there exits 2 like
 * commander's own. Bundles are written atomically, so stopping early leaves nothing half-written.
 */
export async function run(cmd: Command, body: () => Promise<void>): Promise<void> {
  noteCosignNoOps(cmd, (l) => process.stderr.write(l));
  const timeout = cmd.opts().timeout as string | undefined;
  const ms = timeout === undefined ? undefined : parseDuration(timeout);
  if (timeout !== undefined && ms === undefined)
    cmd.error(`error: --timeout ${timeout} is not a duration like 90s or 3m`, { exitCode: 2, code: 'keyless.usage' });
  let timer: NodeJS.Timeout | undefined;
  try {
    await (ms === undefined
      ? body()
      : Promise.race([
          body(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(Object.assign(new Error(`gave up after --timeout ${timeout}`), { code: 'TIMEOUT' })), ms);
            timer.unref();
          }),
        ]));
  } catch (e) {
    if ((e as { code?: unknown })?.code === 'TIMEOUT') {
      // Requests still in flight must not keep the process alive past its deadline.
      process.stderr.write(`error: ${printable((e as Error).message)}\n`);
      process.exit(1);
    }
    if ((e as { code?: unknown })?.code === 'USAGE') cmd.error(`error: ${(e as Error).message}`, { exitCode: 2, code: 'keyless.usage' });
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Trusted root and signing config: flag, environment, TUF cache, built-in (src/cli/trust-resolution.ts). */
export async function resolveServices(opts: {
  trustedRoot?: string | undefined;
  signingConfig?: string | undefined;
  offline?: unknown;
}): Promise<void> {
  const { resolveTrust } = await import('../trust-resolution.js');
  const offline = opts.offline === true;
  opts.signingConfig = (await resolveTrust('signing-config', opts.signingConfig, { offline })).path;
  opts.trustedRoot = (await resolveTrust('trusted-root', opts.trustedRoot, { offline })).path;
}

export function defineSignCommands(program: Command): void {
  withCosignNoOps(
    identityAndServiceFlags(
      program
        .command('sign-blob')
        .description('sign files keylessly: an ephemeral key, a certificate for your identity, a transparency-log entry, a Sigstore bundle')
        .argument('<file...>', 'files to sign')
        .option('--bundle <file>', 'write the Sigstore bundle (v0.3) to FILE (one input file)')
        .option(
          '--output-dir <dir>',
          'write DIR/<name>.sigstore.json per input file (several files, one certificate; created when missing)',
        )
        .option('--output-signature <file>', 'also write the signature, base64, to FILE (as cosign; one input file)')
        .option('--output-certificate <file>', 'also write the signing certificate, PEM, to FILE (as cosign; one input file)'),
    ),
  )
    .addHelpText('after', ENV_HELP)
    .action(async (files: string[], opts: Record<string, string | undefined>, cmd: Command) => {
      await run(cmd, async () => {
        await resolveServices(opts);
        const { signBlobCommand } = await import('./sign-blob.js');
        await signBlobCommand(files, opts);
      });
    });

  withCosignNoOps(
    identityAndServiceFlags(
      program
        .command('attest-blob')
        .description('attest a file: an in-toto v1 statement about it, signed in a DSSE envelope')
        .argument('[file]', 'the artifact the statement is about (not needed with --statement)')
        .option('--predicate <file>', 'JSON file with the predicate (or --statement)')
        .option('--statement <file>', 'sign this in-toto statement as it is, instead of building one from --predicate (cosign)')
        .option('--hash <sha256-hex>', "the artifact's SHA-256, hex: the file is then named in the statement but not read (cosign)")
        .option(
          '--type <type>',
          'predicate type: a URI, or slsaprovenance, slsaprovenance1, spdx, spdxjson, cyclonedx, link, vuln, openvex, custom',
          'custom',
        )
        .option('--bundle <file>', 'write the Sigstore bundle (v0.3) to FILE')
        .option('--output-signature <file>', 'also write the DSSE signature, base64, to FILE')
        .option('--output-certificate <file>', 'also write the signing certificate, PEM, to FILE'),
    ),
  )
    .addHelpText('after', ENV_HELP)
    .action(async (file: string | undefined, opts: Record<string, string> & { predicate?: string; type: string }, cmd: Command) => {
      await run(cmd, async () => {
        await resolveServices(opts as { trustedRoot?: string; signingConfig?: string });
        const { attestBlobCommand } = await import('./sign-blob.js');
        await attestBlobCommand(file, opts);
      });
    });

  program
    .command('sign-bundle')
    .description('sign per the Sigstore conformance CLI protocol')
    .argument('<file>', 'the artifact, or the in-toto statement with --in-toto')
    .option('--staging', 'use the Sigstore staging instance (refused: Keyless has no network access to it)')
    .option('--in-toto', 'FILE is an in-toto statement: sign it as a DSSE envelope')
    .requiredOption('--identity-token <token>', 'the OIDC identity token')
    .requiredOption('--bundle <file>', 'where to write the bundle')
    .option('--trusted-root <file>', 'TrustedRoot to verify the bundle with (env KEYLESS_TRUSTED_ROOT)')
    .option('--signing-config <file>', 'SigningConfig v0.2 that selects the services (env KEYLESS_SIGNING_CONFIG)')
    .addHelpText('after', ENV_HELP)
    .action(
      async (
        file: string,
        opts: { staging?: boolean; inToto?: boolean; identityToken: string; bundle: string; trustedRoot?: string; signingConfig?: string },
        cmd: Command,
      ) => {
        await run(cmd, async () => {
          await resolveServices(opts);
          const { signBundleCommand } = await import('./sign-blob.js');
          await signBundleCommand(file, opts);
        });
      },
    );
}
