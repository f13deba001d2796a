import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderSqlSource } from '../../../services/adapters/local/folder-sql-source.js';
import { TerminalError } from '../../../services/shared/errors.js';

describe('FolderSqlSource', () => {
  let folder: string;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'sql-folder-'));
  });

  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('lists the .sql files in lexical order with their text', async () => {
    await writeFile(join(folder, '20_b.sql'), 'SELECT 2;');
    await writeFile(join(folder, '10_a.sql'), 'SELECT 1;');
    await writeFile(join(folder, 'notes.md'), '# not SQL');

    expect(await new FolderSqlSource(folder).list()).toEqual([
      { name: '10_a.sql', text: 'SELECT 1;' },
      { name: '20_b.sql', text: 'SELECT 2;' },
    ]);
  });

  it('refuses a file name the events cannot carry, naming it', async () => {
    await writeFile(join(folder, '30 my answer.sql'), 'SELECT 3;');

    const listing = new FolderSqlSource(folder).list();

    await expect(listing).rejects.toThrow(TerminalError);
    await expect(listing).rejects.toThrow('file name "30 my answer.sql" is not usable');
  });
});
