import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DetailType, parseFleetEvent } from '../../../events/index.js';
import { FsRunLedger } from '../../../services/adapters/local/fs-run-ledger.js';
import {
  type CompletionEvent,
  trackCompletion,
} from '../../../services/completion-tracker/track-completion.js';
import { envelope, RecordingPublisher, recordingLogger } from '../../helpers/fakes.js';
import { runId, validDetails, window } from '../../helpers/samples.js';

const planned = (dataset: 'vehicles' | 'sensors', totalPages: number): CompletionEvent =>
  parseFleetEvent(envelope('PagesPlanned', { ...validDetails.PagesPlanned, dataset, totalPages, window }), [
    DetailType.PagesPlanned,
  ]);

const downloaded = (dataset: 'vehicles' | 'sensors', page: number, rows = 10): CompletionEvent =>
  parseFleetEvent(
    envelope('PageDownloaded', {
      ...validDetails.PageDownloaded,
      dataset,
      page,
      rows,
      key: `${dataset}/run=${runId}/p${page}`,
    }),
    [DetailType.PageDownloaded],
  );

function deps() {
  return {
    ledger: new FsRunLedger(mkdtempSync(path.join(tmpdir(), 'ledger-'))),
    publisher: new RecordingPublisher(),
    datasets: ['vehicles', 'sensors'] as const,
    logger: recordingLogger(),
  };
}

describe('trackCompletion', () => {
  it('announces DownloadsDrained once every page of every dataset is stored, with totals', async () => {
    // Prepare
    const d = deps();
    const events = [
      planned('vehicles', 1),
      planned('sensors', 2),
      downloaded('vehicles', 1, 3),
      downloaded('sensors', 1),
      downloaded('sensors', 2, 7),
    ];

    // Act
    const outcomes = [];
    for (const e of events) outcomes.push(await trackCompletion(e, d));

    // Assess
    expect(outcomes).toEqual(['waiting', 'waiting', 'waiting', 'waiting', 'drained']);
    expect(d.publisher.ofType('DownloadsDrained')).toEqual([
      {
        schemaVersion: 1,
        runId,
        window,
        datasets: { vehicles: { pages: 1, rows: 3 }, sensors: { pages: 2, rows: 17 } },
      },
    ]);
  });

  it('counts a redelivered page once and does not announce twice', async () => {
    const d = deps();
    for (const e of [
      planned('vehicles', 1),
      planned('sensors', 1),
      downloaded('sensors', 1),
      downloaded('sensors', 1),
    ]) {
      await trackCompletion(e, d);
    }
    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(0);
    await trackCompletion(downloaded('vehicles', 1), d);
    await trackCompletion(downloaded('vehicles', 1), d);
    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(1);
    expect(d.publisher.ofType('DownloadsDrained')[0]).toMatchObject({
      datasets: { sensors: { pages: 1, rows: 10 } },
    });
  });

  it('waits for a plan that arrives after its pages', async () => {
    const d = deps();
    await trackCompletion(downloaded('sensors', 1), d);
    await trackCompletion(planned('vehicles', 0), d);
    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(0);
    expect(await trackCompletion(planned('sensors', 1), d)).toBe('drained');
  });

  it('announces once when concurrent deliveries race for completion', async () => {
    const d = deps();
    await trackCompletion(planned('vehicles', 0), d);
    await trackCompletion(planned('sensors', 3), d);
    await Promise.all([1, 2, 3, 3, 2, 1].map((page) => trackCompletion(downloaded('sensors', page), d)));
    expect(d.publisher.ofType('DownloadsDrained')).toHaveLength(1);
  });
});
