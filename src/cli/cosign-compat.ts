// cosign v3's deprecated flags that no longer change anything there: accepted so existing
// pipelines run unchanged, with a one-line note on stderr saying they have no effect here.
import type { Command } from 'commander';

const NO_OPS: ReadonlyArray<{ flag: string; key: string; why: string }> = [
  { flag: '--new-bundle-format', key: 'newBundleFormat', why: 'Keyless always uses the Sigstore bundle format (v0.3 when signing)' },
  { flag: '--offline', key: 'offline', why: 'Keyless always verifies offline' },
];

/** Adds the deprecated no-op flags to `cmd` (shown in -h as such). */
export function withCosignNoOps(cmd: Command): Command {
  for (const n of NO_OPS) cmd.option(n.flag, `accepted for cosign compatibility; no effect (${n.why})`);
  return cmd;
}

/** Prints one note per deprecated flag that was given. */
export function noteCosignNoOps(opts: Record<string, unknown>, write: (line: string) => void): void {
  for (const n of NO_OPS) if (opts[n.key] !== undefined) write(`note: ${n.flag} has no effect: ${n.why}\n`);
}
