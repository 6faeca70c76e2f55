/**
 * The `daqs` command line. Each subcommand lives in its own module under ./commands, declared
 * with ./define.ts, and is imported only when it runs: `daqs --help` and `daqs --version`
 * load none of them. process.argv and the console are touched only here, at the edge.
 */
import { daqsVersion } from '../server/version.ts';
import { defineCommand, UsageError, type Command } from './define.ts';

export { UsageError } from './define.ts';

/** A subcommand: its line in `daqs --help`, and how to load it. */
export interface CommandEntry {
  /** One line for `daqs --help`. */
  readonly summary: string;
  /** Imports the module; its `run` is the Command made by defineCommand. */
  readonly load: () => Promise<{ readonly run: Command }>;
}

/** Every subcommand. Adding one: a module under ./commands and one line here. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  run: { summary: 'run the daemon in the foreground (--check: validate the config and exit)', load: () => import('./commands/run.ts') },
  status: { summary: "show what the running daemon sees: each VM's guarantee, rate, demand and cap, and the port", load: () => import('./commands/status.ts') },
  plan: { summary: 'show the caps a policy would set for given rates, touching no VM', load: () => import('./commands/plan.ts') },
  schema: { summary: 'print the JSON Schema of the configuration file', load: () => import('./commands/schema.ts') },
  agent: { summary: "query a VM's guest agent: capabilities, VF TX rate, the tc cap in force (or set it)", load: () => import('./commands/agent.ts') },
  testbed: { summary: 'bring the emulated SR-IOV host (namespaces, qemu-ga per VM, shaped port) up, show it, take it down', load: () => import('./commands/testbed.ts') },
  experiment: { summary: "run the experiments (contention, adaptability, multi, churn) for every policy on an emulated host", load: () => import('./commands/experiment.ts') },
  demo: { summary: 'the main job: daqs on the emulated host through the adaptability scenario, with a live view and a report (~3 min)', load: () => import('./commands/demo.ts') },
  version: { summary: 'print the version of daqs (also: daqs --version)', load: () => Promise.resolve({ run: versionCommand }) },
};

const versionCommand: Command = defineCommand({ name: 'version', description: "Prints daqs's version (package.json).", options: {} }, async (_input, io) => {
  io.out(daqsVersion());
  return 0;
});

/** `daqs --help`: the command list, from the table above (no module is loaded). */
export function renderHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  return [
    'usage: daqs <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    `Run \`daqs <command> --help\` for the options of one command. daqs ${daqsVersion()}.`,
  ].join('\n');
}

/** Entry point used by bin/daqs.js; sets process.exitCode. */
export async function runMain(argv: readonly string[]): Promise<void> {
  let [name, ...rest] = argv;
  if (name === '--version' || name === '-V') name = 'version';
  if (name === 'help' && rest[0] !== undefined && rest[0] in COMMANDS) [name, rest] = [rest[0], ['--help']];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    // No command at all is a mistake (exit 2); asking for help is not.
    (name === undefined ? console.error : console.log)(renderHelp());
    process.exitCode = name === undefined ? 2 : 0;
    return;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    console.error(`daqs: unknown command ${JSON.stringify(name)}. Commands: ${Object.keys(COMMANDS).join(', ')} (daqs --help).`);
    process.exitCode = 2;
    return;
  }
  try {
    const { run } = await entry.load();
    process.exitCode = await run(rest);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err instanceof UsageError) {
      console.error(`daqs ${name}: ${err.message}${err.usage ? `\n\n${err.usage}` : ''}`);
    } else if (typeof err.code === 'string' && err.code.startsWith('E_')) {
      console.error(`daqs ${name}: ${err.message}`);
    } else {
      console.error(`daqs ${name}: unexpected error:`, err);
    }
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
