// `keyless sign|attest|verify|verify-attestation|tree IMAGE`: cosign's image commands and
// flags. The implementation (image-sign-run.ts, image-verify-run.ts) is loaded only when one runs.
import { Command, Option } from 'commander';
import { ENV_HELP, identityAndServiceFlags, resolveServices, run } from './sign.js';
import { identityPolicyFlags } from './verify.js';

const REGISTRY_HELP = `
Registry credentials: --registry-username/--registry-password, --registry-token, or what
\`docker login\` stored in $DOCKER_CONFIG/config.json (~/.docker/config.json), including
credsStore/credHelpers. Loopback registries (localhost, 127.0.0.0/8, [::1]) are reached
over plain HTTP; others only with --allow-http-registry.
COSIGN_REPOSITORY (or KEYLESS_REPOSITORY) stores and looks up signatures in another repository.`;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function registryFlags(cmd: Command): Command {
  return cmd
    .option('--registry-username <name>', 'registry user name (Basic auth or the token flow)')
    .option('--registry-password <password>', 'registry password')
    .option('--registry-token <token>', 'registry bearer token, sent as it is')
    .option('--allow-http-registry', 'allow plain HTTP to registries that are not on loopback')
    .option('--allow-insecure-registry', 'skip the TLS certificate check of the registry');
}

function signFlags(cmd: Command): Command {
  return registryFlags(identityAndServiceFlags(cmd))
    .option('-a, --annotations <key=value>', 'annotation to sign with the image (repeatable)', collect)
    .option('--recursive', 'for an image index: sign the index and every platform manifest')
    .addOption(
      new Option(
        '--new-bundle-format [bool]',
        'push a Sigstore bundle as an OCI referrer (default); =false writes the legacy .sig/.att tags',
      ).default('true'),
    )
    .addOption(new Option('--upload [bool]', 'push the signature to the registry; =false only writes --bundle').default('true'))
    .option('--bundle <file>', 'also write the bundle to FILE (one image)');
}

function verifyFlags(cmd: Command): Command {
  return registryFlags(
    identityPolicyFlags(cmd)
      .option(
        '--trusted-root <file>',
        'TrustedRoot JSON (default: KEYLESS_TRUSTED_ROOT, then the TUF cache of keyless initialize, then the built-in Sigstore production root)',
      )
      .option('--offline', 'use the TUF cache without asking its mirror'),
  )
    .option('-a, --annotations <key=value>', 'annotation the signature must carry (repeatable)', collect)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--verbose', 'say which candidates were found and why each failed')
    .option('-t, --timeout <duration>', 'give up after this long, e.g. 90s, 3m (default 3m)', '3m');
}

export function defineImageCommands(program: Command): void {
  signFlags(
    program
      .command('sign')
      .description('sign container images in an OCI registry (the manifest digest each reference resolves to)')
      .argument('<image...>', 'image references: registry/repository[:tag][@sha256:…]'),
  )
    .addHelpText('after', ENV_HELP + REGISTRY_HELP)
    .action(async (images: string[], opts: Record<string, unknown>, cmd: Command) => {
      await run(cmd, async () => {
        // Trust as sign-blob resolves it: flag, environment, TUF cache, built-in.
        await resolveServices(opts);
        const { signImageCommand } = await import('./image-sign-run.js');
        await signImageCommand(images, opts);
      });
    });

  signFlags(
    program
      .command('attest')
      .description('attest a container image: an in-toto v1 statement about its digest, signed and attached')
      .argument('<image...>', 'image references')
      .requiredOption('--predicate <file>', 'JSON file with the predicate')
      .option(
        '--type <type>',
        'predicate type: a URI or slsaprovenance, slsaprovenance1, spdx, spdxjson, cyclonedx, link, vuln, openvex, custom',
        'custom',
      ),
  )
    .addHelpText('after', ENV_HELP + REGISTRY_HELP)
    .action(async (images: string[], opts: Record<string, unknown>, cmd: Command) => {
      await run(cmd, async () => {
        // Trust as sign-blob resolves it: flag, environment, TUF cache, built-in.
        await resolveServices(opts);
        const { signImageCommand } = await import('./image-sign-run.js');
        await signImageCommand(images, opts, { predicate: opts.predicate as string, type: opts.type as string });
      });
    });

  verifyFlags(
    program
      .command('verify')
      .description('verify the signatures attached to a container image (exit 0 when at least one verifies)')
      .argument('<image>', 'image reference'),
  )
    .addHelpText('after', REGISTRY_HELP)
    .action(async (image: string, opts: Record<string, unknown>, cmd: Command) => {
      await run(cmd, async () => {
        const { verifyImageCommand } = await import('./image-verify-run.js');
        process.exitCode = await verifyImageCommand(image, opts, 'signature');
      });
    });

  verifyFlags(
    program
      .command('verify-attestation')
      .description('verify the in-toto attestations attached to a container image')
      .argument('<image>', 'image reference')
      .option('--type <type>', 'expected predicate type: a URI or a cosign short name'),
  )
    .addHelpText('after', REGISTRY_HELP)
    .action(async (image: string, opts: Record<string, unknown>, cmd: Command) => {
      await run(cmd, async () => {
        const { verifyImageCommand } = await import('./image-verify-run.js');
        process.exitCode = await verifyImageCommand(image, opts, 'attestation');
      });
    });

  registryFlags(
    program
      .command('tree')
      .description('list what is attached to a container image: signatures, attestations, other referrers')
      .argument('<image>', 'image reference')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
      .option('-t, --timeout <duration>', 'give up after this long (default 3m)', '3m'),
  )
    .addHelpText('after', REGISTRY_HELP)
    .action(async (image: string, opts: Record<string, unknown>, cmd: Command) => {
      await run(cmd, async () => {
        const { treeCommand } = await import('./image-verify-run.js');
        await treeCommand(image, opts);
      });
    });
}
