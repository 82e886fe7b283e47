// `keyless completion bash|zsh|fish`: a completion script generated from the commands and
// flags commander knows, so it never drifts from the CLI.
import type { Command } from 'commander';

interface Entry {
  path: string[];
  flags: string[];
  subcommands: string[];
}

function walk(cmd: Command, path: string[], out: Entry[]): void {
  const visible = cmd.commands.filter((c) => c.name() !== 'help');
  out.push({
    path,
    flags: cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => typeof f === 'string')).concat('--help'),
    subcommands: visible.map((c) => c.name()),
  });
  for (const c of visible) walk(c, [...path, c.name()], out);
}

function bash(entries: Entry[]): string {
  const cases = entries.map((e) => `    "${e.path.join(' ')}") words="${[...e.subcommands, ...e.flags].join(' ')}" ;;`).join('\n');
  return `# keyless bash completion: eval "$(keyless completion bash)"
_keyless() {
  local cur path="" i w
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    case " $(_keyless_words "\${path# }") " in *" $w "*) path="$path $w" ;; esac
  done
  COMPREPLY=($(compgen -W "$(_keyless_words "\${path# }")" -- "$cur"))
  [[ \${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
}
_keyless_words() {
  local words=""
  case "$1" in
${cases}
  esac
  echo "$words"
}
complete -o filenames -F _keyless keyless
`;
}

function zsh(entries: Entry[]): string {
  return `#compdef keyless
# keyless zsh completion: eval "$(keyless completion zsh)"
autoload -U +X bashcompinit && bashcompinit
${bash(entries).split('\n').slice(1).join('\n')}`;
}

function fish(entries: Entry[]): string {
  const lines = ['# keyless fish completion: keyless completion fish | source'];
  for (const e of entries) {
    const cond = e.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${e.path[e.path.length - 1]}`;
    for (const s of e.subcommands) lines.push(`complete -c keyless -n '${cond}' -a '${s}'`);
    for (const f of e.flags.filter((x) => x.startsWith('--'))) lines.push(`complete -c keyless -n '${cond}' -l '${f.slice(2)}'`);
  }
  return `${lines.join('\n')}\n`;
}

export function defineCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText('after', '\nExample:\n  eval "$(keyless completion bash)"        # add to ~/.bashrc\n  keyless completion fish | source')
    .action((shell: string) => {
      const entries: Entry[] = [];
      walk(program, [], entries);
      const make = { bash, zsh, fish }[shell as 'bash' | 'zsh' | 'fish'];
      if (!make) program.error(`error: completion: unknown shell ${JSON.stringify(shell)} (bash, zsh or fish)`, { exitCode: 2 });
      process.stdout.write(make(entries));
    });
}
