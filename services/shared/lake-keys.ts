import type { Dataset } from '../../events/index.js';

/**
 * Raw page keys are derived from validated (dataset, runId, page) only, Hive-style so the raw tables can be
 * partitioned by run: `sensors/run=2026-11-24/page-00001.ndjson`.
 */
export function rawPageKey(dataset: Dataset, runId: string, page: number): string {
  return `${rawRunPrefix(dataset, runId)}page-${String(page).padStart(5, '0')}.ndjson`;
}

export function rawRunPrefix(dataset: Dataset, runId: string): string {
  return `${dataset}/run=${runId}/`;
}

/** Result rows of a named query of a run, as JSON, in the results store. */
export function resultKey(runId: string, queryName: string): string {
  return `results/run=${runId}/${queryName}.json`;
}

/** The report the first EtlDone consumer writes. */
export function reportKey(runId: string): string {
  return `reports/run=${runId}/report.json`;
}
