import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import {
  openSqlite,
  type SqliteConnection,
  sqliteBindingName,
} from '../../../../../../services/adapters/local/sqlite/sqlite-binding.js';
import { openStateDatabase } from '../../../../../../services/adapters/local/sqlite/state-database.js';

const ROOT = fileURLToPath(new URL('../../../../../../', import.meta.url));
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const hasBuiltInSqlite = major > 22 || (major === 22 && minor >= 13);

const Row = z.object({ id: z.number(), note: z.string() });
const notes = (db: SqliteConnection) =>
  db
    .prepare('SELECT id, note FROM t ORDER BY id')
    .all()
    .map((r) => Row.parse(r));

function table(): SqliteConnection {
  const db = openSqlite(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT NOT NULL)');
  return db;
}

describe(`the SQLite binding on Node.js ${process.version}`, () => {
  it('is node:sqlite where Node has it (22.13 and later), better-sqlite3 only where it does not', () => {
    const expected = hasBuiltInSqlite ? 'node:sqlite' : 'better-sqlite3';
    expect(sqliteBindingName()).toBe(expected);
    expect(openStateDatabase(':memory:').binding).toBe(expected);
  });

  it('commits a transaction that returns, with its value', () => {
    const db = table();
    const insert = db.prepare('INSERT INTO t (id, note) VALUES (?, ?) ON CONFLICT DO NOTHING');
    const changes = db.transaction(() => insert.run(1, 'a').changes + insert.run(1, 'again').changes);
    expect(changes).toBe(1);
    expect(notes(db)).toEqual([{ id: 1, note: 'a' }]);
  });

  it('rolls back a transaction that throws and rethrows its error', () => {
    const db = table();
    const insert = db.prepare('INSERT INTO t (id, note) VALUES (?, ?)');
    expect(() =>
      db.transaction(() => {
        insert.run(1, 'a');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(notes(db)).toEqual([]);
    // The connection is usable afterwards: no transaction left open.
    db.transaction(() => insert.run(2, 'b'));
    expect(notes(db)).toEqual([{ id: 2, note: 'b' }]);
  });

  it('rolls back only the inner work of a nested transaction that throws', () => {
    const db = table();
    const insert = db.prepare('INSERT INTO t (id, note) VALUES (?, ?)');
    db.transaction(() => {
      insert.run(1, 'outer');
      expect(() =>
        db.transaction(() => {
          insert.run(2, 'inner');
          throw new Error('inner failed');
        }),
      ).toThrow('inner failed');
      insert.run(3, 'outer again');
    });
    expect(notes(db)).toEqual([
      { id: 1, note: 'outer' },
      { id: 3, note: 'outer again' },
    ]);
  });

  it('returns undefined for no row and plain numbers for integers', () => {
    const db = table();
    db.prepare('INSERT INTO t (id, note) VALUES (?, ?)').run(7, 'x');
    expect(db.prepare('SELECT id FROM t WHERE id = ?').get(8)).toBeUndefined();
    expect(z.object({ id: z.number() }).parse(db.prepare('SELECT id FROM t WHERE id = ?').get(7))).toEqual({
      id: 7,
    });
  });

  it('keeps a state file in WAL mode that a second connection reads', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'binding-')), 'state.sqlite');
    const writer = openStateDatabase(file);
    writer.prepare("INSERT INTO ledger_runs (run_id, finished_at) VALUES ('r', 'now')").run();
    const reader = openStateDatabase(file);
    expect(reader.prepare('PRAGMA journal_mode').get()).toEqual(
      expect.objectContaining({ journal_mode: 'wal' }),
    );
    expect(reader.prepare("SELECT finished_at FROM ledger_runs WHERE run_id = 'r'").get()).toEqual(
      expect.objectContaining({ finished_at: 'now' }),
    );
    writer.close();
    reader.close();
  });

  it('opens the state store from the CLI without an ExperimentalWarning or any other line on stderr', () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'binding-cli-'));
    const cli = spawnSync(
      process.execPath,
      [path.join(ROOT, 'bin/etl.js'), 'dlq', 'list', '--state-dir', stateDir],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(cli.status).toBe(0);
    expect(cli.stderr).not.toMatch(/Warning/);
  }, 30_000);
});
