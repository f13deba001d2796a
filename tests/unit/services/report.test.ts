import { DetailType, parseFleetEvent } from '../../../events/index.js';
import { writeReport } from '../../../services/report/write-report.js';
import { TerminalError } from '../../../services/shared/errors.js';
import { envelope, MemoryObjectStore, recordingLogger } from '../../helpers/fakes.js';
import { validDetails } from '../../helpers/samples.js';

const done = () => parseFleetEvent(envelope('EtlDone', validDetails.EtlDone), [DetailType.EtlDone]);

describe('writeReport', () => {
  it('gathers every named result of the run into one report next to them', async () => {
    // Prepare
    const resultsStore = new MemoryObjectStore();
    const avg = { columns: ['vehicle_type', 'avg'], rows: [{ vehicle_type: 'bus', avg: 12.5 }] };
    await resultsStore.put('results/run=2026-11-24/avg.json', JSON.stringify(avg));

    // Act
    const report = await writeReport(done(), { resultsStore, logger: recordingLogger() });

    // Assess
    expect(report).toEqual({ runId: '2026-11-24', window: validDetails.EtlDone.window, results: { avg } });
    expect(JSON.parse(resultsStore.text('reports/run=2026-11-24/report.json') ?? '')).toEqual(report);
  });

  it('fails, naming the result and key, when a result is missing', async () => {
    const writing = writeReport(done(), { resultsStore: new MemoryObjectStore(), logger: recordingLogger() });
    await expect(writing).rejects.toThrow(TerminalError);
    await expect(
      writeReport(done(), { resultsStore: new MemoryObjectStore(), logger: recordingLogger() }),
    ).rejects.toThrow('result "avg" of run 2026-11-24 is missing at results/run=2026-11-24/avg.json');
  });

  it('refuses a stored result that is not a result set', async () => {
    const resultsStore = new MemoryObjectStore();
    await resultsStore.put('results/run=2026-11-24/avg.json', '{"rows": 3}');
    await expect(writeReport(done(), { resultsStore, logger: recordingLogger() })).rejects.toThrow(
      /result "avg" at results\/run=2026-11-24\/avg.json is not a result set/,
    );
  });
});
