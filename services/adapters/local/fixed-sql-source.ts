import type { SqlFile, SqlSource, SqlVersion } from '../../ports/sql-source.js';
import { TerminalError } from '../../shared/errors.js';
import { contentSha256 } from './folder-sql-source.js';

/** SQL files held in memory (tests, benchmarks), pinned by content as a folder is. */
export class FixedSqlSource implements SqlSource {
  readonly description = 'SQL files in memory';
  readonly #files: readonly SqlFile[];

  constructor(files: readonly SqlFile[]) {
    this.#files = files.map((file) => ({ ...file }));
  }

  async pin(): Promise<SqlVersion> {
    return { sha256: contentSha256(this.#files) };
  }

  async list(version: SqlVersion): Promise<SqlFile[]> {
    if (!('sha256' in version) || version.sha256 !== contentSha256(this.#files)) {
      throw new TerminalError(`${this.description}: not the version the run was pinned to`);
    }
    return this.#files.map((file) => ({ ...file }));
  }
}
