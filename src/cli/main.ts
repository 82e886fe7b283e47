// Entry point of bin/keyless. Each command module only declares its flags with
// commander and imports its implementation lazily, so `keyless verify-bundle`
// never loads the HTTP server, the database driver or the signing client.
import { Command, CommanderError } from 'commander';
import { isKeylessError } from '../core/errors.js';
import { defineVerifyCommands } from './commands/verify.js';
import { defineSignCommands } from './commands/sign.js';
import { defineTokenCommands } from './commands/token.js';
import { defineTrustCommands } from './commands/trust.js';
import { defineServeCommands } from './commands/serve.js';
import { defineIdpCommands } from './commands/idp.js';
import { defineStorageCommands } from './commands/storage.js';

/** Exit statuses: 0 success, 1 verification or operational failure, 2 usage error. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

// A reader that stops early (`keyless … --help | head`) is not an error of ours: exit
// quietly instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const program = new Command('keyless')
  .description('Keyless code signing, the Sigstore way')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  .showHelpAfterError(false);

defineVerifyCommands(program);
defineSignCommands(program);
defineTokenCommands(program);
defineTrustCommands(program);
defineServeCommands(program);
defineIdpCommands(program);
defineStorageCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version arrive here too, with exit code 0.
    process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
  } else if (isKeylessError(e)) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exitCode = EXIT_FAILURE;
  } else {
    process.stderr.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}
