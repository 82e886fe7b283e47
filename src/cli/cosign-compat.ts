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
