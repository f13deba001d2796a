import { rmSync } from 'node:fs';
import { type FaultRun, faultRun } from './harness.js';
import { type Answer, answerOf, independentAnswer, sameAnswer } from './invariants.js';
import { type Scenario, SuiteRecorder } from './scenario.js';

export interface FaultGroup {
  recorder: SuiteRecorder;
  /** The fault-free run of the group, done once before its scenarios. */
  calm(): FaultRun;
  /** Its answer, checked against the independent TypeScript computation. */
  baseline(): Answer;
}

/**
 * Registers, inside a `describe`, what every group of scenarios shares: one fault-free run whose answer the
 * scenarios must reproduce, a test per scenario, and the group's summary line at the end.
 */
export function faultGroup(group: string, scenarios: readonly Scenario[]): FaultGroup {
  const recorder = new SuiteRecorder();
  let calm: FaultRun | undefined;
  let baseline: Answer = [];

  beforeAll(async () => {
    calm = await faultRun();
    baseline = answerOf(calm);
    if (calm.summary.status !== 'succeeded' || !sameAnswer(baseline, independentAnswer(calm))) {
      throw new Error(`the fault-free run is wrong: ${calm.summary.failures.join(' | ')}`);
    }
  }, 60_000);

  afterAll(() => {
    recorder.summarise(group);
    if (calm !== undefined) rmSync(calm.stateDir, { recursive: true, force: true });
  });

  if (scenarios.length > 0) {
    it.each(scenarios.map((s) => [s.name, s] as const))(
      '%s',
      async (_name, scenario) => {
        const result = await recorder.runScenario(scenario, baseline);
        expect(result.violations).toEqual([]);
      },
      90_000,
    );
  }

  return {
    recorder,
    calm: () => {
      if (calm === undefined) throw new Error('the fault-free run has not run');
      return calm;
    },
    baseline: () => baseline,
  };
}
