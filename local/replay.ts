import type { Dataset, DateWindow } from '../events/index.js';
import { FolderSqlSource } from '../services/adapters/local/folder-sql-source.js';
import { systemClock } from '../services/ports/clock.js';
import type { FetchedPage, FleetSource, PageRequest } from '../services/ports/fleet-source.js';
import type { QueryEngine, StatementResult } from '../services/ports/query-engine.js';
import { TerminalError } from '../services/shared/errors.js';
import { DATASETS } from '../services/topology.js';
import { type ArchiveSelection, envelopeOf, readArchive, selectEvents } from './archive.js';
import { REPLAY_NAME } from './replay-name.js';
import { BUNDLED_QUERIES } from './run-pipeline.js';
import { type DeadLetter, type ExtraConsumer, LocalRuntime, stateLayout } from './runtime.js';

export interface LocalReplayOptions {
  stateDir: string;
  selection: ArchiveSelection;
  /** Consumers whose rules receive the events (EventBridge's FilterArns); every rule when empty. */
  consumers?: readonly string[];
  replayName: string;
  /** Consumers that are not in the topology (tests: "a consumer added after the runs"). */
  extraConsumers?: readonly ExtraConsumer[];
}

export interface LocalReplaySummary {
  replayName: string;
  archive: string;
  selected: number;
  deliveries: Record<string, number>;
  deadLetters: DeadLetter[];
  /** The archive's last line was cut short by a crash while appending; it was skipped. */
  truncatedLastLine?: number;
}

/**
 * Replays the local archive as an EventBridge replay does: the selected events go, in the order they were
 * published, to the named consumers' rules with `replay-name` set, and are not archived again. Stages that keep
 * the run's progress ignore replays by their rules (decision 40), so no planning, download or SQL happens: the
 * tasks queue is left alone and the runtime has no fleet source or query engine to offer.
 */
export async function replayLocally(options: LocalReplayOptions): Promise<LocalReplaySummary> {
  if (!REPLAY_NAME.test(options.replayName)) {
    throw new RangeError(`replay name "${options.replayName}": 1 to 64 letters, digits, ".", "-" or "_"`);
  }
  const layout = stateLayout(options.stateDir);
  const archive = readArchive(layout.archive);
  const selected = selectEvents(archive.events, options.selection);
  const runtime = new LocalRuntime({
    stateDir: options.stateDir,
    queues: 'paused',
    consumers: options.extraConsumers ?? [],
    ports: {
      source: noSourceDuringReplays,
      engine: noEngineDuringReplays,
      sqlSource: new FolderSqlSource(BUNDLED_QUERIES),
      clock: systemClock,
      datasets: DATASETS,
      database: 'fleet_etl',
      pageSize: 50_000,
    },
  });
  try {
    const outcome = await runtime.replay(selected.map(envelopeOf), {
      replayName: options.replayName,
      ...(options.consumers === undefined ? {} : { consumers: options.consumers }),
    });
    return {
      replayName: options.replayName,
      archive: layout.archive,
      selected: selected.length,
      deliveries: outcome.deliveries,
      deadLetters: [...runtime.deadLetters],
      ...(archive.truncatedLastLine === undefined ? {} : { truncatedLastLine: archive.truncatedLastLine }),
    };
  } finally {
    await runtime.close();
  }
}

const notDuringReplays = (what: string) =>
  new TerminalError(
    `${what} is not available during a replay: replays never plan, download or run SQL ` +
      '(docs/decisions/0040-replays-redo-no-pipeline-work.md); run `etl run --date <day>` to redo a night',
  );

/** The planner and downloader are not rule-triggered, so a replay never reaches them. */
const noSourceDuringReplays: FleetSource = {
  windowFor(_scheduledTime: Date): DateWindow {
    throw notDuringReplays('the fleet source');
  },
  maxPageSize(_dataset: Dataset): number {
    throw notDuringReplays('the fleet source');
  },
  countPages(_request: PageRequest): Promise<number> {
    return Promise.reject(notDuringReplays('the fleet source'));
  },
  fetchPage<T>(_request: PageRequest): Promise<FetchedPage<T>> {
    return Promise.reject(notDuringReplays('the fleet source'));
  },
};

/** The query runner's rule ignores replayed events, so a replay never reaches the engine. */
const noEngineDuringReplays: QueryEngine = {
  execute(): Promise<StatementResult> {
    return Promise.reject(notDuringReplays('the query engine'));
  },
};
