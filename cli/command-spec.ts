import { type ParseArgsConfig, parseArgs } from 'node:util';
import * as z from 'zod';
import { UsageError } from './args.js';

/**
 * One flag of a command, declared once: parsing (node's parseArgs, then the zod schema), `--help` and shell
 * completion are all derived from it, so they cannot disagree about what a command accepts.
 */
export interface FlagSpec<S extends z.ZodType = z.ZodType> {
  /** Validates the text given (a string, a string[] when `multiple`, a boolean for a switch) into the value. */
  schema: S;
  /** The value's placeholder in help (`N`, `DIR`); a flag without one is a switch, true when given. */
  value?: string;
  /** A one-letter alias (`c` for `-c`), for the flags typed most. */
  short?: string;
  /** The flag may be given more than once; each value counts. */
  multiple?: boolean;
  /** One line for `--help`. */
  help: string;
  /** The values the flag takes, offered by shell completion (the schema is what enforces them). */
  choices?: readonly string[];
  /** Shown as the default when the schema's is computed when parsing (yesterday) or recorded elsewhere. */
  defaultText?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** A command's work: returns the process exit code. */
export type CommandFunction = (argv: readonly string[]) => Promise<number>;

/** Everything `etl` knows about a command without loading its module (which may bring DuckDB or an AWS SDK). */
export interface CommandSpec<F extends FlagSpecs = FlagSpecs> {
  name: string;
  /** One line for `etl help`. */
  summary: string;
  /** What follows `etl <name>` on each usage line, e.g. `[flags]` or `list|redrive [flags]`. */
  usage: readonly string[];
  /** What the command does, for `etl <name> --help`: lines of at most 100 characters. */
  description: string;
  flags: F;
  /** Words the first argument may be (an action, a shell), offered by shell completion. */
  operands?: readonly string[];
  /** At least one command line as a user would type it. */
  examples: readonly [string, ...string[]];
  /** Loads the command's module when the command runs. */
  load: () => Promise<CommandFunction>;
}

/** Declares a command; the identity, for the type to check the declaration. */
export function defineCommand<F extends FlagSpecs>(spec: CommandSpec<F>): CommandSpec<F> {
  return spec;
}

type SchemaOf<F extends FlagSpecs> = { [K in keyof F]: F[K]['schema'] };

/** The zod object that validates a command's parsed flags, built from the flags' own schemas. */
export function flagsSchema<F extends FlagSpecs>(flags: F): z.ZodObject<SchemaOf<F>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, flag] of Object.entries(flags)) shape[name] = flag.schema;
  // Built key by key from F, so the shape is SchemaOf<F>; TypeScript cannot follow the loop.
  return z.object(shape) as z.ZodObject<SchemaOf<F>>;
}

/** node's parseArgs options for the flags: a flag with a value placeholder takes a string, the others are switches. */
export function parseArgsOptions(flags: FlagSpecs): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(flags).map(([name, flag]) => [
      name,
      {
        type: flag.value === undefined ? ('boolean' as const) : ('string' as const),
        ...(flag.multiple ? { multiple: true } : {}),
        ...(flag.short === undefined ? {} : { short: flag.short }),
      },
    ]),
  );
}

export type ParsedFlags<F extends FlagSpecs> = z.infer<z.ZodObject<SchemaOf<F>>>;

/**
 * Parses a command line by the command's declaration: unknown flags are refused (parseArgs, strict), values are
 * validated by their schemas, and an error names the flag and what was wrong with it:
 * `--vehicles: expected a whole number between 1 and 1000000, got "abc"`. Operands (words that are not flags) are
 * returned when `operands` allows them, refused otherwise.
 */
export function parseCommandLine<F extends FlagSpecs>(
  spec: Pick<CommandSpec<F>, 'flags'>,
  argv: readonly string[],
  { operands = false }: { operands?: boolean } = {},
): { flags: ParsedFlags<F>; operands: string[] } {
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: parseArgsOptions(spec.flags),
      strict: true,
      allowPositionals: operands,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const parsed = flagsSchema(spec.flags).safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = issue?.path[0];
    const given = typeof flag === 'string' ? values[flag] : undefined;
    throw new UsageError(
      `--${String(flag ?? '?')}: ${issue?.message ?? 'invalid value'}${given === undefined ? '' : `, got "${String(given)}"`}`,
    );
  }
  return { flags: parsed.data, operands: positionals };
}

/** `parseCommandLine` for a command that takes flags only. */
export function parseFlags<F extends FlagSpecs>(
  spec: Pick<CommandSpec<F>, 'flags'>,
  argv: readonly string[],
): ParsedFlags<F> {
  return parseCommandLine(spec, argv).flags;
}

/**
 * The default help shows for a flag: its `defaultText`, or what its schema gives when the flag is absent. Switches
 * (off) and empty lists have none worth saying.
 */
export function defaultOf(flag: FlagSpec): string | undefined {
  if (flag.defaultText !== undefined) return flag.defaultText;
  const absent = flag.schema.safeParse(undefined);
  if (!absent.success || absent.data === undefined || absent.data === false) return undefined;
  if (Array.isArray(absent.data)) return absent.data.length === 0 ? undefined : absent.data.join(', ');
  return String(absent.data);
}

/** `--state-dir DIR`, `--json`: how a flag is written on a command line. */
function flagSynopsis(name: string, flag: FlagSpec): string {
  const names = flag.short === undefined ? `--${name}` : `-${flag.short}, --${name}`;
  return flag.value === undefined ? names : `${names} ${flag.value}`;
}

/** The help flags every command takes; main.ts answers them before the command's own parsing. */
export const HELP_FLAGS = ['--help', '-h'] as const;

/** Whether the command line asks for help: `--help` or `-h` before any `--` (after it, words are operands). */
export function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) =>
    (HELP_FLAGS as readonly string[]).includes(arg),
  );
}

/** `etl <name> --help`: usage, what it does, its flags with their defaults, and an example. */
export function renderCommandHelp(spec: CommandSpec): string {
  const flags = Object.entries(spec.flags).map(([name, flag]) => {
    const fallback = defaultOf(flag);
    const notes = [flag.multiple ? 'repeatable' : undefined, fallback && `default: ${fallback}`].filter(
      Boolean,
    );
    return [
      flagSynopsis(name, flag),
      `${flag.help}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`,
    ] as const;
  });
  flags.push(['-h, --help', 'show this help']);
  const width = Math.min(30, Math.max(...flags.map(([synopsis]) => synopsis.length)));
  const indent = ' '.repeat(width + 4);
  const flagLines = flags.map(([synopsis, text]) => {
    const lines = wrap(text, HELP_COLUMNS - indent.length);
    const first =
      synopsis.length > width
        ? `  ${synopsis}\n${indent}${lines[0]}`
        : `  ${synopsis.padEnd(width)}  ${lines[0]}`;
    return [first, ...lines.slice(1).map((line) => `${indent}${line}`)].join('\n');
  });
  return [
    `etl ${spec.name}: ${spec.summary}`,
    '',
    'Usage:',
    ...spec.usage.map((line) => `  etl ${spec.name} ${line}`.trimEnd()),
    '',
    ...reflow(spec.description),
    '',
    'Flags:',
    ...flagLines,
    '',
    spec.examples.length === 1 ? 'Example:' : 'Examples:',
    ...spec.examples.map((example) => `  ${example}`),
    '',
  ].join('\n');
}

/** Help fits a terminal of 100 columns. */
const HELP_COLUMNS = 100;

/** Splits text into lines of at most `columns` characters at spaces (a longer word keeps a line of its own). */
function wrap(text: string, columns: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > columns) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/**
 * A description as help prints it: lines that start with a space are kept as written (commands, examples); the
 * others are joined into paragraphs and wrapped, so a declaration need not count columns.
 */
function reflow(description: string): string[] {
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) out.push(...wrap(paragraph.join(' '), HELP_COLUMNS));
    paragraph = [];
  };
  for (const line of description.trimEnd().split('\n')) {
    if (line.startsWith(' ') || line === '') {
      flush();
      out.push(line);
    } else {
      paragraph.push(line.trim());
    }
  }
  flush();
  return out;
}

/** What a usage error prints after its message: the command's usage lines and where its help is. */
export function renderUsageHint(spec: CommandSpec): string {
  return [
    'Usage:',
    ...spec.usage.map((line) => `  etl ${spec.name} ${line}`.trimEnd()),
    `Run "etl ${spec.name} --help" for its flags and an example.`,
    '',
  ].join('\n');
}
