export interface SqlFile {
  /** File name, e.g. `30_sensor_data.sql`; files run in lexical order of their names. */
  name: string;
  text: string;
}

/**
 * The one version of the SQL a run reads, fixed when its query stage starts: a GitHub folder's commit, or a
 * folder's content hash (SHA-256 over its files' names and texts, see folder-sql-source.ts).
 */
export type SqlVersion = { commit: string } | { sha256: string };

/**
 * Where the SQL files come from: the bundled queries/ folder, another folder, or a GitHub folder. A run pins the
 * source once (`pin`) and reads every file at that version (`list`), so a change while it runs cannot mix two
 * versions of the SQL in one night.
 */
export interface SqlSource {
  /** What the source holds now: a branch resolved to its commit, a folder to its content hash. */
  pin(): Promise<SqlVersion>;
  /**
   * The files at a version `pin` gave. A folder cannot go back in time: one whose files changed since is refused
   * (a TerminalError), never read as it is now.
   */
  list(version: SqlVersion): Promise<SqlFile[]>;
  /** Where the files come from, for messages. */
  readonly description: string;
}

export function describeSqlVersion(version: SqlVersion): string {
  return 'commit' in version ? `commit ${version.commit}` : `content sha256 ${version.sha256}`;
}
