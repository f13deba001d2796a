import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SqlFileNameSchema } from '../../../events/index.js';
import type { SqlFile, SqlSource } from '../../ports/sql-source.js';
import { TerminalError } from '../../shared/errors.js';

/** The bundled queries/ folder (or any folder): every `.sql` file in it, in lexical order. */
export class FolderSqlSource implements SqlSource {
  constructor(private readonly folder: string) {}

  async list(): Promise<SqlFile[]> {
    const names = (await readdir(this.folder)).filter((name) => name.endsWith('.sql')).sort();
    // A file name travels in SqlFileExecuted and EtlDone; one the events cannot carry fails here, by name.
    for (const name of names) {
      const parsed = SqlFileNameSchema.safeParse(name);
      if (!parsed.success) {
        throw new TerminalError(
          `SQL folder ${this.folder}: file name "${name}" is not usable: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        );
      }
    }
    return Promise.all(
      names.map(async (name) => ({ name, text: await readFile(path.join(this.folder, name), 'utf8') })),
    );
  }
}
