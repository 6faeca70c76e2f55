/**
 * How a daqs command declares its command line: one table of options (and the positional
 * arguments) from which node:util parseArgs gets its configuration, the usage text is
 * generated and every value is converted (rates, numbers, choices) with an error naming the
 * option. Every command gets `-h, --help`. Errors are UsageError: the CLI prints the message
 * and the usage and exits 2.
 */
import { parseArgs } from 'node:util';

/** A command-line mistake: printed as one line plus the command's usage, exit code 2. */
export class UsageError extends Error {
  readonly code = 'E_USAGE';
  /** The usage of the command it happened in (set by the command runner when not given). */
  usage: string | undefined;
  constructor(message: string, usage?: string) {
    super(message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

/** Where a command writes; the CLI passes the console, tests pass collectors. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** The process's stdout and stderr, one line per call. */
export const consoleIo: CommandIo = { out: (t) => console.log(t), err: (t) => console.error(t) };

interface OptionBase {
  /** One letter: `-c` for `--config`. */
  readonly short?: string;
  /** What the option does, for the usage; a long text is wrapped. */
  readonly help: string;
}

/** `--json`: true when given. */
export interface FlagOption extends OptionBase {
  readonly type: 'boolean';
}

/** `--config FILE`: a value, converted by `parse` (which throws an Error saying what is wrong). */
export interface ValueOption<T = unknown> extends OptionBase {
  readonly type: 'string';
  /** The value's placeholder in the usage: FILE, RATE, N. */
  readonly value: string;
  /** Converts the text; its Error's message names the value and the rule ("abc" is not ...). */
  readonly parse?: (text: string) => T;
  /** Used when the option is absent, parsed like a given value, shown in the usage. */
  readonly default?: string;
  /** Absent is an error. */
  readonly required?: boolean;
  /** May be given several times; the value is the list. */
  readonly multiple?: boolean;
}

/** One row of a command's option table. */
export type OptionSpec = FlagOption | ValueOption;

/** A positional argument: a name for the usage, or a fixed set of choices (an action). */
export interface ArgSpec {
  /** As the usage and errors call it: `action`, `scenario`, `RATE|none`. */
  readonly name: string;
  /** The allowed words and what each does; absent means any text. */
  readonly choices?: Readonly<Record<string, string>>;
  /** What it is, for the usage (arguments without choices). */
  readonly help?: string;
  /** May be left out (only at the end). */
  readonly optional?: boolean;
}

/** What a command says about itself. */
export interface CommandSpec<O extends Readonly<Record<string, OptionSpec>>> {
  /** `plan` for `daqs plan`. */
  readonly name: string;
  /** Paragraphs after the usage line: what the command does, examples. */
  readonly description?: string;
  readonly args?: readonly ArgSpec[];
  readonly options: O;
}

type Parsed<S> = S extends { parse: (text: string) => infer T } ? T : string;
type ValueOf<S> = S extends { type: 'boolean' }
  ? boolean
  : S extends { multiple: true }
    ? Parsed<S>[]
    : S extends { required: true } | { default: string }
      ? Parsed<S>
      : Parsed<S> | undefined;

/** The converted option values of a command, typed from its table. */
export type OptionValues<O> = { readonly [K in keyof O]: ValueOf<O[K]> };

/** What a command's body gets. */
export interface CommandInput<O> {
  readonly values: OptionValues<O>;
  /** The positional arguments, checked against the spec (count and choices). */
  readonly args: readonly string[];
  /** The generated usage text (for messages that show it). */
  readonly usage: string;
}

/** A defined command: run it with its arguments (after the command name); resolves to the exit code. */
export type Command = ((args: readonly string[], io?: CommandIo) => Promise<number>) & {
  /** The generated usage text. */
  readonly usage: string;
};

/** A command made by defineCommand, which can also only parse (for tests of its checks). */
export type DefinedCommand<O> = Command & {
  /** Parses and converts like a run, without running: 'help' for --help; throws UsageError. */
  parse(args: readonly string[]): 'help' | CommandInput<O>;
};

/**
 * Defines a command from its table and its body. The result parses strictly (unknown option,
 * missing value, bad value, wrong positionals: UsageError carrying the usage), answers
 * `--help`, then runs the body with converted values.
 */
export function defineCommand<const O extends Readonly<Record<string, OptionSpec>>>(
  spec: CommandSpec<O>,
  body: (input: CommandInput<O>, io: CommandIo) => Promise<number>,
): DefinedCommand<O> {
  if ('help' in spec.options) throw new Error(`daqs ${spec.name}: --help is added to every command; remove it from the table`);
  const usage = renderUsage(spec);
  const withUsage = (err: unknown): unknown => {
    if (err instanceof UsageError && err.usage === undefined) err.usage = usage;
    return err;
  };
  const parse = (argv: readonly string[]): 'help' | CommandInput<O> => {
    try {
      const parsed = parseCommandLine(spec, argv);
      return parsed === 'help' ? parsed : { ...parsed, usage };
    } catch (err) {
      throw withUsage(err);
    }
  };
  const runCommand = async (argv: readonly string[], io: CommandIo = consoleIo): Promise<number> => {
    const input = parse(argv);
    if (input === 'help') {
      io.out(usage);
      return 0;
    }
    try {
      return await body(input, io);
    } catch (err) {
      throw withUsage(err);
    }
  };
  return Object.assign(runCommand, { usage, parse });
}

function parseCommandLine<O extends Readonly<Record<string, OptionSpec>>>(spec: CommandSpec<O>, argv: readonly string[]): 'help' | { values: OptionValues<O>; args: string[] } {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec.options)) {
    config[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.type === 'string' && o.multiple ? { multiple: true } : {}) };
  }
  let raw: Record<string, string | boolean | (string | boolean)[] | undefined>;
  let positionals: string[];
  try {
    ({ values: raw, positionals } = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: true }));
  } catch (err) {
    // Node adds advice about '--' for values that start with '-': not what a daqs user needs.
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (raw.help === true) return 'help';

  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const given = raw[name];
    if (o.type === 'boolean') {
      values[name] = given === true;
      continue;
    }
    const texts = given === undefined ? (o.default !== undefined ? [o.default] : []) : Array.isArray(given) ? given.map(String) : [String(given)];
    if (texts.length === 0 && o.required) throw new UsageError(`--${name} ${o.value} is required`);
    const converted = texts.map((text) => convert(name, o, text));
    values[name] = o.multiple ? converted : converted[0];
  }
  return { values: values as OptionValues<O>, args: checkPositionals(spec.args ?? [], positionals) };
}

function convert(name: string, o: ValueOption, text: string): unknown {
  if (!o.parse) return text;
  try {
    return o.parse(text);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

function checkPositionals(specs: readonly ArgSpec[], given: readonly string[]): string[] {
  if (given.length > specs.length) {
    const extra = given.slice(specs.length);
    throw new UsageError(`unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((a) => JSON.stringify(a)).join(' ')}`);
  }
  specs.forEach((a, i) => {
    const text = given[i];
    const words = a.choices ? Object.keys(a.choices) : null;
    if (text === undefined) {
      if (!a.optional) throw new UsageError(`missing ${a.name}${words ? `: one of ${words.join(', ')}` : ''}`);
      return;
    }
    if (words && !words.includes(text)) throw new UsageError(`unknown ${a.name} ${JSON.stringify(text)}: one of ${words.join(', ')}`);
  });
  return [...given];
}

const HELP_COLUMN = 24;
const WIDTH = 100;

/** The usage text of a command, generated from its table. */
export function renderUsage(spec: CommandSpec<Readonly<Record<string, OptionSpec>>>): string {
  const args = (spec.args ?? []).map((a) => {
    const word = a.choices ? `<${Object.keys(a.choices).join('|')}>` : a.name;
    return a.optional ? `[${word}]` : word;
  });
  const required = Object.entries(spec.options).filter(([, o]) => o.type === 'string' && o.required).map(([name, o]) => `--${name} ${(o as ValueOption).value}`);
  const lines = [`usage: daqs ${[spec.name, ...args, ...required, '[options]'].join(' ')}`];
  if (spec.description) lines.push('', spec.description.trim());
  const argRows: [string, string][] = [];
  for (const a of spec.args ?? []) {
    if (a.choices) for (const [word, help] of Object.entries(a.choices)) argRows.push([word, help]);
    else if (a.help) argRows.push([a.name, a.help]);
  }
  if (argRows.length > 0) lines.push('', 'arguments:', ...argRows.flatMap(([l, r]) => row(l, r)));
  lines.push('', 'options:');
  for (const [name, o] of Object.entries(spec.options)) {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value}` : ''}`;
    const notes = o.type === 'string'
      ? [o.required ? 'required' : '', o.multiple ? 'repeatable' : '', o.default !== undefined ? `default ${o.default}` : ''].filter(Boolean)
      : [];
    lines.push(...row(flag, notes.length > 0 ? `${o.help} (${notes.join('; ')})` : o.help));
  }
  lines.push(...row('-h, --help', 'show this help'));
  return lines.join('\n');
}

// "  left   help text wrapped at WIDTH", the help starting in one column.
function row(left: string, help: string): string[] {
  const words = help.split(/\s+/).filter(Boolean);
  const out: string[] = [];
  let line = `  ${left}`;
  // At least two spaces between the option and its help, else the help starts below.
  if (line.length > HELP_COLUMN - 2) {
    out.push(line);
    line = '';
  }
  line = line.padEnd(HELP_COLUMN);
  let empty = true;
  for (const w of words) {
    if (!empty && line.length + 1 + w.length > WIDTH) {
      out.push(line);
      line = ' '.repeat(HELP_COLUMN);
      empty = true;
    }
    line += empty ? w : ` ${w}`;
    empty = false;
  }
  out.push(line.trimEnd());
  return out;
}
