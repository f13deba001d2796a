import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SqlFileNameSchema } from '../../../events/index.js';
import { describeSqlVersion, type SqlFile, type SqlSource, type SqlVersion } from '../../ports/sql-source.js';
import { TerminalError } from '../../shared/errors.js';

/**
 * The bundled queries/ folder (or any folder): every `.sql` file in it, in lexical order. A folder keeps no
 * history, so a run pins it by content: the SHA-256 of its files' names and texts when the run's query stage
 * starts. A later step that finds other content refuses to run it (the night fails, saying so) rather than run
 * the rest of the night on SQL the first files did not see. In a Lambda the bundled folder changes only with a
 * deployment, which this catches too when it lands mid-run.
 */
export class FolderSqlSource implements SqlSource {
  constructor(private readonly folder: string) {}

  get description(): string {
    return `SQL folder ${this.folder}`;
  }

  async pin(): Promise<SqlVersion> {
    return { sha256: contentSha256(await this.#read()) };
  }

  async list(version: SqlVersion): Promise<SqlFile[]> {
    const files = await this.#read();
    const now = { sha256: contentSha256(files) };
    if (!('sha256' in version) || version.sha256 !== now.sha256) {
      throw new TerminalError(
        `${this.description} changed during the run: the run started at ${describeSqlVersion(version)}, the ` +
          `folder now holds ${describeSqlVersion(now)}. Refusing to run one night on two versions of the SQL; ` +
          'run the night again to run it on one.',
      );
    }
    return files;
  }

  async #read(): Promise<SqlFile[]> {
    const names = (await readdir(this.folder)).filter((name) => name.endsWith('.sql')).sort();
    // A file name travels in SqlFileExecuted and EtlDone; one the events cannot carry fails here, by name.
    for (const name of names) {
      const parsed = SqlFileNameSchema.safeParse(name);
      if (!parsed.success) {
        throw new TerminalError(
          `${this.description}: file name "${name}" is not usable: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        );
      }
    }
    return Promise.all(
      names.map(async (name) => ({ name, text: await readFile(path.join(this.folder, name), 'utf8') })),
    );
  }
}

/**
 * SHA-256 over each file's name and text, each preceded by its length in bytes, so that no two different folders
 * (a byte moved from one file to the next, a file renamed) hash alike.
 */
export function contentSha256(files: readonly SqlFile[]): string {
  const hash = createHash('sha256');
  for (const { name, text } of files) {
    for (const part of [name, text]) {
      const bytes = Buffer.from(part, 'utf8');
      hash.update(`${bytes.byteLength}:`).update(bytes);
    }
  }
  return hash.digest('hex');
}
