import { SqlFileNameSchema } from '../../../events/index.js';
import type { SqlFile, SqlSource, SqlVersion } from '../../ports/sql-source.js';
import { TerminalError } from '../../shared/errors.js';
import { contentSha256 } from './folder-sql-source.js';

/**
 * SQL files held in memory (tests, benchmarks), pinned by content as a folder is, and listed as a folder lists
 * them: in lexical order of their names, a name the events cannot carry refused by name.
 */
export class FixedSqlSource implements SqlSource {
  readonly description = 'SQL files in memory';
  readonly #files: readonly SqlFile[];

  constructor(files: readonly SqlFile[]) {
    this.#files = [...files]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((file) => ({ ...file }));
  }

  async pin(): Promise<SqlVersion> {
    return { sha256: contentSha256(this.#usableFiles()) };
  }

  async list(version: SqlVersion): Promise<SqlFile[]> {
    if (!('sha256' in version) || version.sha256 !== contentSha256(this.#usableFiles())) {
      throw new TerminalError(`${this.description}: not the version the run was pinned to`);
    }
    return this.#files.map((file) => ({ ...file }));
  }

  #usableFiles(): readonly SqlFile[] {
    for (const { name } of this.#files) {
      const parsed = SqlFileNameSchema.safeParse(name);
      if (!parsed.success) {
        throw new TerminalError(
          `${this.description}: file name "${name}" is not usable: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        );
      }
    }
    return this.#files;
  }
}
