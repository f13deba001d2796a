import type { Clock } from '../../../../../services/ports/clock.js';
import type { DownloadTask } from '../../../../../services/ports/task-queue.js';

/** Every client gets a region and static credentials so that nothing reaches for the environment. */
export const clientConfig = {
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
};

export const noSleep = async (_ms: number): Promise<void> => {};

/** A sleep that records what it was asked to wait, and returns at once. */
export function recordingSleep(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms) => {
      waits.push(ms);
    },
  };
}

/** A clock that stands still until told to move. */
export function manualClock(start = '2026-11-25T01:00:00.000Z'): Clock & { advance(ms: number): void } {
  let now = Date.parse(start);
  return {
    now: () => new Date(now),
    advance: (ms) => {
      now += ms;
    },
  };
}

export const window = {
  from: '2026-11-24T00:00:00.000Z',
  to: '2026-11-25T00:00:00.000Z',
  timeZone: 'UTC',
};

export function downloadTask(overrides: Partial<DownloadTask> = {}): DownloadTask {
  return {
    runId: '2026-11-24',
    dataset: 'sensors',
    window,
    page: 1,
    pageSize: 50_000,
    totalPages: 30,
    ...overrides,
  };
}

/** An error shaped as SDK v3 service errors are, for services whose exception classes are not exported. */
export function serviceError(name: string, httpStatusCode: number, message = `${name} happened`): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}

/** A promise resolved from outside, to hold a mocked call open while others pile up. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
