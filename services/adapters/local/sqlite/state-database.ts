import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { openSqlite, type SqliteConnection } from './sqlite-binding.js';

export type StateDatabase = SqliteConnection;

/**
 * The embedded store for local state that must survive a crash (the run ledger, the tasks queue and its
 * dead letters): one SQLite file under the state directory. WAL mode with synchronous=NORMAL keeps every
 * committed transaction across a process crash (kill -9) at tens of microseconds per write; only a power
 * loss can lose the last transactions (https://www.sqlite.org/wal.html#performance_considerations).
 * The file format is SQLite's own, so a state folder moves between Node versions (and so bindings) unchanged.
 */
export function openStateDatabase(file: string): StateDatabase {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = openSqlite(file);
  // busy_timeout first: switching to WAL needs a lock that a second process (e.g. `etl dlq list` during a run)
  // must wait for instead of failing at once.
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec(SCHEMA);
  migrate(db);
  return db;
}

/**
 * Schema changes after the first release, applied once per state file (`user_version` counts them), so a state
 * directory written by an earlier version resumes with the same answers.
 */
function migrate(db: StateDatabase): void {
  const version = z.object({ user_version: z.number() }).parse(db.prepare('PRAGMA user_version').get());
  if (version.user_version < 1) {
    db.transaction(() => {
      // Version 1: stored pages are counted as they are recorded, so a progress read no longer counts every
      // page of the run (the completion tracker reads progress once per page: quadratic in the page count).
      db.exec(PAGE_COUNTS);
      db.exec(`INSERT OR REPLACE INTO ledger_page_counts (run_id, dataset, stored, rows)
        SELECT run_id, dataset, count(*), coalesce(sum(rows), 0) FROM ledger_pages GROUP BY run_id, dataset`);
      db.exec('PRAGMA user_version = 1');
    });
  }
  if (version.user_version < 2) {
    db.transaction(() => {
      // Version 2: a plan keeps its rows per page, so a resumed night asks for the same pages (NULL in plans
      // recorded before: those resume with the page size they are given, as before).
      const columns = db.prepare('PRAGMA table_info(ledger_plans)').all();
      if (!columns.some((column) => z.object({ name: z.string() }).parse(column).name === 'page_size')) {
        db.exec('ALTER TABLE ledger_plans ADD COLUMN page_size INTEGER');
      }
      db.exec('PRAGMA user_version = 2');
    });
  }
  if (version.user_version < 3) {
    db.transaction(() => {
      // Version 3: a stored page keeps the SHA-256 of its bytes, so a resume notices an edit that keeps the row
      // count (docs/decisions/0090). NULL for pages recorded before: those are checked by their rows only.
      const columns = db.prepare('PRAGMA table_info(ledger_pages)').all();
      if (!columns.some((column) => z.object({ name: z.string() }).parse(column).name === 'sha256')) {
        db.exec('ALTER TABLE ledger_pages ADD COLUMN sha256 TEXT');
      }
      db.exec('PRAGMA user_version = 3');
    });
  }
}

/** Kept by triggers: an ignored duplicate (ON CONFLICT DO NOTHING) inserts no row and fires no trigger. */
const PAGE_COUNTS = `
CREATE TABLE IF NOT EXISTS ledger_page_counts (
  run_id TEXT NOT NULL,
  dataset TEXT NOT NULL,
  stored INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  PRIMARY KEY (run_id, dataset)
);
CREATE TRIGGER IF NOT EXISTS ledger_pages_counted AFTER INSERT ON ledger_pages BEGIN
  INSERT INTO ledger_page_counts (run_id, dataset, stored, rows) VALUES (NEW.run_id, NEW.dataset, 1, NEW.rows)
  ON CONFLICT (run_id, dataset) DO UPDATE SET stored = stored + 1, rows = rows + excluded.rows;
END;
CREATE TRIGGER IF NOT EXISTS ledger_pages_uncounted AFTER DELETE ON ledger_pages BEGIN
  UPDATE ledger_page_counts SET stored = stored - 1, rows = rows - OLD.rows
  WHERE run_id = OLD.run_id AND dataset = OLD.dataset;
END;
`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ledger_plans (
  run_id TEXT NOT NULL,
  dataset TEXT NOT NULL,
  total_pages INTEGER NOT NULL,
  window_json TEXT NOT NULL,
  PRIMARY KEY (run_id, dataset)
);
CREATE TABLE IF NOT EXISTS ledger_pages (
  run_id TEXT NOT NULL,
  dataset TEXT NOT NULL,
  page INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  PRIMARY KEY (run_id, dataset, page)
);
CREATE TABLE IF NOT EXISTS ledger_failures (
  run_id TEXT NOT NULL,
  dataset TEXT NOT NULL,
  page INTEGER NOT NULL,
  reason TEXT NOT NULL,
  failed_at TEXT NOT NULL,
  PRIMARY KEY (run_id, dataset, page)
);
CREATE TABLE IF NOT EXISTS ledger_runs (
  run_id TEXT PRIMARY KEY,
  drained_at TEXT,
  finished_at TEXT
);
CREATE TABLE IF NOT EXISTS queue_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL UNIQUE,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  first_received_at INTEGER,
  visible_at INTEGER NOT NULL,
  receipt_handle TEXT,
  dead_lettered_at INTEGER
);
CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages (queue, visible_at, seq);
-- Deletes and releases find a message by its receipt handle: without this each scanned the whole queue.
CREATE INDEX IF NOT EXISTS queue_messages_receipt ON queue_messages (receipt_handle);
`;
