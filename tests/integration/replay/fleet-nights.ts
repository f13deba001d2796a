import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Dataset, DateWindow } from '../../../events/index.js';
import { type RunSummary, runPipelineLocally } from '../../../local/run-pipeline.js';
import { createDuckDbQueryEngine } from '../../../services/adapters/local/duckdb/duckdb-query-engine.js';
import type {
  FetchedPage,
  FleetSource,
  PageRequest,
  PageSink,
} from '../../../services/ports/fleet-source.js';
import { ndjsonChunks, type SensorRow, type VehicleRow } from '../../../services/shared/rows.js';
import { nightlyWindow } from '../../../services/shared/run-identity.js';

const TYPES = ['bus', 'car', 'truck'] as const;

/** A small fleet: three vehicles a day, each measured every 10 to 30 s for half an hour; rows by creation time. */
function fleetRows(days: readonly string[]): { vehicles: VehicleRow[]; sensors: SensorRow[] } {
  const vehicles: VehicleRow[] = [];
  const sensors: SensorRow[] = [];
  for (const [d, day] of days.entries()) {
    const start = Date.parse(`${day}T06:00:00.000Z`);
    TYPES.forEach((type, t) => {
      const id = `V${d}${t}`;
      vehicles.push({
        vehicle_id: id,
        vehicle_type: type,
        created_at: new Date(start - 3_600_000).toISOString(),
      });
      for (let i = 0; i < 60; i += 1) {
        const timestamp = start + i * (t + 1) * 10_000;
        sensors.push({
          vehicle_id: id,
          timestamp,
          sensor_value: i,
          created_at: new Date(timestamp + 500).toISOString(),
        });
      }
    });
  }
  return { vehicles, sensors };
}

/** Serves the rows created in the request's window, in pages: the nights differ, as a real API's do. */
class WindowedSource implements FleetSource {
  private readonly rows: Record<Dataset, { created_at: string }[]>;

  constructor(days: readonly string[]) {
    this.rows = fleetRows(days);
  }

  windowFor(scheduledTime: Date): DateWindow {
    return nightlyWindow(scheduledTime);
  }

  maxPageSize(): number {
    return 50_000;
  }

  async countPages(request: PageRequest): Promise<number> {
    return Math.ceil(this.inWindow(request).length / request.pageSize);
  }

  async fetchPage<T>(request: PageRequest, sink: PageSink<T>): Promise<FetchedPage<T>> {
    const rows = this.inWindow(request);
    const start = (request.page - 1) * request.pageSize;
    const page = rows.slice(start, start + request.pageSize);
    const stored = await sink(ndjsonChunks(page));
    return { totalPages: Math.ceil(rows.length / request.pageSize), rows: page.length, rejected: [], stored };
  }

  private inWindow({ dataset, window }: PageRequest) {
    const from = Date.parse(window.from);
    const to = Date.parse(window.to);
    return this.rows[dataset].filter(
      (r) => Date.parse(r.created_at) >= from && Date.parse(r.created_at) < to,
    );
  }
}

/** Runs the given nights into a fresh state folder, as `etl run --date` would, and returns the folder. */
export async function runNights(
  days: readonly string[],
): Promise<{ stateDir: string; summaries: RunSummary[] }> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'replay-'));
  const source = new WindowedSource(days);
  const engine = await createDuckDbQueryEngine({ databasePath: path.join(stateDir, 'warehouse.duckdb') });
  const summaries: RunSummary[] = [];
  try {
    for (const date of days) {
      summaries.push(await runPipelineLocally({ date, stateDir, source, engine, pageSize: 100 }));
    }
  } finally {
    await engine.close();
  }
  return { stateDir, summaries };
}
