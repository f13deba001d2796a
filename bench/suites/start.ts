import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshBuild } from '../../bin/cli-build.js';
import { type EtlCommandResult, runEtlCommand } from '../lib/etl-command.js';
import type { BenchContext, BenchRow, BenchSuite } from '../suite.js';

/**
 * How soon `etl` answers, compiled (dist/cli/, what `npm ci` builds) against its TypeScript sources through tsx
 * (ETL_FROM_SOURCES=1, what every start cost before the build existed), taking turns in the same run so that the
 * machine's load falls on both: wall time to the first line, to exit, and the CPU time of the whole process (every
 * thread). Cases: `etl --version`, `etl run --help`, and `etl run` on the default fleet (200 vehicles × 1,000
 * readings) into a fresh state folder, also through `npx etl run` as the README shows it. Medians of the turns.
 * Targets (issue 17): the first line in ≤ 0.5 s; `npx etl run` in ≤ 2 s on a quiet machine.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Case {
  name: string;
  args: readonly string[];
  /** Needs a fresh state folder (--state-dir is added). */
  state?: boolean;
  npx?: boolean;
  target?: { what: 'first' | 'exit'; seconds: number };
}

const CASES: Case[] = [
  { name: 'etl --version', args: ['--version'], target: { what: 'first', seconds: 0.5 } },
  { name: 'etl run --help', args: ['run', '--help'], target: { what: 'first', seconds: 0.5 } },
  { name: 'etl run (default fleet)', args: ['run'], state: true },
  {
    name: 'npx etl run (default fleet)',
    args: ['run'],
    state: true,
    npx: true,
    target: { what: 'exit', seconds: 2 },
  },
];

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

async function measure(c: Case, compiled: boolean): Promise<EtlCommandResult> {
  const dir = c.state ? await mkdtemp(path.join(tmpdir(), 'bench-start-')) : undefined;
  try {
    const env = { ...process.env };
    if (compiled) delete env.ETL_FROM_SOURCES;
    else env.ETL_FROM_SOURCES = '1';
    const result = await runEtlCommand(dir === undefined ? c.args : [...c.args, '--state-dir', dir], {
      env,
      npx: c.npx,
    });
    if (result.code !== 0)
      throw new Error(`${c.name} exited ${result.code}:\n${result.stderr.slice(-1_000)}`);
    return result;
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

export const suite: BenchSuite = {
  name: 'start',
  description: 'etl compiled against its TypeScript sources: first line, exit and CPU seconds',
  async run(context: BenchContext): Promise<BenchRow[]> {
    // What `npm ci` does (the prepare script); the figures are worth nothing if etl then ran its sources.
    const build = spawnSync(process.execPath, [path.join(ROOT, 'bin/build-cli.js')], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`the build failed:\n${build.stderr}`);
    const fresh = freshBuild();
    if (typeof fresh !== 'object') throw new Error(`the build is not used: ${fresh}`);
    const turns = context.smoke ? 1 : Number(process.env.BENCH_START_TURNS ?? 5);
    // Node.js alone: what no command can go below.
    const bare: number[] = [];
    for (let turn = 0; turn < turns; turn++) {
      const started = performance.now();
      spawnSync(process.execPath, ['-e', '']);
      bare.push((performance.now() - started) / 1000);
    }
    const rows: BenchRow[] = [{ case: "node -e '' (Node.js alone)", figures: { 'exit s': median(bare) } }];
    for (const c of CASES) {
      const results: Record<'compiled' | 'sources', EtlCommandResult[]> = { compiled: [], sources: [] };
      const loads: string[] = [];
      for (let turn = 0; turn < turns; turn++) {
        // Compiled first on even turns, sources first on odd ones.
        for (const compiled of turn % 2 === 0 ? [true, false] : [false, true]) {
          loads.push(os.loadavg()[0]?.toFixed(1) ?? '?');
          results[compiled ? 'compiled' : 'sources'].push(await measure(c, compiled));
        }
      }
      const figure = (which: 'compiled' | 'sources', of: (r: EtlCommandResult) => number) =>
        median(results[which].map(of));
      const first = (which: 'compiled' | 'sources') => figure(which, (r) => r.firstOutputSeconds);
      const exit = (which: 'compiled' | 'sources') => figure(which, (r) => r.seconds);
      const cpu = (which: 'compiled' | 'sources') => figure(which, (r) => r.cpuSeconds);
      context.log(
        `${c.name}: compiled first ${first('compiled').toFixed(2)} s, exit ${exit('compiled').toFixed(2)} s, ` +
          `CPU ${cpu('compiled').toFixed(2)} s; sources ${first('sources').toFixed(2)} / ${exit('sources').toFixed(2)} / ` +
          `${cpu('sources').toFixed(2)} s; load ${loads.join(' ')}`,
      );
      const measured = c.target?.what === 'first' ? first('compiled') : exit('compiled');
      rows.push({
        case: c.name,
        figures: {
          'first line s': first('compiled'),
          'exit s': exit('compiled'),
          'CPU s': cpu('compiled'),
          'sources: first line s': first('sources'),
          'sources: exit s': exit('sources'),
          'sources: CPU s': cpu('sources'),
          'exit ÷ sources': exit('compiled') / exit('sources'),
          'CPU ÷ sources': cpu('compiled') / cpu('sources'),
          load: `${loads[0]}–${loads.at(-1)}`,
        },
        ...(c.target === undefined
          ? {}
          : {
              target: {
                description: `${c.target.what === 'first' ? 'first line' : 'exit'} ≤ ${c.target.seconds} s (quiet machine)`,
                met: measured <= c.target.seconds,
              },
            }),
      });
    }
    return rows;
  },
};
