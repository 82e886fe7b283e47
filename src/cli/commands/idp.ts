import type { Command } from 'commander';

/** Declares this group's commands; the owner of this file fills it in. */
export function defineIdpCommands(program: Command): void {
  void program;
}
