import type { DateWindow } from '../../events/index.js';

export const window: DateWindow = {
  from: '2026-11-24T00:00:00.000Z',
  to: '2026-11-25T00:00:00.000Z',
  timeZone: 'UTC',
};

export const runId = '2026-11-24';

/** A valid detail for every detail-type, the base for the invalid variants in the schema tests. */
export const validDetails = {
  PagesPlanned: {
    schemaVersion: 1,
    runId,
    dataset: 'sensors',
    window,
    totalPages: 3,
    pageSize: 50_000,
    plannedAt: '2026-11-25T01:00:01.000Z',
  },
  PageDownloaded: {
    schemaVersion: 1,
    runId,
    dataset: 'sensors',
    page: 2,
    rows: 50_000,
    bytes: 4_200_000,
    key: 'sensors/run=2026-11-24/page-00002.ndjson',
  },
  DownloadsDrained: {
    schemaVersion: 1,
    runId,
    window,
    datasets: { vehicles: { pages: 1, rows: 200 }, sensors: { pages: 3, rows: 120_000 } },
  },
  SqlFileExecuted: {
    schemaVersion: 1,
    runId,
    window,
    file: '20_vehicles_data.sql',
    index: 1,
    total: 4,
    statements: 2,
    queryExecutionIds: ['q-1', 'q-2'],
    dataScannedBytes: 1024,
    durationMs: 12.5,
    runSoFar: {
      results: {},
      queryExecutionIds: ['q-0', 'q-1', 'q-2'],
      dataScannedBytes: 2048,
      durationMs: 20,
    },
  },
  EtlDone: {
    schemaVersion: 1,
    runId,
    window,
    files: ['10_raw_tables.sql', '40_avg.sql'],
    results: { avg: 'results/run=2026-11-24/avg.json' },
    summary: { queryExecutionIds: ['q-1'], dataScannedBytes: 10, durationMs: 5 },
  },
  EtlFailed: {
    schemaVersion: 1,
    runId,
    stage: 'downloader',
    reason: 'page 3 answered 400: pageSize must be at most 50000',
    dataset: 'sensors',
    page: 3,
  },
} as const;
