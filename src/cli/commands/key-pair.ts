import type { Command } from 'commander';

export const PASSWORD_HELP = `
Environment:
  COSIGN_PASSWORD     password of the private key (set to the empty string for no password, as cosign)
  KEYLESS_PASSWORD    the same, when COSIGN_PASSWORD is not set

Without either, the password is asked twice on the terminal (an empty one is refused there).
The private key is PKCS#8 encrypted with PBES2 (scrypt N=16384 r=8 p=1, AES-256-CBC), mode 0600;
sign with \`keyless sign-blob --key PREFIX.key\`, verify with \`keyless verify-blob --key PREFIX.pub\`.`;

export function defineKeyPairCommands(program: Command): void {
  program
    .command('generate-key-pair')
    .description('generate an ECDSA P-256 key pair for signing without an identity provider: PREFIX.key (encrypted) and PREFIX.pub')
    .option('--output-key-prefix <prefix>', 'name of the .key and .pub files, as cosign (may include a directory)', 'cosign')
    .option('--force', 'replace existing PREFIX.key / PREFIX.pub files')
    .addHelpText('after', PASSWORD_HELP)
    .action(async (opts: { outputKeyPrefix: string; force?: boolean }) => {
      const { generateKeyPairCommand } = await import('./generate-key-pair.js');
      await generateKeyPairCommand(opts);
    });
}
