import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { runEtlCommand } from '../lib/etl-command.js';
import type { BenchContext, BenchRow, BenchSuite } from '../suite.js';

/**
 * Consecutive `etl run`s on each Node.js version, counting the ones that did not end as a run should: Node 24
 * aborted 2 runs in 6 inside the SQLite addon the project used then (docs/decisions/0072). Each run is the real
 * command in a fresh process on one state folder (the first run builds the night, the others run it again from
 * the start), and each must succeed with the answer of the first, bit for bit (docs/decisions/0074).
 *
 * Node.js binaries: the one running the bench, then each path in BENCH_NODES (colon-separated), e.g. the
 * binaries of npm's `node@22` and `node@24` packages. BENCH_STRESS_RUNS sets the runs per version (20).
 */
const DAY = '2026-11-24';

const RunJsonSchema = z.object({
  status: z.string(),
  results: z.record(z.string(), z.unknown()),
});

type Outcome = 'succeeded' | 'failed' | 'aborted' | 'different answer';

interface RunResult {
  outcome: Outcome;
  seconds: number;
  answer?: string;
  detail: string;
}

function nodeBinaries(): string[] {
  const extra = (process.env.BENCH_NODES ?? '').split(':').filter((p) => p.length > 0);
  return [process.execPath, ...extra.filter((p) => p !== process.execPath)];
}

async function nodeVersion(node: string): Promise<string> {
  const child = spawn(node, ['--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  await new Promise((resolve) => child.once('exit', resolve));
  return out.trim();
}

async function runOnce(node: string, stateDir: string): Promise<RunResult> {
  const { code, signal, stdout, stderr, seconds } = await runEtlCommand(
    ['run', '--state-dir', stateDir, '--date', DAY, '--json'],
    { node },
  );
  // A native abort shows as a signal (SIGABRT, SIGSEGV) or a shell-style code above 128; exit 1 is a run that
  // failed and said why.
  if (signal !== null || code === null || code > 1) {
    return { outcome: 'aborted', seconds, detail: `${signal ?? `exit ${code}`}: ${stderr.slice(-500)}` };
  }
  const parsed = RunJsonSchema.safeParse(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'));
  if (code !== 0 || !parsed.success || parsed.data.status !== 'succeeded') {
    return { outcome: 'failed', seconds, detail: `exit ${code}: ${stderr.slice(-500)}` };
  }
  return { outcome: 'succeeded', seconds, answer: JSON.stringify(parsed.data.results), detail: '' };
}

export const suite: BenchSuite = {
  name: 'stress',
  description: 'consecutive etl runs on each Node.js version: none may abort, fail or change the answer',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const runs = context.smoke ? 2 : Number(process.env.BENCH_STRESS_RUNS ?? 20);
    const rows: BenchRow[] = [];
    for (const node of nodeBinaries()) {
      const version = await nodeVersion(node);
      const stateDir = await mkdtemp(path.join(tmpdir(), 'bench-stress-'));
      const counts: Record<Outcome, number> = {
        succeeded: 0,
        failed: 0,
        aborted: 0,
        'different answer': 0,
      };
      const seconds: number[] = [];
      let firstAnswer: string | undefined;
      try {
        for (let i = 1; i <= runs; i++) {
          const result = await runOnce(node, stateDir);
          firstAnswer ??= result.answer;
          const outcome =
            result.outcome === 'succeeded' && result.answer !== firstAnswer
              ? 'different answer'
              : result.outcome;
          counts[outcome] += 1;
          seconds.push(result.seconds);
          context.log(
            `${version} run ${i}/${runs}: ${outcome} in ${result.seconds.toFixed(1)} s${result.detail ? ` (${result.detail})` : ''}`,
          );
        }
      } finally {
        await rm(stateDir, { recursive: true, force: true });
      }
      seconds.sort((a, b) => a - b);
      rows.push({
        case: `${runs} consecutive etl runs, Node.js ${version}`,
        figures: {
          succeeded: counts.succeeded,
          failed: counts.failed,
          aborted: counts.aborted,
          'different answer': counts['different answer'],
          'median s': seconds[Math.floor(seconds.length / 2)] ?? 0,
        },
        target: { description: 'every run succeeds with the same answer', met: counts.succeeded === runs },
      });
    }
    return rows;
  },
};
