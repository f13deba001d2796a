import { readFile } from 'node:fs/promises';
import { environmentShapeOf, serviceEnvironment } from '../../../services/service-environment.js';
import { parseEnvironment } from '../../../services/shared/environment.js';
import { serviceNames, topology } from '../../../services/topology.js';

describe('the environment of each Lambda, derived from its topology entry', () => {
  it.each(serviceNames)('is what the %s Lambda entry parses at cold start', async (service) => {
    const entry = await readFile(topology.services[service].entry, 'utf8');
    expect(entry).toContain(`parseEnvironment(serviceEnvironment('${service}'))`);
  });

  it('locates every resource the entry needs, and the buckets it uses', () => {
    expect(Object.keys(environmentShapeOf(topology.services.queryRunner)).sort()).toEqual([
      'ATHENA_WORKGROUP',
      'EVENT_BUS_NAME',
      'GLUE_DATABASE',
      'QUERIES_DIR',
      'RAW_BUCKET',
      'RESULTS_BUCKET',
      'WAREHOUSE_BUCKET',
    ]);
  });

  it('adds what the trigger sets, and where details sent by reference are for a consumer of them', () => {
    expect(Object.keys(environmentShapeOf(topology.services.downloader))).toEqual(
      expect.arrayContaining(['DOWNLOADER_MAX_CONCURRENCY', 'MAX_RECEIVE_COUNT', 'RAW_BUCKET']),
    );
    // The tracker uses no bucket, but an EtlDone may come by reference (decision 60).
    expect(Object.keys(environmentShapeOf(topology.services.completionTracker)).sort()).toEqual([
      'EVENT_BUS_NAME',
      'RESULTS_BUCKET',
      'RUN_LEDGER_TABLE',
    ]);
  });

  it('refuses at cold start an environment without a required variable, naming it', () => {
    expect(() => parseEnvironment(serviceEnvironment('report'), { RESULTS_BUCKET: 'results' })).toThrow(
      /RUN_LEDGER_TABLE/,
    );
  });
});
