import { randomUUID } from 'node:crypto';
import type { Dataset, DateWindow } from '../../events/index.js';
import {
  type DetailTypeName,
  EVENT_SOURCE,
  type EventBridgeEnvelope,
  type EventPublisher,
  type OutgoingEvent,
} from '../../events/index.js';
import type { FetchedPage, FleetSource, PageRequest, PageSink } from '../../services/ports/fleet-source.js';
import type { ObjectBody, ObjectStore } from '../../services/ports/object-store.js';
import { type DownloadTask, type TaskQueue, tasksToSend } from '../../services/ports/task-queue.js';
import { TerminalError } from '../../services/shared/errors.js';
import type { Logger } from '../../services/shared/logger.js';
import { ndjsonChunks } from '../../services/shared/rows.js';
import { nightlyWindow } from '../../services/shared/run-identity.js';
import type { SnapshotMode } from '../../services/source-config/index.js';

/** Keeps what was published, in order, with details parsed back from JSON. */
export class RecordingPublisher implements EventPublisher {
  readonly events: { detailType: DetailTypeName; detail: Record<string, unknown> }[] = [];
  failNext = 0;

  async publish(events: readonly OutgoingEvent[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('PutEvents failed');
    }
    for (const e of events) this.events.push({ detailType: e.detailType, detail: JSON.parse(e.detail) });
  }

  ofType(detailType: DetailTypeName): Record<string, unknown>[] {
    return this.events.filter((e) => e.detailType === detailType).map((e) => e.detail);
  }
}

export class MemoryObjectStore implements ObjectStore {
  readonly location = 'memory://store';
  readonly objects = new Map<string, Uint8Array>();

  async put(key: string, body: ObjectBody): Promise<{ bytes: number }> {
    const chunks: Uint8Array[] = [];
    if (typeof body === 'string') chunks.push(new TextEncoder().encode(body));
    else if (body instanceof Uint8Array) chunks.push(body);
    else for await (const chunk of body) chunks.push(chunk);
    const joined = Buffer.concat(chunks);
    this.objects.set(key, joined);
    return { bytes: joined.byteLength };
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key);
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.objects.delete(key);
  }

  text(key: string): string | undefined {
    const body = this.objects.get(key);
    return body === undefined ? undefined : new TextDecoder().decode(body);
  }
}

/** Keeps what was sent, checked as every tasks queue checks it (tests/contracts/task-queue.contract.ts). */
export class RecordingQueue implements TaskQueue {
  readonly sent: DownloadTask[] = [];
  async send(tasks: readonly DownloadTask[]): Promise<void> {
    this.sent.push(...tasksToSend(tasks));
  }
}

/**
 * A source serving `rowsPerDataset` rows per dataset in pages (UTC-day windows), and recording each request. It
 * keeps the FleetSource contract (tests/contracts/fleet-source.contract.ts) as the HTTP source does.
 */
export class FakeSource implements FleetSource {
  readonly requests: PageRequest[] = [];
  /** Set by a test to make a dataset's nights snapshots (FleetSource.snapshotMode). */
  snapshotMode?: (dataset: Dataset) => SnapshotMode;
  constructor(
    private readonly rowsPerDataset: Record<string, unknown[]>,
    private readonly pageSizeLimit = 50_000,
  ) {}

  windowFor(scheduledTime: Date): DateWindow {
    return nightlyWindow(scheduledTime);
  }

  maxPageSize(_dataset: Dataset): number {
    return this.pageSizeLimit;
  }

  async countPages(request: PageRequest): Promise<number> {
    this.requests.push(request);
    return this.totalPages(request);
  }

  async fetchPage<T>(request: PageRequest, sink: PageSink<T>): Promise<FetchedPage<T>> {
    this.requests.push(request);
    const totalPages = this.totalPages(request);
    if (request.expectedTotalPages !== undefined && request.expectedTotalPages !== totalPages) {
      // As the HTTP source refuses it (page-body-parser.ts): the page slices moved, nothing may be stored.
      throw new TerminalError(
        `total_pages changed since planning: the page says ${totalPages}, the plan has ${request.expectedTotalPages}`,
      );
    }
    const rows = this.rowsPerDataset[request.dataset] ?? [];
    const start = (request.page - 1) * request.pageSize;
    const page = rows.slice(start, start + request.pageSize);
    const stored = await sink(ndjsonChunks(page));
    return { totalPages, rows: page.length, rejected: [], stored };
  }

  private totalPages(request: PageRequest): number {
    return Math.ceil((this.rowsPerDataset[request.dataset] ?? []).length / request.pageSize);
  }
}

/** A logger that keeps its lines, so a test can assert on warnings. */
export function recordingLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    info: (message) => lines.push({ level: 'info', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    error: (message) => lines.push({ level: 'error', message }),
  };
}

export const fixedClock = { now: () => new Date('2026-11-25T01:00:00.000Z') };

/** An EventBridge envelope as Lambda receives it. */
export function envelope(
  detailType: string,
  detail: unknown,
  extra: Partial<EventBridgeEnvelope> = {},
): EventBridgeEnvelope {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: EVENT_SOURCE,
    account: '123456789012',
    time: '2026-11-25T01:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: { schemaVersion: 1, ...(detail as object) },
    ...extra,
  };
}
