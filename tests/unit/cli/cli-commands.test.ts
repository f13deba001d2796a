import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { UsageError } from '../../../cli/args.js';
import {
  asksForHelp,
  type CommandSpec,
  defaultOf,
  defineCommand,
  parseArgsOptions,
  parseCommandLine,
  renderCommandHelp,
} from '../../../cli/command-spec.js';
import { COMMANDS, findCommand } from '../../../cli/commands.js';
import { completionScript } from '../../../cli/completion-command.js';
import { refuseUnfinishedNights } from '../../../cli/unfinished-nights.js';
import { stdoutOf } from '../../helpers/stdout.js';

/** The flags a help text lists: the `--name` that starts each line of its Flags section. */
function flagsInHelp(help: string): string[] {
  const section = help.split('\nFlags:\n')[1]?.split('\n\n')[0] ?? '';
  return [...section.matchAll(/^ {2}(?:-[a-z], )?--([a-z][a-z-]*)/gm)].map((match) => match[1] ?? '');
}

/** The words that must come before a command's flags (dlq's action). */
/** The action a command with actions needs before its flags (`etl dlq list`, `etl twin run`). */
const FIRST_ACTION: Record<string, string> = { dlq: 'list', twin: 'run' };
const operandsBefore = (spec: CommandSpec): string[] => {
  const action = FIRST_ACTION[spec.name];
  return action === undefined ? [] : [action];
};

describe('etl commands, each declared once', () => {
  it.each(COMMANDS.map((spec) => [spec.name, spec] as const))(
    '%s: its help lists exactly the flags it parses, plus --help',
    (_name, spec) => {
      const help = renderCommandHelp(spec);
      expect(flagsInHelp(help).sort()).toEqual([...Object.keys(parseArgsOptions(spec.flags)), 'help'].sort());
      expect(help).toContain(`Usage:\n  etl ${spec.name}`);
      expect(help).toMatch(/\nExamples?:\n {2}\S*etl /);
      for (const example of spec.examples) expect(example).toContain(`etl ${spec.name}`);
    },
  );

  it.each(COMMANDS.map((spec) => [spec.name, spec] as const))(
    '%s: the command accepts every flag its help lists and refuses one it does not',
    async (_name, spec) => {
      const command = await spec.load();
      for (const name of flagsInHelp(renderCommandHelp(spec)).filter((n) => n !== 'help')) {
        const flag = spec.flags[name];
        const given = flag?.value === undefined ? [`--${name}`] : [`--${name}`, 'x'];
        // parseArgs reads left to right: reaching the unknown flag means the listed one was accepted.
        await expect(command([...operandsBefore(spec), ...given, '--not-a-flag'])).rejects.toThrow(
          /Unknown option '--not-a-flag'/,
        );
      }
      if (Object.keys(spec.flags).length > 0) {
        await expect(command([...operandsBefore(spec), '--not-a-flag'])).rejects.toThrow(UsageError);
      }
    },
  );

  it('shows each default the schemas give, and the ones they cannot (computed or recorded) as declared', () => {
    const run = findCommand('run');
    const sim = findCommand('sim');
    expect(run && defaultOf(run.flags['page-size'] ?? { schema: undefined as never, help: '' })).toBe(
      '50000',
    );
    const runHelp = renderCommandHelp(run as CommandSpec);
    expect(runHelp).toMatch(/--state-dir DIR +the state folder[^\n]*\n?[^\n]*\(default: \.etl\)/);
    expect(runHelp).toMatch(/--wait SECONDS[\s\S]*?\(default: 60\)/);
    expect(runHelp).toMatch(/--date YYYY-MM-DD[\s\S]*?\(default: yesterday, UTC\)/);
    expect(runHelp).toMatch(/--fail-page DATASET:PAGE[\s\S]*?\(repeatable\)/);
    // A switch that is off says nothing about its default.
    expect(runHelp).not.toMatch(/--json[^\n]*default/);
    expect(renderCommandHelp(sim as CommandSpec)).toMatch(
      /--port N +the port \(0: any free port\) \(default: 8080\)/,
    );
    // etl schedule waits longer for the state folder than an interactive command.
    expect(renderCommandHelp(findCommand('schedule') as CommandSpec)).toMatch(/\(default: 900\)/);
  });

  it('keeps help within 100 columns, but for the examples users copy as they are', () => {
    for (const spec of COMMANDS) {
      const help = renderCommandHelp(spec);
      const [body = ''] = help.split(/\nExamples?:\n/);
      const wide = body.split('\n').filter((line) => line.length > 100 && !/^ {2}etl /.test(line));
      expect({ command: spec.name, wide }).toEqual({ command: spec.name, wide: [] });
    }
  });

  it('parses values through the declared schemas, naming the flag that is wrong', () => {
    const run = findCommand('run') as CommandSpec;
    expect(parseCommandLine(run, ['--page-size', '100']).flags).toMatchObject({
      'page-size': 100,
      'state-dir': '.etl',
      json: false,
      wait: 60,
    });
    expect(() => parseCommandLine(run, ['--page-size', 'abc'])).toThrow(
      '--page-size: expected a whole number between 1 and 50000, got "abc"',
    );
    expect(() => parseCommandLine(run, ['--date', '2026-02-30'])).toThrow(
      '--date: expected a calendar date YYYY-MM-DD, got "2026-02-30"',
    );
    expect(() => parseCommandLine(run, ['stray'])).toThrow(UsageError);
  });

  it('sees a request for help before --, not after it', () => {
    expect(asksForHelp(['--date', '2026-11-24', '-h'])).toBe(true);
    expect(asksForHelp(['--help'])).toBe(true);
    expect(asksForHelp(['--', '--help'])).toBe(false);
    expect(asksForHelp(['SELECT 1 -- --help'])).toBe(false);
  });

  it('etl help COMMAND prints the command’s help; etl help alone lists every command', async () => {
    const help = findCommand('help') as CommandSpec;
    const command = await help.load();
    expect(await stdoutOf(() => command(['runs']))).toEqual({
      code: 0,
      out: renderCommandHelp(findCommand('runs') as CommandSpec),
    });
    const overview = (await stdoutOf(() => command([]))).out;
    const lines = overview.split('\n');
    for (const spec of COMMANDS) {
      expect(lines.some((line) => line.startsWith(`  ${spec.name} `) && line.endsWith(spec.summary))).toBe(
        true,
      );
    }
    await expect(command(['nope'])).rejects.toThrow('unknown command "nope"');
  });
});

describe('a flag with a one-letter alias', () => {
  const spec = defineCommand({
    name: 'demo',
    summary: 'a command declared for this test',
    usage: ['[flags]'],
    description: 'Takes settings.',
    flags: {
      context: {
        schema: z.array(z.string()).default([]),
        value: 'KEY=VALUE',
        short: 'c',
        multiple: true,
        help: 'a setting',
      },
    },
    examples: ['etl demo -c a=1 --context b=2'],
    load: async () => async () => 0,
  });

  it('is parsed, listed in help and completed under both names', () => {
    expect(parseCommandLine(spec, ['-c', 'a=1', '--context', 'b=2']).flags).toEqual({
      context: ['a=1', 'b=2'],
    });
    expect(flagsInHelp(renderCommandHelp(spec))).toEqual(['context', 'help']);
    expect(renderCommandHelp(spec)).toContain('  -c, --context KEY=VALUE  a setting (repeatable)\n');
    expect(completionScript('bash', [spec])).toContain("flags='-c --context --help -h'");
    expect(completionScript('bash', [spec])).toContain(
      '        -c|--context) COMPREPLY=($(true)); return ;;',
    );
    expect(completionScript('zsh', [spec])).toContain("'*-c[a setting]:KEY=VALUE: '");
  });
});

describe('nights that are not over', () => {
  const NOW = new Date('2026-11-24T15:00:00.000Z');

  it('accepts nights that ended before now', () => {
    expect(() => refuseUnfinishedNights(['2026-11-23'], 'UTC', NOW)).not.toThrow();
    // The night of 2026-11-23 in Los Angeles ends at 08:00 UTC on the 24th.
    expect(() => refuseUnfinishedNights(['2026-11-23'], 'America/Los_Angeles', NOW)).not.toThrow();
  });

  it('refuses the night in progress, naming it, its end and the override', () => {
    expect(() => refuseUnfinishedNights(['2026-11-24'], 'UTC', NOW)).toThrow(
      'the night 2026-11-24 (UTC) is not over yet: it ends at 2026-11-25T00:00:00.000Z, and it is ' +
        '2026-11-24T15:00:00.000Z now; its data would be incomplete. Run it once it is over, or pass ' +
        '--allow-future to run it anyway.',
    );
    // In Tokyo it is already the 25th: the night of the 24th is over there, the 25th is not.
    expect(() => refuseUnfinishedNights(['2026-11-24'], 'Asia/Tokyo', NOW)).not.toThrow();
    expect(() => refuseUnfinishedNights(['2026-11-25'], 'Asia/Tokyo', NOW)).toThrow(
      /2026-11-25 \(Asia\/Tokyo\) is not over yet/,
    );
  });

  it('refuses a night in the future, and says how many of a backfill are', () => {
    expect(() =>
      refuseUnfinishedNights(['2026-11-22', '2026-11-23', '2026-11-24', '2026-11-25'], 'UTC', NOW),
    ).toThrow(/^the night 2026-11-24 \(UTC\) is not over yet.*\(and 1 later night\(s\)\)/);
    expect(() => refuseUnfinishedNights(['2026-12-01'], 'UTC', NOW)).toThrow(
      /^the night 2026-12-01 \(UTC\) is in the future: it starts at 2026-12-01T00:00:00\.000Z/,
    );
  });
});

describe('etl completion', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'etl-completion-'));
  const bash = completionScript('bash', COMMANDS);
  const zsh = completionScript('zsh', COMMANDS);
  const bashFile = path.join(dir, 'etl.bash');
  writeFileSync(bashFile, bash);

  /** What bash offers for the words typed so far (the last one being completed), with the script loaded. */
  function bashOffers(words: readonly string[]): string[] {
    const array = words.map((w) => `'${w}'`).join(' ');
    const script = `source '${bashFile}'; COMP_WORDS=(etl ${array}); COMP_CWORD=${words.length}; _etl; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8' }).split('\n').filter(Boolean);
  }

  it('names every command and the flags of each, in both shells', () => {
    for (const spec of COMMANDS) {
      expect(bash).toContain(`    ${spec.name})`);
      expect(zsh).toContain(`    ${spec.name})`);
      expect(zsh).toContain(`'${spec.name}:`);
    }
    for (const flag of Object.keys((findCommand('run') as CommandSpec).flags)) {
      expect(bash).toMatch(new RegExp(`flags='[^']*--${flag}[ ']`));
      expect(zsh).toContain(`--${flag}[`);
    }
  });

  it('is a bash script bash accepts (bash -n)', () => {
    expect(() => execFileSync('bash', ['-n', bashFile])).not.toThrow();
  });

  it('completes commands, flags, actions and known values in bash', () => {
    expect(bashOffers(['ru'])).toEqual(['run', 'runs']);
    expect(bashOffers(['run', '--st'])).toEqual(['--state-dir']);
    expect(bashOffers(['dlq', ''])).toEqual(['list', 'redrive']);
    expect(bashOffers(['completion', ''])).toEqual(['bash', 'zsh']);
    expect(bashOffers(['help', 'sq'])).toEqual(['sql']);
    expect(bashOffers(['events', '--detail-type', 'Etl'])).toEqual(['EtlDone', 'EtlFailed']);
    // A flag that takes a number: nothing to offer, and not the flags either.
    expect(bashOffers(['run', '--page-size', ''])).toEqual([]);
  });
});
