// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${database} is the SQL placeholder syntax, not a template.
import { DetailType, parseFleetEvent } from '../../../events/index.js';
import { GitHubApi } from '../../../services/adapters/github/github-api.js';
import { parseGitHubFolderSpec } from '../../../services/adapters/github/github-folder.js';
import { GitHubSqlSource } from '../../../services/adapters/github/github-sql-source.js';
import type { QueryEngine, StatementResult } from '../../../services/ports/query-engine.js';
import { type QueryRunnerEvent, runNextFile } from '../../../services/query-runner/run-next-file.js';
import { envelope, MemoryObjectStore, RecordingPublisher, recordingLogger } from '../../helpers/fakes.js';
import { validDetails } from '../../helpers/samples.js';
import { type GitHubStub, startGitHubStub, TOKEN } from './github-stub.js';

/**
 * The query runner over a GitHub folder while the branch moves under it: a push between two files' steps (each
 * step a separate event, as in AWS) is not seen by the run, which reads every file at the commit it pinned when
 * its query stage started, and names that commit in SqlFileExecuted and EtlDone.
 */

class RecordingEngine implements QueryEngine {
  readonly statements: string[] = [];

  async execute(sql: string): Promise<StatementResult> {
    this.statements.push(sql);
    return { queryExecutionId: `q-${this.statements.length}`, dataScannedBytes: 0, durationMs: 1 };
  }
}

const VERSION_1 = [
  { path: 'sql/10_raw.sql', text: 'CREATE DATABASE IF NOT EXISTS ${database};' },
  { path: 'sql/20_vehicles.sql', text: 'INSERT INTO ${database}.v SELECT 1;' },
];
/** What an analyst pushes while the night runs: file 20 changed, a file 30 added. */
const VERSION_2 = [
  { path: 'sql/10_raw.sql', text: 'CREATE DATABASE IF NOT EXISTS ${database};' },
  { path: 'sql/20_vehicles.sql', text: 'INSERT INTO ${database}.v SELECT 2;' },
  { path: 'sql/30_new.sql', text: 'SELECT 3;' },
];

describe('a run reading its SQL from GitHub while the branch moves', () => {
  let stub: GitHubStub;

  beforeEach(async () => {
    stub = await startGitHubStub('acme', 'fleet-sql', 'main');
  });

  afterEach(async () => {
    await stub.close();
  });

  it('reads every file at the commit pinned on DownloadsDrained, and names it in SqlFileExecuted and EtlDone', async () => {
    // Prepare
    const pinnedCommit = stub.push(VERSION_1);
    const publisher = new RecordingPublisher();
    const engine = new RecordingEngine();
    const deps = {
      sqlSource: new GitHubSqlSource({
        folder: parseGitHubFolderSpec('acme/fleet-sql/sql@main'),
        api: new GitHubApi({ baseUrl: stub.url, token: async () => TOKEN }),
      }),
      engine,
      publisher,
      resultsStore: new MemoryObjectStore(),
      database: 'fleet_etl',
      rawLocation: 's3://raw',
      warehouseLocation: 's3://warehouse',
      logger: recordingLogger(),
    };
    const drained = parseFleetEvent(envelope('DownloadsDrained', validDetails.DownloadsDrained), [
      DetailType.DownloadsDrained,
    ]);
    const next = (detail: unknown): QueryRunnerEvent =>
      parseFleetEvent(envelope('SqlFileExecuted', detail), [DetailType.SqlFileExecuted]);

    // Act: file 1 runs, then the branch moves, then the rest of the night runs, step by step.
    await runNextFile(drained, deps);
    const pushedCommit = stub.push(VERSION_2);
    const [first] = publisher.ofType('SqlFileExecuted');
    await runNextFile(next(first), deps);
    const [, second] = publisher.ofType('SqlFileExecuted');
    await runNextFile(next(second), deps);

    // Assess
    expect(pushedCommit).not.toBe(pinnedCommit);
    expect(engine.statements).toEqual([
      'CREATE DATABASE IF NOT EXISTS fleet_etl',
      'INSERT INTO fleet_etl.v SELECT 1',
    ]);
    expect(publisher.ofType('SqlFileExecuted').map((e) => [e.file, e.index, e.total, e.sqlCommit])).toEqual([
      ['10_raw.sql', 0, 2, pinnedCommit],
      ['20_vehicles.sql', 1, 2, pinnedCommit],
    ]);
    expect(publisher.ofType('EtlDone')).toEqual([
      expect.objectContaining({ files: ['10_raw.sql', '20_vehicles.sql'], sqlCommit: pinnedCommit }),
    ]);
    expect(publisher.ofType('EtlFailed')).toEqual([]);
    // The branch was resolved once, when the query stage started; every other request named the commit.
    const commitLookups = stub.requests.filter((r) => r.path.includes('/commits/'));
    expect(commitLookups.map((r) => r.path)).toEqual(['/repos/acme/fleet-sql/commits/main']);
    const contents = stub.requests.filter((r) => r.path.includes('/contents/'));
    expect(contents.length).toBeGreaterThan(0);
    expect(contents.every((r) => r.path.endsWith(`?ref=${pinnedCommit}`))).toBe(true);
  });
});
