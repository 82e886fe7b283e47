// cosign v3's deprecated flags that no longer change anything there: accepted so existing
// pipelines run unchanged, with a one-line note on stderr saying they have no effect here.
import type { Command } from 'commander';

const NO_OPS: ReadonlyArray<{ flag: string; key: string; why: string }> = [
  { flag: '--new-bundle-format', key: 'newBundleFormat', why: 'Keyless always uses the Sigstore bundle format (v0.3 when signing)' },
];

const DESCRIPTION = 'accepted for cosign compatibility; no effect';

/** Adds the deprecated no-op flags to `cmd` (shown in -h as such), except those `cmd` gives a meaning. */
export function withCosignNoOps(cmd: Command): Command {
  for (const n of NO_OPS) {
    if (!cmd.options.some((o) => o.long === n.flag)) cmd.option(n.flag, `${DESCRIPTION} (${n.why})`);
  }
  return cmd;
}

/** Prints one note per deprecated flag that was given where it is a no-op. */
export function noteCosignNoOps(cmd: Command, write: (line: string) => void): void {
  const opts = cmd.opts();
  for (const n of NO_OPS) {
    const option = cmd.options.find((o) => o.long === n.flag);
    if (option?.description.startsWith(DESCRIPTION) && opts[n.key] !== undefined) write(`note: ${n.flag} has no effect: ${n.why}\n`);
  }
}

/** A command that runs something (not a group of subcommands). */
function leaves(cmd: Command): Command[] {
  return cmd.commands.length === 0 ? [cmd] : cmd.commands.flatMap(leaves);
}

const OUTPUT_FILE_DESCRIPTION = 'write standard output to FILE instead (cosign)';

/**
 * cosign's global flags, on every command that has none of its own by those names:
 * `--output-file FILE` (standard output goes to FILE) and `-d, --verbose` (debug detail on stderr).
 */
export function withCosignGlobalFlags(program: Command): void {
  for (const cmd of program.commands.flatMap(leaves)) {
    if (!cmd.options.some((o) => o.long === '--output-file')) cmd.option('--output-file <file>', OUTPUT_FILE_DESCRIPTION);
    if (!cmd.options.some((o) => o.long === '--verbose' || o.short === '-d'))
      cmd.option('-d, --verbose', 'print debug detail on stderr (cosign)');
  }
}

/** Whether `cmd`'s --output-file is the global one (standard output redirected), not a command's own. */
export function redirectsStdout(cmd: Command): string | undefined {
  const option = cmd.options.find((o) => o.long === '--output-file');
  const file = cmd.opts().outputFile as string | undefined;
  return option?.description === OUTPUT_FILE_DESCRIPTION ? file : undefined;
}
