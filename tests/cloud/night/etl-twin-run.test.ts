import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { REPOSITORY_ROOT } from '../../../infra/repository.js';
import { editedAssembly, withoutAction } from '../helpers/edited-assembly.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

const ETL = path.join(REPOSITORY_ROOT, 'bin', 'etl.js');
/** A small fleet in small pages: a night of a few seconds. */
const FLEET_FLAGS = ['--vehicles', '12', '--readings', '20', '--seed', '7'];

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function etl(args: readonly string[]): Promise<Finished> {
  const child = spawn(process.execPath, [ETL, ...args], {
    cwd: REPOSITORY_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The `--json` line: what a script reads of the rehearsal. */
const ResultSchema = z.object({
  stack: z.string(),
  events: z.record(z.string(), z.number()),
  refusals: z.array(
    z.object({
      kind: z.string(),
      call: z.object({ session: z.string(), action: z.string(), resource: z.string() }),
      statement: z.object({ Effect: z.string(), Action: z.string(), Resource: z.string() }).optional(),
      count: z.number(),
    }),
  ),
  outcome: z.object({
    status: z.string(),
    furthest: z.string().optional(),
    stoppedAt: z.string().optional(),
  }),
  verdict: z.object({ passed: z.boolean(), reasons: z.array(z.string()) }),
  timings: z.object({
    synthMs: z.number().optional(),
    twinStartMs: z.number(),
    nightMs: z.number(),
    totalMs: z.number(),
  }),
});
const resultOf = (stdout: string) => ResultSchema.parse(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''));

const folders: string[] = [];
let stack: TwinStack | undefined;

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  discardTwinStack(stack);
});

describe('etl twin run, as a process', () => {
  it('synthesizes with cdk synth and the -c settings given (a configuration file, a single setting), runs the night and passes it, saying where the twin stops', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'fleet-etl-twin-config-'));
    folders.push(folder);
    const config = path.join(folder, 'rehearsal.json');
    writeFileSync(config, JSON.stringify({ stage: 'rehearsal' }));

    const run = await etl([
      'twin',
      'run',
      '--date',
      '2026-11-24',
      '-c',
      config,
      '-c',
      'fleet-etl:fleetApi.pageSize=40',
      ...FLEET_FLAGS,
      '--json',
    ]);

    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(run.stderr).toContain(
      `cdk synth -c fleet-etl:configFile=${config} -c fleet-etl:fleetApi.pageSize=40`,
    );
    expect(run.stderr).toMatch(/planned sensors: \d+ page\(s\) of up to 40 rows/);
    expect(run.stderr).toMatch(/downloads drained: /);
    expect(run.stdout).toContain('denied calls: none');
    expect(run.stdout).toMatch(/^PASSED: the night reached EtlDone on the twin/m);
    expect(run.stdout).toMatch(/^took [\d.]+ s: cdk synth \(bundles included\) [\d.]+ s, twin start/m);
    const result = resultOf(run.stdout);
    // The configuration file's stage names the stack the twin ran.
    expect(result.stack).toBe('fleet-etl-rehearsal');
    expect(result.refusals).toEqual([]);
    expect(result.outcome).toMatchObject({ status: 'done', furthest: 'EtlDone' });
    expect(result.verdict).toEqual({ passed: true, reasons: [] });
    expect(result.timings.synthMs).toBeGreaterThan(0);
  }, 300_000);

  it('fails a deployment that forgot a grant, printing the denied call and the statement that would allow it (--app: an assembly already synthesized)', async () => {
    stack = synthesizeTwinStack({ bundle: true, config: { fleetApi: { pageSize: 40 } } });
    const broken = editedAssembly(
      stack.assemblyDir,
      withoutAction('ServicesDownloaderRole', 'events:PutEvents'),
    );
    folders.push(broken);

    const run = await etl(['twin', 'run', '--date', '2026-11-24', '--app', broken, ...FLEET_FLAGS, '--json']);

    expect(run.code).toBe(1);
    const bus = 'arn:aws:events:eu-west-1:123456789012:event-bus/fleet-etl-dev';
    expect(run.stdout).toMatch(
      new RegExp(
        `^DENIED fleet-etl-dev-ServicesDownloader\\S+: events:PutEvents on ${bus} \\(\\d+×\\)$`,
        'm',
      ),
    );
    expect(run.stdout).toContain(
      'grant that would allow it, in the policy of role fleet-etl-dev-ServicesDownloaderRole',
    );
    expect(run.stdout).toContain(`  {"Effect":"Allow","Action":"events:PutEvents","Resource":"${bus}"}`);
    expect(run.stdout).toMatch(/^dead letters: \d+ message\(s\) in fleet-etl-dev-TasksDeadLetterQueue/m);
    expect(run.stdout).toMatch(
      /^FAILED: the night stopped after PagesPlanned at fleet-etl-dev-ServicesDownloader/m,
    );
    const result = resultOf(run.stdout);
    expect(result.refusals).toEqual([
      expect.objectContaining({
        kind: 'missing-grant',
        statement: { Effect: 'Allow', Action: 'events:PutEvents', Resource: bus },
      }),
    ]);
    expect(result.verdict.passed).toBe(false);
    expect(result.timings.synthMs).toBeUndefined();
  }, 300_000);

  it('fails with exit code 1 and the setting named when cdk synth refuses the configuration', async () => {
    const run = await etl(['twin', 'run', '-c', 'fleet-etl:fleetApi.pageSize=0']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cdk: .*→ at fleetApi\.pageSize/);
    expect(run.stderr).toContain('etl: cdk synth failed (exit code 1): its output is above');
    expect(run.stdout).toBe('');
  }, 120_000);

  it('refuses flags it cannot honour with exit code 2', async () => {
    const both = await etl(['twin', 'run', '--app', 'cdk.out', '-c', 'fleet-etl:stage=x']);
    expect({ code: both.code, stderr: both.stderr }).toEqual({
      code: 2,
      stderr: expect.stringContaining('--app runs an assembly already synthesized'),
    });
    const day = await etl(['twin', 'run', '--date', '24/11/2026']);
    expect({ code: day.code, stderr: day.stderr }).toEqual({
      code: 2,
      stderr: expect.stringContaining('--date: expected a calendar date YYYY-MM-DD, got "24/11/2026"'),
    });
    const noDay = await etl(['twin', 'run', '--date', '2026-02-30']);
    expect({ code: noDay.code, stderr: noDay.stderr }).toEqual({
      code: 2,
      stderr: expect.stringContaining('--date: expected a calendar date YYYY-MM-DD, got "2026-02-30"'),
    });
  }, 60_000);
});
