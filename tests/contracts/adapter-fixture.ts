/**
 * One adapter of a port, as a contract suite runs it: `fresh` gives an instance with nothing in it (a new queue,
 * table, bucket or folder), so the suite's cases never see each other's state; `start` and `stop` bracket the whole
 * suite (an emulator on loopback, say).
 */
export interface AdapterFixture<T> {
  /** The adapter's name, and over what it runs: `SqsTaskQueue over fauxqs`. */
  name: string;
  start?(): Promise<void>;
  fresh(): Promise<T>;
  stop?(): Promise<void>;
}

/** Describes the suite for one adapter: `<port> contract: <adapter>`, with its emulator's start and stop. */
export function describeContract<T>(
  port: string,
  fixture: AdapterFixture<T>,
  cases: (fresh: () => Promise<T>) => void,
): void {
  describe(`${port} contract: ${fixture.name}`, () => {
    beforeAll(async () => {
      await fixture.start?.();
    }, 30_000);
    afterAll(async () => {
      await fixture.stop?.();
    }, 30_000);
    cases(() => fixture.fresh());
  });
}
