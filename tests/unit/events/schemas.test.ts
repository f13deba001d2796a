import {
  DetailType,
  detailJsonSchemas,
  detailSchemas,
  EventContractError,
  EventValidationError,
  entryBytes,
  isClaimChecked,
  MAX_EVENT_BYTES,
  parseFleetEvent,
  toOutgoingEvent,
} from '../../../events/index.js';
import { envelope } from '../../helpers/fakes.js';
import { validDetails } from '../../helpers/samples.js';

/** For each detail-type: mutations that must be refused, each naming why. */
const invalidVariants: Record<keyof typeof validDetails, [string, Record<string, unknown>][]> = {
  PagesPlanned: [
    ['negative totalPages', { totalPages: -1 }],
    ['pageSize over the API maximum', { pageSize: 50_001 }],
    ['unknown dataset', { dataset: 'drivers' }],
    [
      'window that ends before it starts',
      { window: { from: '2026-11-25T00:00:00.000Z', to: '2026-11-24T00:00:00.000Z', timeZone: 'UTC' } },
    ],
  ],
  PageDownloaded: [
    ['page 0', { page: 0 }],
    ['key escaping the lake', { key: '../../etc/passwd' }],
    ['absolute key', { key: '/sensors/page.ndjson' }],
    ['run id with a slash', { runId: '2026/11/24' }],
  ],
  DownloadsDrained: [
    ['dataset totals with negative rows', { datasets: { sensors: { pages: 1, rows: -5 } } }],
    ['missing window', { window: undefined }],
  ],
  SqlFileExecuted: [
    ['file name with a path', { file: '../secrets.sql' }],
    ['total of zero', { total: 0 }],
    ['missing runSoFar', { runSoFar: undefined }],
  ],
  EtlDone: [
    ['result key that is absolute', { results: { avg: '/tmp/x.json' } }],
    ['query name with spaces', { results: { 'avg seconds': 'results/x.json' } }],
  ],
  EtlFailed: [
    ['empty reason', { reason: '' }],
    ['unknown stage', { stage: 'janitor' }],
  ],
};

describe('event schemas', () => {
  describe.each(Object.keys(validDetails) as (keyof typeof validDetails)[])('%s', (detailType) => {
    it('accepts the valid sample', () => {
      // Act
      const parsed = detailSchemas[detailType].safeParse(validDetails[detailType]);

      // Assess
      expect(parsed.success).toBe(true);
    });

    it('refuses a detail of another schema version', () => {
      const parsed = detailSchemas[detailType].safeParse({ ...validDetails[detailType], schemaVersion: 2 });
      expect(parsed.success).toBe(false);
    });

    it.each(invalidVariants[detailType])('refuses %s', (_why, change) => {
      // Prepare
      const detail = { ...validDetails[detailType], ...change };

      // Act
      const parsed = detailSchemas[detailType].safeParse(detail);

      // Assess
      expect(parsed.success).toBe(false);
    });

    it('round-trips through an EventBridge envelope', () => {
      const event = parseFleetEvent(envelope(detailType, validDetails[detailType]), [DetailType[detailType]]);
      expect(event.detail).toEqual(validDetails[detailType]);
    });

    it('exports a JSON Schema (the full detail, or for growable ones the full detail or a reference)', () => {
      type Exported = { type?: string; required?: string[]; anyOf?: Exported[] };
      const schema = detailJsonSchemas()[detailType] as Exported;
      const [full, reference, ...rest] = isClaimChecked(detailType) ? (schema.anyOf ?? []) : [schema];
      expect(full?.type).toBe('object');
      expect(full?.required).toContain('schemaVersion');
      if (isClaimChecked(detailType)) {
        expect(reference?.required).toEqual(['schemaVersion', 'runId', 'detailRef']);
        expect(rest).toEqual([]);
      }
    });
  });
});

describe('parseFleetEvent', () => {
  it('names the detail-type and the field when the detail is invalid', () => {
    const bad = envelope('PageDownloaded', { ...validDetails.PageDownloaded, page: -3 });
    expect(() => parseFleetEvent(bad, [DetailType.PageDownloaded])).toThrow(
      /invalid PageDownloaded detail.*page/s,
    );
  });

  it('refuses a detail-type the consumer does not accept', () => {
    const other = envelope('EtlDone', validDetails.EtlDone);
    expect(() => parseFleetEvent(other, [DetailType.PageDownloaded])).toThrow(EventValidationError);
  });

  it('refuses events from another source', () => {
    const foreign = envelope('EtlDone', validDetails.EtlDone, { source: 'aws.s3' });
    expect(() => parseFleetEvent(foreign, [DetailType.EtlDone])).toThrow(/unexpected event source "aws.s3"/);
  });

  it('refuses something that is not an envelope', () => {
    expect(() => parseFleetEvent({ hello: 'world' }, [DetailType.EtlDone])).toThrow(
      /not an EventBridge event/,
    );
  });

  it('keeps replay-name, which replays add', () => {
    const replayed = envelope('EtlDone', validDetails.EtlDone, { 'replay-name': 'nightly-replay' });
    expect(parseFleetEvent(replayed, [DetailType.EtlDone])['replay-name']).toBe('nightly-replay');
  });
});

describe('toOutgoingEvent (the publish helper)', () => {
  it('fills the schema version and serialises the validated detail', () => {
    const { schemaVersion: _, ...input } = validDetails.PageDownloaded;
    const out = toOutgoingEvent(DetailType.PageDownloaded, input);
    expect(out).toEqual({
      source: 'fleet-etl',
      detailType: 'PageDownloaded',
      detail: JSON.stringify(validDetails.PageDownloaded),
    });
  });

  it('refuses to publish an invalid detail, before anything is sent', () => {
    const { schemaVersion: _, ...input } = validDetails.PageDownloaded;
    expect(() => toOutgoingEvent(DetailType.PageDownloaded, { ...input, rows: -1 })).toThrow(
      EventContractError,
    );
  });

  it('leaves the size to the publishing path: a valid detail over 256 KB becomes an entry', () => {
    // ClaimCheckPublisher sends it by reference, or refuses it (tests/unit/events/claim-check.test.ts).
    const ids = Array.from({ length: 20_000 }, (_, i) => `query-execution-${i}`);
    const { schemaVersion: __, ...done } = validDetails.EtlDone;
    const out = toOutgoingEvent(DetailType.EtlDone, {
      ...done,
      files: [...done.files],
      summary: { ...done.summary, queryExecutionIds: ids },
    });
    expect(entryBytes(out)).toBeGreaterThan(MAX_EVENT_BYTES);
  });
});
