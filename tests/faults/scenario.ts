import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FaultRun } from './harness.js';
import { type Answer, type CheckedRun, checkInvariants, type Expectation } from './invariants.js';

/**
 * One fault-injected whole run: what it injects, how to run it, and what it must end with. `R` is what a run
 * returns: an in-process FaultRun, or less (a CheckedRun) when `etl run` ran as a process.
 */
export interface Scenario<R extends CheckedRun = FaultRun> {
  name: string;
  injected: string;
  expect: Expectation;
  run: () => Promise<R>;
  /** Faults really injected, as counted after the run (e.g. from the simulator's stats); must be > 0. */
  faults: (run: R) => number;
  /** Further checks of the scenario's own (e.g. "only the failed entries were sent again"); returns problems. */
  extraChecks?: (run: R) => Promise<string[]> | string[];
}

/** A check that is not a whole run (e.g. a hostile message against a handler): same line, same summary. */
export interface Probe {
  name: string;
  injected: string;
  run: () => Promise<{ faults: number; checked: string; violations: string[] }>;
}

export interface ScenarioResult {
  name: string;
  injected: string;
  checked: string;
  outcome: 'pass' | 'fail';
  faults: number;
  pagesChecked: number;
  duplicates: number;
  lost: number;
  violations: string[];
  seconds: number;
}

/** Collects one line per scenario and the suite's summary; lines go to stderr at once, outside jest's console. */
export class SuiteRecorder {
  readonly results: ScenarioResult[] = [];

  record(result: ScenarioResult): ScenarioResult {
    this.results.push(result);
    const outcome = result.outcome === 'pass' ? 'PASS' : `FAIL (${result.violations.join('; ')})`;
    process.stderr.write(
      `[fault] ${result.name} | injected: ${result.injected} (${result.faults}) | checked: ${result.checked} | ${outcome} in ${result.seconds.toFixed(1)} s\n`,
    );
    return result;
  }

  async runScenario<R extends CheckedRun>(scenario: Scenario<R>, baseline: Answer): Promise<ScenarioResult> {
    const started = performance.now();
    const run = await scenario.run();
    const report = await checkInvariants(run, scenario.expect, baseline);
    const faults = scenario.faults(run);
    const violations = [...report.violations, ...((await scenario.extraChecks?.(run)) ?? [])];
    if (faults === 0) violations.push('no fault was injected');
    // A passing run's state goes; a failing one's stays for reading, and the line says where.
    if (violations.length === 0) rmSync(run.stateDir, { recursive: true, force: true });
    else violations.push(`state kept in ${run.stateDir}`);
    return this.record({
      name: scenario.name,
      injected: scenario.injected,
      checked: report.checked.join(', '),
      outcome: violations.length === 0 ? 'pass' : 'fail',
      faults,
      pagesChecked: report.pagesChecked,
      duplicates: report.duplicates,
      lost: report.lost,
      violations,
      seconds: (performance.now() - started) / 1000,
    });
  }

  async runProbe(probe: Probe): Promise<ScenarioResult> {
    const started = performance.now();
    const { faults, checked, violations } = await probe.run();
    return this.record({
      name: probe.name,
      injected: probe.injected,
      checked,
      outcome: violations.length === 0 ? 'pass' : 'fail',
      faults,
      pagesChecked: 0,
      duplicates: 0,
      lost: 0,
      violations,
      seconds: (performance.now() - started) / 1000,
    });
  }

  /** The summary line, and the same figures as JSON next to the system's temporary files. */
  summarise(group: string): { line: string; file: string } {
    const sum = (f: (r: ScenarioResult) => number) => this.results.reduce((s, r) => s + f(r), 0);
    const summary = {
      group,
      scenarios: this.results.length,
      passed: this.results.filter((r) => r.outcome === 'pass').length,
      faultsInjected: sum((r) => r.faults),
      pagesChecked: sum((r) => r.pagesChecked),
      duplicatesFound: sum((r) => r.duplicates),
      dataLost: sum((r) => r.lost),
      seconds: Number(sum((r) => r.seconds).toFixed(1)),
      results: this.results,
    };
    mkdirSync(SUMMARIES, { recursive: true });
    const file = path.join(SUMMARIES, `fleet-etl-reliability-${group}.json`);
    writeWhole(file, `${JSON.stringify({ invocation: INVOCATION, ...summary }, null, 2)}\n`);
    const line =
      `[fault] summary ${group}: ${summary.passed}/${summary.scenarios} scenarios passed, ` +
      `${summary.faultsInjected} faults injected, ${summary.pagesChecked} pages checked, ` +
      `${summary.duplicatesFound} duplicates found, ${summary.dataLost} rows lost (${file})`;
    process.stderr.write(`${line}\n`);
    process.stderr.write(`${combine(group, summary)}\n`);
    return { line, file };
  }
}

interface GroupSummary {
  scenarios: number;
  passed: number;
  faultsInjected: number;
  pagesChecked: number;
  duplicatesFound: number;
  dataLost: number;
  seconds: number;
}

/**
 * Where the summaries go: test-output/ in the repository (beside the report's screenshots), not the temporary
 * folder, which a jest run now removes at its end (tests/setup/shared-assemblies-setup.js).
 */
const SUMMARIES = path.join(process.cwd(), 'test-output', 'reliability');
const COMBINED = path.join(SUMMARIES, 'fleet-etl-reliability.json');

/** A file replaced whole: two jest workers may write the combined summary at once. */
function writeWhole(file: string, text: string): void {
  const staging = `${file}.${process.pid}.tmp`;
  writeFileSync(staging, text);
  renameSync(staging, file);
}
/** The jest process of this `npm run test:faults`: the parent of the workers, or this process when in band. */
const INVOCATION = process.env.JEST_WORKER_ID === undefined ? process.pid : process.ppid;

/** A group's counts, without its scenarios' lines. */
function pick(summary: GroupSummary): GroupSummary {
  const { scenarios, passed, faultsInjected, pagesChecked, duplicatesFound, dataLost, seconds } = summary;
  return { scenarios, passed, faultsInjected, pagesChecked, duplicatesFound, dataLost, seconds };
}

/**
 * The totals of the groups this invocation has finished so far, from their own files (each group writes its file
 * before it combines, and two jest workers may finish groups side by side), written to the suite's file.
 */
function combine(group: string, summary: GroupSummary): string {
  const groups: Record<string, GroupSummary> = {};
  for (const name of readdirSync(SUMMARIES)) {
    const match = /^fleet-etl-reliability-(.+)\.json$/.exec(name);
    if (match?.[1] === undefined) continue;
    try {
      const written = JSON.parse(readFileSync(path.join(SUMMARIES, name), 'utf8'));
      // Groups of an earlier invocation are not this run's.
      if (written.invocation === INVOCATION) groups[match[1]] = pick(written);
    } catch {
      // a file being replaced: its group is counted by the next summary
    }
  }
  groups[group] = pick(summary);
  const all = Object.values(groups);
  const total = (f: (g: GroupSummary) => number) => all.reduce((s, g) => s + f(g), 0);
  const totals = {
    scenarios: total((g) => g.scenarios),
    passed: total((g) => g.passed),
    faultsInjected: total((g) => g.faultsInjected),
    pagesChecked: total((g) => g.pagesChecked),
    duplicatesFound: total((g) => g.duplicatesFound),
    dataLost: total((g) => g.dataLost),
  };
  writeWhole(COMBINED, `${JSON.stringify({ invocation: INVOCATION, totals, groups }, null, 2)}\n`);
  return (
    `[fault] summary of ${Object.keys(groups).sort().join(', ')}: ${totals.passed}/${totals.scenarios} scenarios passed, ` +
    `${totals.faultsInjected} faults injected, ${totals.pagesChecked} pages checked, ` +
    `${totals.duplicatesFound} duplicates found, ${totals.dataLost} rows lost (${COMBINED})`
  );
}
