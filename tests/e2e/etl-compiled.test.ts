/**
 * `etl` runs the JavaScript compiled at install (bin/build-cli.js) and its TypeScript sources through tsx when that
 * build is stale or ETL_FROM_SOURCES=1 asks for them: both must be the same command.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runEtl } from '../helpers/etl-process.js';

const TIMEOUT = 120_000;
const FLEET = [
  '--vehicles',
  '3',
  '--readings',
  '10',
  '--seed',
  '5',
  '--page-size',
  '20',
  '--date',
  '2026-01-02',
];

describe('etl, compiled and from its sources', () => {
  it.each(['--version', 'run --help', 'no-such-command'])(
    'etl %s prints the same either way',
    async (command) => {
      const args = command.split(' ');
      const [compiled, sources] = await Promise.all([
        runEtl(args),
        runEtl(args, { env: { ...process.env, ETL_FROM_SOURCES: '1' } }),
      ]);
      expect(compiled.stdout + compiled.stderr).not.toBe('');
      expect(sources).toEqual(compiled);
    },
    TIMEOUT,
  );

  it(
    'runs a night to the same answer either way (the simulator thread, the bundled SQL files, the report)',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'etl-compiled-'));
      const answer = async (env: NodeJS.ProcessEnv, state: string) => {
        const outcome = await runEtl(['run', ...FLEET, '--state-dir', path.join(dir, state)], { env });
        expect(outcome).toMatchObject({ exitCode: 0, timedOut: false });
        // The answer's table, without the lines that name the state folder.
        return outcome.stdout.replaceAll(path.join(dir, state), '<state>');
      };
      const compiled = await answer(process.env, 'compiled');
      const sources = await answer({ ...process.env, ETL_FROM_SOURCES: '1' }, 'sources');
      expect(compiled).toContain('avg_seconds_between_measurements');
      expect(sources).toBe(compiled);
    },
    TIMEOUT,
  );

  it(
    'loads no TypeScript on a night when compiled: the report consumer comes from the build too',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'etl-compiled-loads-'));
      const loads = path.join(dir, 'loads.txt');
      const recorder = pathToFileURL(path.resolve('tests/helpers/record-module-loads.mjs')).href;
      const outcome = await runEtl(['run', ...FLEET, '--state-dir', path.join(dir, 'state')], {
        env: {
          ...process.env,
          RECORD_MODULE_LOADS: loads,
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${recorder}`.trim(),
        },
      });
      expect(outcome).toMatchObject({ exitCode: 0, timedOut: false });
      expect(outcome.stdout).toContain('report:            ');

      const urls = readFileSync(loads, 'utf8').trim().split('\n');
      expect(
        urls.filter((url) => url.includes('/dist/cli/build-') && url.endsWith('/handler-report.js')),
      ).toHaveLength(1);
      // Neither a TypeScript source (the report's handler once came through tsx's API) nor tsx itself.
      expect(urls.filter((url) => /\.ts($|\?)/.test(url) || url.includes('/node_modules/tsx/'))).toEqual([]);
    },
    TIMEOUT,
  );
});
