// Entry point of bin/keyless. Each command module only declares its flags with
// commander and imports its implementation lazily, so `keyless verify-bundle`
// never loads the HTTP server, the database driver or the signing client.
import { Command, CommanderError } from 'commander';
import { isKeylessError } from '../core/errors.js';
import { printable } from './printable.js';
import { defineVerifyCommands } from './commands/verify.js';
import { defineSignCommands } from './commands/sign.js';
import { defineTokenCommands } from './commands/token.js';
import { defineTrustCommands } from './commands/trust.js';
import { defineServeCommands } from './commands/serve.js';
import { defineIdpCommands } from './commands/idp.js';
import { defineImageCommands } from './commands/image.js';
import { defineMonitorCommands } from './commands/monitor.js';
import { defineTufCommands } from './commands/tuf.js';
import { defineAdminCommands } from './commands/admin.js';
import { defineCompletionCommand } from './commands/completion.js';
import { defineBundleCommands } from './commands/bundle.js';
import { addExamples } from './examples.js';
import packageJson from '../../package.json' with { type: 'json' };
import { defineStorageCommands } from './commands/storage.js';
import { redirectsStdout, withCosignGlobalFlags } from './cosign-compat.js';
import { openSync, writeSync } from 'node:fs';
import { fsProblem } from './fs-problem.js';

/** Exit statuses: 0 success, 1 a check or an operation failed, 2 usage or input error. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** A file the user named that cannot serve is an input error: exit 2, like a usage error. */
const INPUT_ERROR_CODES: ReadonlySet<string> = new Set(['FILE_UNREADABLE', 'INPUT_TOO_LARGE', 'INPUT_NOT_JSON', 'INPUT_WRONG_DOCUMENT']);

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
  .showHelpAfterError(false)
  .version(packageJson.version, '-v, --version', 'print the Keyless version');

defineVerifyCommands(program);
defineSignCommands(program);
defineTokenCommands(program);
defineTrustCommands(program);
defineServeCommands(program);
defineIdpCommands(program);
defineImageCommands(program);
defineMonitorCommands(program);
defineTufCommands(program);
defineAdminCommands(program);
defineBundleCommands(program);
defineCompletionCommand(program);
addExamples(program);
defineStorageCommands(program);
withCosignGlobalFlags(program);
// cosign's --output-file: what the command prints on standard output goes to the file.
program.hook('preAction', (_program, action) => {
  const file = redirectsStdout(action);
  if (file === undefined) return;
  let fd: number;
  try {
    fd = openSync(file, 'w', 0o644);
  } catch (e) {
    action.error(`error: cannot write --output-file ${file} (${fsProblem(e)})`, { exitCode: EXIT_USAGE, code: 'keyless.usage' });
  }
  process.stdout.write = ((chunk: string | Uint8Array, encoding?: unknown, cb?: unknown) => {
    writeSync(
      fd,
      typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : chunk,
    );
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') (done as () => void)();
    return true;
  }) as typeof process.stdout.write;
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version arrive here too, with exit code 0.
    process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
  } else if (isKeylessError(e)) {
    process.stderr.write(`error: ${printable(e.message)}\n`);
    process.exitCode = INPUT_ERROR_CODES.has(e.code) ? EXIT_USAGE : EXIT_FAILURE;
  } else {
    process.stderr.write(`error: ${printable((e as Error)?.message ?? String(e))}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}
