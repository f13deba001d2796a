import { DatasetSchema } from '../../events/index.js';
import type { FailedReport } from './report-model.js';

/** One stage of the night as a failed night's report shows it. */
export interface FailedNightStep {
  name: 'Plan' | 'Download' | 'SQL files' | 'Answer and report';
  /** `stopped`: the stage had started and did not finish, because another one failed. */
  state: 'done' | 'failed' | 'stopped' | 'not reached';
  detail: string;
}

const pages = (n: number) => `${n.toLocaleString('en-US')} page${n === 1 ? '' : 's'}`;

/**
 * Where a failed night stopped, stage by stage, from what its report holds: the EtlFailed event's stage, and the
 * ledger's plans, stored pages and drained flag. Every dataset of the API is planned in every run, so one without
 * a plan is a plan that did not happen.
 */
export function nightSteps(report: FailedReport): FailedNightStep[] {
  const { failure, datasets, drained } = report;
  const all = DatasetSchema.options;
  const planned = all.filter((d) => datasets[d]?.plannedPages !== undefined);
  const plan: FailedNightStep = {
    name: 'Plan',
    state:
      failure.stage === 'planner'
        ? 'failed'
        : planned.length === all.length
          ? 'done'
          : planned.length > 0
            ? 'stopped'
            : 'not reached',
    detail: all
      .map((d) => {
        const p = datasets[d]?.plannedPages;
        return p === undefined ? `${d}: not planned` : `${d}: ${pages(p)}`;
      })
      .join(', '),
  };
  const storedOfPlanned = all
    .filter((d) => datasets[d] !== undefined)
    .map((d) => {
      const { storedPages = 0, plannedPages } = datasets[d] ?? {};
      return `${d}: ${storedPages.toLocaleString('en-US')} of ${plannedPages === undefined ? '?' : pages(plannedPages)} stored`;
    })
    .join(', ');
  const gaveUp = report.failedPages.length;
  const anyStored = all.some((d) => (datasets[d]?.storedPages ?? 0) > 0);
  const download: FailedNightStep = {
    name: 'Download',
    state: drained
      ? 'done'
      : failure.stage === 'downloader' || failure.stage === 'completion-tracker'
        ? 'failed'
        : anyStored || planned.length > 0
          ? 'stopped'
          : 'not reached',
    detail:
      (storedOfPlanned === '' ? 'no page stored' : storedOfPlanned) +
      (gaveUp === 0 ? '' : `; ${pages(gaveUp)} gave up`),
  };
  const sql: FailedNightStep =
    failure.stage === 'query-runner'
      ? {
          name: 'SQL files',
          state: 'failed',
          detail: failure.file === undefined ? 'a SQL file failed' : `stopped at ${failure.file}`,
        }
      : drained
        ? { name: 'SQL files', state: 'stopped', detail: 'started, did not finish' }
        : { name: 'SQL files', state: 'not reached', detail: 'not started: downloads never drained' };
  return [
    plan,
    download,
    sql,
    { name: 'Answer and report', state: 'not reached', detail: 'no answer; this page is the report' },
  ];
}
