/**
 * The `daqs` command line. Each subcommand lives in its own module under ./commands and is
 * loaded only when used, so `daqs status` does not pay for the experiment harness.
 * process.argv and the console are touched only here, at the edge.
 */

/** What a subcommand module exports. */
export interface CommandModule {
  /** One line for `daqs --help`. */
  readonly summary: string;
  /** Runs the command with its own arguments; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

/** An error the CLI prints as one clear line (no stack trace) before exiting non-zero. */
export class UsageError extends Error {
  readonly code = 'E_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// One line per subcommand; the module is imported only when that command runs.
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  run: () => import('./commands/run.ts'),
  plan: () => import('./commands/plan.ts'),
  schema: () => import('./commands/schema.ts'),
  status: () => import('./commands/status.ts'),
  experiment: () => import('./commands/experiment.ts'),
  testbed: () => import('./commands/testbed.ts'),
  demo: () => import('./commands/demo.ts'),
  agent: () => import('./commands/agent.ts'),
};

async function renderHelp(): Promise<string> {
  const lines = ['usage: daqs <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const summary = await load().then((m) => m.summary, () => '(not available in this build)');
    lines.push(`  ${name.padEnd(11)} ${summary}`);
  }
  lines.push('', 'Run `daqs <command> --help` for the options of one command.');
  return lines.join('\n');
}

/** Entry point used by bin/daqs.js; sets process.exitCode. */
export async function runMain(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await renderHelp());
    process.exitCode = name ? 0 : 2;
    return;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`daqs: unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')}.`);
    process.exitCode = 2;
    return;
  }
  try {
    const mod = await load();
    process.exitCode = await mod.run(rest);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err instanceof UsageError || (typeof err.code === 'string' && err.code.startsWith('E_'))) {
      console.error(`daqs ${name}: ${err.message}`);
    } else {
      console.error(`daqs ${name}: unexpected error:`, err);
    }
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
