import type { RunSummary } from '../local/run-pipeline.js';
import { formatCount } from '../services/shared/number-format.js';

/**
 * Rounding the window outward to the API's filter precision brings a few rows of the neighbouring nights; most of
 * what the API sent being outside the night means it does not filter by date at all (or the configuration names the
 * filters wrong): the answer is still right, since those rows are left out, but every night downloads the whole
 * history again. One warning per such dataset.
 */
export function dateFilterWarnings(summary: Pick<RunSummary, 'outsideWindow' | 'datasets'>): string[] {
  return Object.entries(summary.outsideWindow).flatMap(([dataset, outside]) => {
    const kept = summary.datasets[dataset]?.rows ?? 0;
    if (outside <= kept) return [];
    return [
      `most ${dataset} rows the API sent were outside the window (${formatCount(outside)} left out, ` +
        `${formatCount(kept)} kept): does it ignore the date filters? Check the query names and dateFilter of ` +
        `${dataset} in the source configuration`,
    ];
  });
}
