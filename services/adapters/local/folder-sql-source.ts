import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SqlFile, SqlSource } from '../../ports/sql-source.js';

/** The bundled queries/ folder (or any folder): every `.sql` file in it, in lexical order. */
export class FolderSqlSource implements SqlSource {
  constructor(private readonly folder: string) {}

  async list(): Promise<SqlFile[]> {
    const names = (await readdir(this.folder)).filter((name) => name.endsWith('.sql')).sort();
    return Promise.all(
      names.map(async (name) => ({ name, text: await readFile(path.join(this.folder, name), 'utf8') })),
    );
  }
}
