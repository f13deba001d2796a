import { describeSqlVersion, type SqlSource, type SqlVersion } from '../../services/ports/sql-source.js';
import { TerminalError } from '../../services/shared/errors.js';
import { type AdapterFixture, describeContract } from './adapter-fixture.js';

/** A file of the folder, by its path inside it: `10_raw.sql`, `archive/05_old.sql`, `README.md`. */
export interface FolderFile {
  path: string;
  text: string;
}

export interface SqlSourceUnderTest {
  /** A source over a folder holding these files. */
  sourceOf(files: readonly FolderFile[]): Promise<SqlSource>;
  /**
   * Changes what the source's folder holds (an edit, a push), or undefined for a source whose files cannot change
   * (held in memory).
   */
  change?(files: readonly FolderFile[]): Promise<void>;
}

const FOLDER: readonly FolderFile[] = [
  { path: '20_vehicles.sql', text: 'INSERT INTO v SELECT 1;\n' },
  { path: '10_raw.sql', text: '-- raw tables\nCREATE DATABASE IF NOT EXISTS fleet;\n' },
  { path: '40_answer.sql', text: 'SELECT 42 AS answer;\n' },
  { path: '35_checks.sql', text: 'SELECT 1;' },
];
const LISTED = [
  { name: '10_raw.sql', text: '-- raw tables\nCREATE DATABASE IF NOT EXISTS fleet;\n' },
  { name: '20_vehicles.sql', text: 'INSERT INTO v SELECT 1;\n' },
  { name: '35_checks.sql', text: 'SELECT 1;' },
  { name: '40_answer.sql', text: 'SELECT 42 AS answer;\n' },
];

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected the call to fail');
  return error;
}

/** The other kind of version than `version`: a commit for a content hash, a content hash for a commit. */
const otherKindThan = (version: SqlVersion): SqlVersion =>
  'commit' in version ? { sha256: 'a'.repeat(64) } : { commit: 'b'.repeat(40) };

/**
 * What the query runner relies on, wherever the SQL comes from: one version pinned per run, every file of the run
 * read at it or refused, in lexical order (services/ports/sql-source.ts).
 */
export function sqlSourceContract(fixture: AdapterFixture<SqlSourceUnderTest>): void {
  describeContract('SqlSource', fixture, (fresh) => {
    it('lists the SQL files at the pinned version, in lexical order of their names, with their texts', async () => {
      const source = await (await fresh()).sourceOf(FOLDER);

      expect(await source.list(await source.pin())).toEqual(LISTED);
      expect(source.description).not.toBe('');
    });

    it('pins the same version while nothing changes', async () => {
      const source = await (await fresh()).sourceOf(FOLDER);
      expect(await source.pin()).toEqual(await source.pin());
    });

    it('never lists a change made after the pin: it reads the pinned version, or refuses to', async () => {
      const { sourceOf, change } = await fresh();
      const source = await sourceOf(FOLDER);
      const pinned = await source.pin();
      if (change === undefined) {
        // Files held in memory cannot change: the pin holds by construction.
        expect(await source.list(pinned)).toEqual(LISTED);
        return;
      }

      await change([...FOLDER, { path: '50_new.sql', text: 'SELECT 50;' }]);

      expect(await source.pin()).not.toEqual(pinned);
      const listed = await source.list(pinned).catch((error: unknown) => error);
      if (listed instanceof Error) {
        expect(listed).toBeInstanceOf(TerminalError);
        expect(listed.message).toContain(describeSqlVersion(pinned));
      } else {
        expect(listed).toEqual(LISTED);
      }
      expect(await source.list(await source.pin())).toHaveLength(5);
    });

    it('refuses a version of the other kind, as a failure retrying cannot mend', async () => {
      const source = await (await fresh()).sourceOf(FOLDER);
      const error = await failureOf(source.list(otherKindThan(await source.pin())));
      expect(error).toBeInstanceOf(TerminalError);
    });

    it('refuses a file whose name the events cannot carry, naming it', async () => {
      const source = await (await fresh()).sourceOf([
        ...FOLDER,
        { path: '30 sensor data.sql', text: 'SELECT 1;' },
      ]);
      const error = await failureOf(source.pin().then((version) => source.list(version)));
      expect(error).toBeInstanceOf(TerminalError);
      expect(error.message).toContain('"30 sensor data.sql"');
    });
  });
}

/** Cases for sources over a folder, where other files sit beside the SQL. */
export function sqlFolderContract(fixture: AdapterFixture<SqlSourceUnderTest>): void {
  describeContract('SqlSource over a folder', fixture, (fresh) => {
    it('lists only the .sql files directly in the folder', async () => {
      const source = await (await fresh()).sourceOf([
        ...FOLDER,
        { path: 'README.md', text: '# not SQL' },
        { path: 'archive/05_old.sql', text: 'SELECT 0;' },
      ]);
      expect(await source.list(await source.pin())).toEqual(LISTED);
    });

    it('lists none in a folder without SQL files', async () => {
      const source = await (await fresh()).sourceOf([{ path: 'README.md', text: '# nothing yet' }]);
      expect(await source.list(await source.pin())).toEqual([]);
    });
  });
}
