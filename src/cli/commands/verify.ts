import { InvalidArgumentError, type Command } from 'commander';
import type { VerifyCommandOptions } from './verify-command.js';
import { noteCosignNoOps, withCosignNoOps } from '../cosign-compat.js';

/** Flags shared by the three verify commands (cosign's names). */
function withPolicyFlags(cmd: Command): Command {
  return identityPolicyFlags(withCosignNoOps(cmd).option('--bundle <file>', 'the Sigstore bundle to verify'))
    .option(
      '--trusted-root <file>',
      'TrustedRoot JSON (default: KEYLESS_TRUSTED_ROOT, then the TUF cache of keyless initialize, then the built-in Sigstore production root)',
    )
    .option('--offline', 'use the TUF cache without asking its mirror')
    .option('--json', 'print a JSON report of every check')
    .option(
      '--insecure-ignore-tlog',
      'do not require a transparency-log entry (entries present are still checked); without --use-signed-timestamps and without any verified time, the certificate is checked at the current time (cosign)',
    )
    .option('--insecure-ignore-sct', 'do not require an embedded SCT in the certificate (cosign)')
    .option('--use-signed-timestamps', 'require an RFC 3161 timestamp from a trusted TSA (cosign)')
    .option('--allow-certificate-chain', 'accept an X.509 certificate chain in a v0.3 bundle (cosign)');
}

/** Who must have signed: cosign's identity flags, also used by the image commands. */
export function identityPolicyFlags(cmd: Command): Command {
  return cmd
    .option('--certificate-identity <identity>', 'expected certificate identity (SAN), exact match')
    .option(
      '--certificate-identity-regexp <regexp>',
      'RE2 regular expression (as cosign) the whole identity must match; cosign matches any part, Keyless the whole value',
    )
    .option('--certificate-oidc-issuer <url>', 'expected OIDC issuer, exact match')
    .option('--certificate-oidc-issuer-regexp <regexp>', 'RE2 regular expression (as cosign) the whole issuer must match')
    .option('--certificate-github-workflow-trigger <event>', 'expected GitHub workflow trigger (certificate extension)')
    .option('--certificate-github-workflow-sha <sha>', 'expected GitHub workflow commit SHA')
    .option('--certificate-github-workflow-name <name>', 'expected GitHub workflow name')
    .option('--certificate-github-workflow-repository <owner/repo>', 'expected GitHub workflow repository')
    .option('--certificate-github-workflow-ref <ref>', 'expected GitHub workflow ref')
    .option('--key <file>', 'PEM public key for bundles signed with a managed key');
}

/** verify-blob and verify-blob-attestation: many files in one process (./verify-many.ts). */
function withBatchFlags(cmd: Command): Command {
  return cmd
    .option('--bundle-dir <dir>', 'verify several files: the bundle for FILE is DIR/<name of FILE>.sigstore.json (or .sigstore, .bundle)')
    .option('--manifest <file>', 'verify the files a manifest lists, one "ARTIFACT [BUNDLE]" per line (paths relative to the manifest)')
    .option('--jobs <n>', 'with several files: verification threads (default: one per core; 1 verifies in the main thread)');
}

/** cosign's boolean flag values (Go's strconv.ParseBool), for `--check-claims=false`. */
function parseBoolean(value: string): boolean {
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new InvalidArgumentError('give true or false, as in --check-claims=false (a file goes before the flag)');
}

async function run(
  files: string | string[],
  options: VerifyCommandOptions & { offline?: boolean; bundleDir?: string; manifest?: string; jobs?: string },
  kind: 'bundle' | 'blob' | 'attestation',
  cmd?: Command,
): Promise<void> {
  const artifacts = typeof files === 'string' ? [files] : files;
  const batch = kind !== 'bundle' && (artifacts.length > 1 || options.bundleDir !== undefined || options.manifest !== undefined);
  // An attestation may be checked against a subject's digest instead of a file, or not against any (cosign).
  const fileOptional = kind === 'attestation' && (options.digest !== undefined || options.checkClaims === false);
  if (!batch && (options.bundle === undefined || artifacts.length > 1 || (artifacts.length === 0 && !fileOptional))) {
    cmd?.error(
      options.bundle !== undefined && artifacts.length === 0
        ? `error: give the file to verify${kind === 'attestation' ? ', or --digest HEX --digestAlg ALG' : ''} (or --manifest FILE)`
        : `error: give --bundle FILE${kind === 'bundle' ? '' : ' (or --bundle-dir DIR or --manifest FILE for several files)'}`,
      { exitCode: 2, code: 'keyless.usage' },
    );
  }
  // The trusted root (flag, environment, TUF cache, built-in) is resolved while the verifier
  // loads: a TUF refresh gets its requests written first, so the mirror answers while the
  // verifier compiles.
  const verifyLoader = import('./verify-loader.js');
  verifyLoader.catch(() => {}); // awaited below
  // A batch's worker threads start now: they load the verifier on the other cores while this thread does.
  const workers = batch
    ? import('./verify-files-pool.js').then(({ startWorkersEarly }) => startWorkersEarly(options, artifacts.length))
    : undefined;
  workers?.catch(() => {}); // awaited below
  let trust: Promise<{ path: string | undefined }> | undefined;
  if (options.trustedRoot === undefined) {
    const { resolveTrust, tufRequestsSent } = await import('../trust-resolution.js');
    trust = resolveTrust('trusted-root', undefined, { offline: options.offline === true });
    trust.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
    await tufRequestsSent();
  }
  // Loaded only when a verify command runs, so other commands never pay for it.
  if (cmd) noteCosignNoOps(cmd, (l) => process.stderr.write(l));
  const { loadVerifyCommand } = await verifyLoader;
  const loaded = await loadVerifyCommand();
  if (trust) options.trustedRoot = (await trust).path;
  if (batch) {
    const { runVerifyMany } = await import('./verify-many.js');
    process.exitCode = await runVerifyMany(artifacts, options, kind === 'attestation' ? 'attestation' : 'blob', await workers);
    return;
  }
  process.exitCode = await loaded.module.runVerifyCommand(artifacts[0], options, kind);
  loaded.done();
}

/** verify-bundle (the conformance protocol), verify-blob and verify-blob-attestation. */
export function defineVerifyCommands(program: Command): void {
  withPolicyFlags(
    program
      .command('verify-bundle')
      .description('verify a bundle for a file or a sha256:<hex> digest (sigstore-conformance protocol)')
      .argument('<file-or-digest>', 'the artifact, or sha256:<64 hex> when no such file exists')
      .option('--staging', 'accepted for the conformance protocol; needs --trusted-root (verification is offline)'),
  ).action((artifact: string, options: VerifyCommandOptions, cmd: Command) => run(artifact, options, 'bundle', cmd));

  withBatchFlags(
    withPolicyFlags(
      program
        .command('verify-blob')
        .description('verify a bundle for a file, or the bundles of many files (--bundle-dir, --manifest)')
        .argument('[file...]', 'the signed file (- for standard input), or several with --bundle-dir'),
    ),
  ).action((files: string[], options: VerifyCommandOptions, cmd: Command) => run(files, options, 'blob', cmd));

  withBatchFlags(
    withPolicyFlags(
      program
        .command('verify-blob-attestation')
        .description('verify an in-toto attestation bundle for a file (a subject of the statement)')
        .argument(
          '[file-or-digest...]',
          'the attested file, or sha256:<64 hex> of a subject when no such file exists; several with --bundle-dir',
        )
        .option(
          '--type <predicate-type>',
          'expected predicate type: a URI or a cosign short name (slsaprovenance, spdxjson, cyclonedx, vuln, custom = https://cosign.sigstore.dev/attestation/v1, ...)',
          'custom',
        )
        .option('--digest <hex>', 'verify against this hex digest of a subject instead of a file (cosign); needs --digestAlg')
        .option(
          '--digestAlg <algorithm>',
          'the algorithm of --digest: sha256, sha384 or sha512; with a file, the one a large file is hashed with',
        )
        .option(
          '--check-claims [bool]',
          "match the statement's subjects against the file or --digest; --check-claims=false verifies the DSSE envelope, its signer and predicate type only, with no file (cosign)",
          parseBoolean,
          true,
        ),
    ),
  ).action((files: string[], options: VerifyCommandOptions, cmd: Command) => run(files, options, 'attestation', cmd));
}
