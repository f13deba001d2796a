import type { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DetailType, type EventPublisher, type OutgoingEvent } from '../../events/index.js';
import { replayLocally } from '../../local/replay.js';
import type { LocalPorts } from '../../local/wiring.js';
import { EventBridgePublisher } from '../../services/adapters/aws/eventbridge/publisher.js';
import type { ObjectBody, ObjectStore } from '../../services/ports/object-store.js';
import { type FaultRun, faultRun } from './harness.js';
import { archivedEvents, filesUnder } from './invariants.js';
import type { Scenario } from './scenario.js';
import { faultGroup } from './suite.js';

/** Counts what a decorator injected, for the scenario's line. */
class Injected {
  count = 0;
}

/** An object store whose `put` fails on the calls `fails` picks, after reading part of the body (a write cut off). */
function failingPuts(
  store: ObjectStore,
  fails: (call: number, key: string) => boolean,
  injected: Injected,
): ObjectStore {
  let calls = 0;
  return {
    location: store.location,
    get: (key) => store.get(key),
    exists: (key) => store.exists(key),
    list: (prefix) => store.list(prefix),
    delete: (keys) => store.delete(keys),
    put: async (key: string, body: ObjectBody, options?: { contentType?: string }) => {
      calls += 1;
      if (fails(calls, key)) {
        injected.count += 1;
        if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
          for await (const _ of body) break; // some bytes arrived, then the write failed
        }
        throw Object.assign(new Error(`object store write of ${key} failed (injected: SlowDown)`), {
          name: 'SlowDown',
        });
      }
      return store.put(key, body, options);
    },
  };
}

/**
 * The real EventBridge adapter over a PutEvents that refuses some entries (InternalFailure) and forwards the rest
 * to the local bus: the adapter must send again only the refused entries.
 */
function partialPutEvents(bus: EventPublisher, injected: Injected, forwarded: string[]): EventPublisher {
  let entries = 0;
  const client = {
    send: async (command: PutEventsCommand) => {
      const results = [];
      for (const entry of command.input.Entries ?? []) {
        entries += 1;
        if (entries % 3 === 0) {
          injected.count += 1;
          results.push({ ErrorCode: 'InternalFailure', ErrorMessage: 'injected' });
          continue;
        }
        const event: OutgoingEvent = {
          source: 'fleet-etl',
          detailType: entry.DetailType as OutgoingEvent['detailType'],
          detail: entry.Detail ?? '',
        };
        await bus.publish([event]);
        forwarded.push(`${entry.DetailType} ${entry.Detail}`);
        results.push({ EventId: `e${entries}` });
      }
      return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
    },
  } as unknown as EventBridgeClient;
  return new EventBridgePublisher(client, {
    busName: 'fleet-etl',
    baseDelayMs: 5,
    maxDelayMs: 20,
    maxAttempts: 6,
  });
}

/** Publishes every event twice, as a producer that retried after a lost acknowledgement would. */
function twice(bus: EventPublisher, injected: Injected): EventPublisher {
  return {
    publish: async (events) => {
      await bus.publish(events);
      injected.count += events.length;
      await bus.publish(events);
    },
  };
}

/** Fails the first PageDownloaded of one page after the page was stored: the downloader died between the two. */
function crashAfterStore(bus: EventPublisher, injected: Injected): EventPublisher {
  return {
    publish: async (events) => {
      const crash = events.some(
        (e) =>
          e.detailType === DetailType.PageDownloaded && /"page":2,/.test(e.detail) && injected.count === 0,
      );
      if (crash) {
        injected.count += 1;
        throw new Error('downloader crashed after storing sensors page 2 (injected)');
      }
      await bus.publish(events);
    },
  };
}

const decorate =
  (f: (ports: LocalPorts) => Partial<LocalPorts>) =>
  (ports: LocalPorts): LocalPorts => ({ ...ports, ...f(ports) });

function withInjected(
  make: (injected: Injected) => Promise<FaultRun>,
): () => Promise<FaultRun & { injected: number }> {
  return async () => {
    const injected = new Injected();
    const run = await make(injected);
    return Object.assign(run, { injected: injected.count });
  };
}

const injectedOf = (run: FaultRun) => ('injected' in run ? Number(run.injected) : 0);

const forwarded: string[] = [];

const scenarios: Scenario[] = [
  {
    name: 'object store write failures',
    injected: 'every 4th raw write and the first results write fail midway',
    expect: { kind: 'answer' },
    run: withInjected((injected) =>
      faultRun({
        decoratePorts: decorate((p) => ({
          rawStore: failingPuts(p.rawStore, (call) => call % 4 === 0, injected),
          resultsStore: failingPuts(p.resultsStore, (call) => call === 1, injected),
        })),
      }),
    ),
    faults: injectedOf,
  },
  {
    name: 'PutEvents with failed entries',
    injected: 'every 3rd PutEvents entry refused (InternalFailure) through the EventBridge adapter',
    expect: { kind: 'answer' },
    run: withInjected((injected) =>
      faultRun({
        decoratePorts: decorate((p) => ({ publisher: partialPutEvents(p.publisher, injected, forwarded) })),
      }),
    ),
    faults: injectedOf,
    extraChecks: () => {
      const repeated = forwarded.length - new Set(forwarded).size;
      return repeated > 0 ? [`${repeated} accepted entries were sent again`] : [];
    },
  },
  {
    name: 'duplicate deliveries of every event type',
    injected: 'every event published twice, every task queued twice',
    expect: { kind: 'answer', publishedTimes: 2 },
    run: withInjected((injected) =>
      faultRun({
        decoratePorts: decorate((p) => ({
          publisher: twice(p.publisher, injected),
          queue: {
            send: async (tasks) => {
              injected.count += tasks.length;
              await p.queue.send([...tasks, ...tasks]);
            },
          },
        })),
      }),
    ),
    faults: injectedOf,
    extraChecks: (run) => {
      const types = new Set(archivedEvents(run.stateDir).map((e) => e['detail-type']));
      const missing = Object.values(DetailType).filter((t) => t !== DetailType.EtlFailed && !types.has(t));
      return missing.length > 0 ? [`not duplicated: ${missing.join(', ')}`] : [];
    },
  },
  {
    name: 'consumer crashing mid-batch',
    injected: 'the downloader dies after storing sensors page 2, before announcing it',
    expect: { kind: 'answer' },
    run: withInjected((injected) =>
      faultRun({ decoratePorts: decorate((p) => ({ publisher: crashAfterStore(p.publisher, injected) })) }),
    ),
    faults: injectedOf,
  },
  {
    name: 'event target failing until its retries end',
    injected: 'an EtlDone consumer that always throws',
    expect: { kind: 'failure', failure: /^auditor: dead letter: .*injected/, deadLetters: 0 },
    run: withInjected((injected) =>
      faultRun({
        consumers: [
          {
            name: 'auditor',
            pattern: { source: ['fleet-etl'], 'detail-type': [DetailType.EtlDone] },
            handler: async () => {
              injected.count += 1;
              throw new Error('auditor is down (injected)');
            },
          },
        ],
      }),
    ),
    faults: injectedOf,
    extraChecks: async (run) => {
      const { SqliteQueue } = await import('../../services/adapters/local/sqlite/sqlite-queue.js');
      const { openStateDatabase } = await import('../../services/adapters/local/sqlite/state-database.js');
      const db = openStateDatabase(`${run.stateDir}/state.sqlite`);
      try {
        const letters = new SqliteQueue(db, {
          name: 'auditor-target',
          visibilityTimeoutMs: 0,
          maxReceiveCount: 1,
        })
          .deadLetters()
          .filter((l) => l.body.includes('"EtlDone"'));
        return [
          ...(letters.length === 1
            ? []
            : [`auditor-target-dlq holds ${letters.length} EtlDone events, expected 1`]),
          ...(run.summary.failures.length === 1
            ? []
            : [`other failures: ${run.summary.failures.join(' | ')}`]),
        ];
      } finally {
        db.close();
      }
    },
  },
];

describe('fault injection: the platform', () => {
  const { recorder, calm: calmRun, baseline: fetchBaseline } = faultGroup('platform', scenarios);

  it('replays of any window leave the lake, the tables and the answer as they were', async () => {
    const result = await recorder.runProbe({
      name: 'replays of any window',
      injected: 'the whole archive, then each half of it, replayed to every consumer',
      run: async () => {
        const calm = calmRun();
        const baseline = fetchBaseline();
        const lakeBefore = filesUnder(calm.summary.lake.raw);
        const events = archivedEvents(calm.stateDir);
        const times = events.map((e) => Date.parse(String((e as { time?: string }).time)));
        const middle = new Date(times[Math.floor(times.length / 2)] ?? Date.now());
        let replayed = 0;
        const violations: string[] = [];
        for (const [i, selection] of [{}, { until: middle }, { since: middle }].entries()) {
          const outcome = await replayLocally({
            stateDir: calm.stateDir,
            selection,
            replayName: `faults-${i}`,
          });
          replayed += outcome.selected;
          if (outcome.deadLetters.length > 0) violations.push(`dead letters: ${outcome.deadLetters.length}`);
        }
        const { checkInvariants } = await import('./invariants.js');
        const report = await checkInvariants(calm, { kind: 'answer' }, baseline);
        violations.push(...report.violations);
        if (filesUnder(calm.summary.lake.raw).join() !== lakeBefore.join())
          violations.push('the lake changed');
        const live = archivedEvents(calm.stateDir).length;
        if (live !== events.length) violations.push(`the archive grew from ${events.length} to ${live}`);
        return { faults: replayed, checked: report.checked.join(', '), violations };
      },
    });
    expect(result.violations).toEqual([]);
  }, 90_000);
});
