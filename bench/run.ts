import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { backgroundLoadFromEnvironment, startBackgroundLoad } from './lib/background-load.js';
import type { BenchRow, BenchSuite } from './suite.js';

// `npm run bench [-- SUITE ...] [--smoke] [--json]`: runs the suites in bench/suites/, prints a table per suite
// and, with --json, writes bench-results/<suite>.json and prints all figures as one JSON line at the end.
const { values, positionals } = parseArgs({
  options: { smoke: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  allowPositionals: true,
});

const suitesDir = fileURLToPath(new URL('./suites/', import.meta.url));
const available = readdirSync(suitesDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const chosen = positionals.length > 0 ? positionals : available;
const unknown = chosen.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown suite(s): ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exit(2);
}

// BENCH_LOAD=N keeps N cores busy for the whole run (bench/lib/background-load.ts): figures under a known load.
const loadCores = values.smoke ? 0 : backgroundLoadFromEnvironment();
const machine = {
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  backgroundLoadCores: loadCores,
  loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
};
process.stderr.write(
  `machine: ${machine.cpus}, ${machine.memoryGiB} GiB, Node ${machine.node}; load average ${machine.loadAverageAtStart.join(' ')}` +
    `${loadCores > 0 ? `; background load: ${loadCores} busy core(s)` : ''}\n`,
);
const backgroundLoad = loadCores > 0 ? startBackgroundLoad(loadCores) : undefined;

const all: Record<string, BenchRow[]> = {};
for (const name of chosen) {
  const module: { suite: BenchSuite } = await import(pathToFileURL(path.join(suitesDir, `${name}.ts`)).href);
  process.stderr.write(
    `\n== ${module.suite.name}: ${module.suite.description}${values.smoke ? ' (smoke)' : ''}\n`,
  );
  const rows = await module.suite.run({
    smoke: values.smoke,
    log: (line) => process.stderr.write(`  ${line}\n`),
  });
  all[name] = rows;
  process.stdout.write(`\n${renderRows(module.suite.name, rows)}\n`);
  if (values.json) {
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      path.join('bench-results', `${name}.json`),
      `${JSON.stringify({ machine, rows }, null, 2)}\n`,
    );
  }
}
await backgroundLoad?.stop();
if (values.json) process.stdout.write(`${JSON.stringify({ machine, smoke: values.smoke, suites: all })}\n`);

function renderRows(title: string, rows: BenchRow[]): string {
  const columns = ['case', ...new Set(rows.flatMap((r) => Object.keys(r.figures))), 'target'];
  const cell = (row: BenchRow, column: string): string => {
    if (column === 'case') return row.case;
    if (column === 'target')
      return row.target ? `${row.target.met ? 'met' : 'NOT met'}: ${row.target.description}` : '';
    const value = row.figures[column];
    if (value === undefined) return '';
    return typeof value === 'number'
      ? Number.isInteger(value)
        ? value.toLocaleString('en-US')
        : value.toFixed(2)
      : value;
  };
  const table = [columns, ...rows.map((r) => columns.map((c) => cell(r, c)))];
  const widths = columns.map((_, i) => Math.max(...table.map((line) => (line[i] ?? '').length)));
  const format = (line: string[]) =>
    line
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    title,
    format(columns),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...table.slice(1).map(format),
  ].join('\n');
}
