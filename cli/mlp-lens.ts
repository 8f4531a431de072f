// `mlp-lens`: the command line, one program with subcommands.
//   mlp-lens [options]               train (the same as `mlp-lens train`)
//   mlp-lens train [options]         train an MLP on MNIST with recording on, write a run directory
//   mlp-lens analyze RUN|FILE …      the post-training analyses of a saved model
//   mlp-lens report RUN …            (re)build RUN/report.html from the saved run
//   mlp-lens dynamics RUN …          training dynamics from RUN/stats/
// Each subcommand is a module with `main(argv): Promise<exit code>`, imported only when it runs.
import process from 'node:process';

type Main = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ main: Main }> }> = {
  train: { summary: 'train an MLP on MNIST, every activation and gradient recorded; writes a run directory (the default)', load: async () => { const { main } = await import('./train.ts'); return { main: (argv) => main(argv, 'mlp-lens [train]') }; } },
  analyze: { summary: 'run the post-training analyses on a saved model (RUN_DIR or model.safetensors)', load: () => import('./analyze.ts') },
  report: { summary: '(re)build RUN_DIR/report.html and figures/ from a saved run', load: () => import('./report.ts') },
  dynamics: { summary: 'print the training dynamics of a saved run from its stats/ (--csv DIR for tables)', load: () => import('./dynamics.ts') },
};

export const HELP = `usage: mlp-lens [command] [options]

Trains small MLPs on MNIST with a hand-written tensor engine (CPU or WebGPU) and looks inside them.

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`).join('\n')}

With no command, mlp-lens trains: \`mlp-lens --epochs 1\` is \`mlp-lens train --epochs 1\`.
\`mlp-lens COMMAND --help\` lists a command's options.
`;

/** runs one command line (without the program name); resolves to the exit code */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    if (first === 'help' && rest.length) return main([rest[0], '--help']);
    process.stdout.write(HELP);
    return 0;
  }
  if (first === undefined || first.startsWith('-')) return (await COMMANDS.train.load()).main(argv);
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!command) {
    process.stderr.write(`error: unknown command '${first}'\n\n${HELP}`);
    return 2;
  }
  return (await command.load()).main(rest);
}
