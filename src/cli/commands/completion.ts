// `kubewright completion bash|zsh|fish`: shell completion generated from the command tree itself,
// so every command, subcommand, flag and flag choice is offered without a hand-kept list.
import { Argument, type Command, type Option } from 'commander';
import type { Io } from '../io.ts';

interface Node {
  path: string[];
  description: string;
  subcommands: string[];
  options: Option[];
}

function walk(c: Command, path: string[], out: Node[]): Node[] {
  const options = [...(c.options as Option[])];
  out.push({ path, description: c.description(), subcommands: c.commands.map((s) => s.name()), options });
  for (const s of c.commands) walk(s, [...path, s.name()], out);
  return out;
}

function optionWords(o: Option): string[] {
  return [o.short, o.long].filter((x): x is string => !!x);
}

/** Whether a flag's value is a path (complete file names after it). */
function takesPath(o: Option): boolean {
  return (o.required || o.optional) && /<(path|file|dir|[a-z.-]*json)>/.test(o.flags);
}

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function bashCompletion(root: Command): string {
  const nodes = walk(root, [], []);
  const words = nodes.map((n) => `    ${sq(n.path.join(' '))}) words=${sq([...n.subcommands, ...n.options.flatMap(optionWords), '--help'].join(' '))} ;;`);
  const valueCases = new Map<string, string>();
  for (const n of nodes) {
    for (const o of n.options) {
      const flags = optionWords(o);
      if (flags.length === 0) continue;
      if (o.argChoices) valueCases.set(flags.join('|'), `COMPREPLY=($(compgen -W ${sq(o.argChoices.join(' '))} -- "$cur")); return ;;`);
      else if (takesPath(o) && !valueCases.has(flags.join('|'))) valueCases.set(flags.join('|'), 'COMPREPLY=($(compgen -f -- "$cur")); return ;;');
      else if ((o.required || o.optional) && !valueCases.has(flags.join('|'))) valueCases.set(flags.join('|'), 'return ;;');
    }
  }
  const known = nodes.map((n) => n.path.join(' '));
  return `# kubewright completion for bash: source <(kubewright completion bash)
_kubewright() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" w i words
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    case " ${known.map((k) => k.replace(/ /g, '_')).join(' ')} " in
      *" \${path:+\${path// /_}_}$w "*) path="\${path:+$path }$w" ;;
    esac
  done
  if [[ $COMP_CWORD -gt 1 ]]; then
    case "$prev" in
${[...valueCases].map(([flags, body]) => `      ${flags}) ${body}`).join('\n')}
    esac
  fi
  case "$path" in
${words.join('\n')}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _kubewright kubewright
`;
}

export function zshCompletion(root: Command): string {
  return `#compdef kubewright
# kubewright completion for zsh: source <(kubewright completion zsh)  (uses zsh's bash completion layer)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(root).split('\n').slice(1).join('\n')}`;
}

export function fishCompletion(root: Command): string {
  const nodes = walk(root, [], []);
  const lines = ['# kubewright completion for fish: kubewright completion fish | source', 'complete -c kubewright -f'];
  for (const n of nodes) {
    // the condition: this node's path has been typed, and none of its subcommands yet
    const seen = n.path.map((p) => `__fish_seen_subcommand_from ${p}`);
    const notYet = n.subcommands.length ? [`not __fish_seen_subcommand_from ${n.subcommands.join(' ')}`] : [];
    const cond = n.path.length === 0 ? '__fish_use_subcommand' : [...seen, ...notYet].join('; and ');
    for (const s of n.subcommands) {
      const child = nodes.find((c) => c.path.join(' ') === [...n.path, s].join(' '));
      lines.push(`complete -c kubewright -n ${sq(cond)} -a ${sq(s)} -d ${sq((child?.description ?? '').slice(0, 80))}`);
    }
    for (const o of n.options) {
      const parts = ['complete -c kubewright', `-n ${sq(cond)}`];
      if (o.short) parts.push(`-s ${o.short.slice(1)}`);
      if (o.long) parts.push(`-l ${o.long.slice(2)}`);
      if (o.required || o.optional) parts.push(o.argChoices ? `-x -a ${sq(o.argChoices.join(' '))}` : takesPath(o) ? '-r -F' : '-x');
      parts.push(`-d ${sq(o.description.slice(0, 80))}`);
      lines.push(parts.join(' '));
    }
  }
  return `${lines.join('\n')}\n`;
}

export function registerCompletion(program: Command, io: Io): void {
  program
    .command('completion')
    .description('print a shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Examples:
  source <(kubewright completion bash)                       # bash, now; add it to ~/.bashrc to keep it
  kubewright completion zsh > "\${fpath[1]}/_kubewright"      # zsh
  kubewright completion fish > ~/.config/fish/completions/kubewright.fish
`,
    )
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      // the whole command tree (the CLI loads only the invoked command otherwise)
      const { buildProgram } = await import('../program.ts');
      const root = await buildProgram({ out: () => undefined, err: () => undefined });
      const script = shell === 'bash' ? bashCompletion(root) : shell === 'zsh' ? zshCompletion(root) : fishCompletion(root);
      io.out(script.trimEnd());
    });
}
