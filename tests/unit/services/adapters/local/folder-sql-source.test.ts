import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderSqlSource } from '../../../../../services/adapters/local/folder-sql-source.js';
import { TerminalError } from '../../../../../services/shared/errors.js';

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

    const source = new FolderSqlSource(folder);
    expect(await source.list(await source.pin())).toEqual([
      { name: '10_a.sql', text: 'SELECT 1;' },
      { name: '20_b.sql', text: 'SELECT 2;' },
    ]);
  });

  it('pins the folder by its content: any edit, rename or new file changes the pin', async () => {
    await writeFile(join(folder, '10_a.sql'), 'SELECT 1;');
    await writeFile(join(folder, '20_b.sql'), 'SELECT 2;');
    const source = new FolderSqlSource(folder);
    const pins = [await source.pin()];

    await writeFile(join(folder, '20_b.sql'), 'SELECT 2; ');
    pins.push(await source.pin());
    // The same bytes moved from one file to the next.
    await writeFile(join(folder, '10_a.sql'), 'SELECT 1;S');
    await writeFile(join(folder, '20_b.sql'), 'ELECT 2; ');
    pins.push(await source.pin());
    await rename(join(folder, '20_b.sql'), join(folder, '30_b.sql'));
    pins.push(await source.pin());
    await writeFile(join(folder, '40_c.sql'), '');
    pins.push(await source.pin());

    expect(new Set(pins.map((pin) => JSON.stringify(pin))).size).toBe(5);
    expect(await source.pin()).toEqual(pins.at(-1));
    await expect(source.list(pins[0] ?? { sha256: '' })).rejects.toThrow(TerminalError);
    await expect(source.list(pins[0] ?? { sha256: '' })).rejects.toThrow(/changed during the run/);
  });

  it('refuses a file name the events cannot carry, naming it', async () => {
    await writeFile(join(folder, '30 my answer.sql'), 'SELECT 3;');

    const listing = new FolderSqlSource(folder).pin();

    await expect(listing).rejects.toThrow(TerminalError);
    await expect(listing).rejects.toThrow('file name "30 my answer.sql" is not usable');
  });
});
