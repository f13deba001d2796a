import * as z from 'zod';
import { type Dataset, DatasetSchema, DateWindowSchema } from '../../../../events/index.js';
import type {
  DatasetPlan,
  DrainClaim,
  DrainClaimant,
  RunLedger,
  RunProgress,
  StoredPageRecord,
} from '../../../ports/run-ledger.js';
import { TerminalError } from '../../../shared/errors.js';
import type { StateDatabase } from './state-database.js';

const PlanRow = z.object({
  dataset: DatasetSchema,
  total_pages: z.number().int(),
  window_json: z.string(),
  page_size: z.number().int().nullable(),
});
const StoredPageRow = z.object({
  rows: z.number().int(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
});
const RecordedPlanRow = z.object({ total_pages: z.number().int(), page_size: z.number().int().nullable() });
const CountRow = z.object({ dataset: DatasetSchema, stored: z.number().int(), rows: z.number().int() });
const FailureRow = z.object({ dataset: DatasetSchema, page: z.number().int(), reason: z.string() });
const RunIdRow = z.object({ run_id: z.string() });
const RunRow = z.object({ drained_at: z.string().nullable(), finished_at: z.string().nullable() });

/**
 * The run ledger in the local SQLite store. Each fact is a row under a primary key, inserted with
 * `ON CONFLICT DO NOTHING`, so a redelivered page changes nothing; the drained claim is a conditional update
 * that only one caller can win. Both SQLite bindings are synchronous, so each method is one atomic transaction.
 */
export class SqliteRunLedger implements RunLedger {
  private readonly statements;

  constructor(
    private readonly db: StateDatabase,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.statements = {
      insertPlan: db.prepare(
        `INSERT INTO ledger_plans (run_id, dataset, total_pages, window_json, page_size) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      plannedPages: db.prepare(
        'SELECT total_pages, page_size FROM ledger_plans WHERE run_id = ? AND dataset = ?',
      ),
      // A plan recorded before plans kept their page size learns it from the same plan announced again.
      learnPageSize: db.prepare(
        'UPDATE ledger_plans SET page_size = ? WHERE run_id = ? AND dataset = ? AND page_size IS NULL',
      ),
      insertPage: db.prepare(
        `INSERT INTO ledger_pages (run_id, dataset, page, rows, sha256) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      clearFailure: db.prepare('DELETE FROM ledger_failures WHERE run_id = ? AND dataset = ? AND page = ?'),
      pageStored: db.prepare('SELECT 1 FROM ledger_pages WHERE run_id = ? AND dataset = ? AND page = ?'),
      storedPage: db.prepare(
        'SELECT rows, sha256 FROM ledger_pages WHERE run_id = ? AND dataset = ? AND page = ?',
      ),
      upsertFailure: db.prepare(
        `INSERT INTO ledger_failures (run_id, dataset, page, reason, failed_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run_id, dataset, page) DO UPDATE SET reason = excluded.reason, failed_at = excluded.failed_at`,
      ),
      plans: db.prepare(
        'SELECT dataset, total_pages, window_json, page_size FROM ledger_plans WHERE run_id = ?',
      ),
      // Kept by triggers on ledger_pages (state-database.ts): one row per dataset instead of a count of pages.
      counts: db.prepare(
        'SELECT dataset, stored, rows FROM ledger_page_counts WHERE run_id = ? AND stored > 0 ORDER BY dataset',
      ),
      failures: db.prepare(
        'SELECT dataset, page, reason FROM ledger_failures WHERE run_id = ? ORDER BY dataset, page',
      ),
      run: db.prepare('SELECT drained_at, finished_at FROM ledger_runs WHERE run_id = ?'),
      runIds: db.prepare(
        `SELECT run_id FROM ledger_plans UNION SELECT run_id FROM ledger_page_counts UNION
         SELECT run_id FROM ledger_failures UNION SELECT run_id FROM ledger_runs ORDER BY run_id`,
      ),
      claim: db.prepare(
        `INSERT INTO ledger_runs (run_id, drained_at) VALUES (?, ?)
         ON CONFLICT (run_id) DO UPDATE SET drained_at = excluded.drained_at WHERE ledger_runs.drained_at IS NULL`,
      ),
      release: db.prepare('UPDATE ledger_runs SET drained_at = NULL WHERE run_id = ?'),
      finish: db.prepare(
        `INSERT INTO ledger_runs (run_id, finished_at) VALUES (?, ?)
         ON CONFLICT (run_id) DO UPDATE SET finished_at = coalesce(ledger_runs.finished_at, excluded.finished_at)`,
      ),
      reset: ['ledger_plans', 'ledger_pages', 'ledger_page_counts', 'ledger_failures', 'ledger_runs'].map(
        (table) => db.prepare(`DELETE FROM ${table} WHERE run_id = ?`),
      ),
    };
  }

  async recordPlan(runId: string, dataset: Dataset, plan: DatasetPlan): Promise<void> {
    const { insertPlan, plannedPages, learnPageSize } = this.statements;
    this.db.transaction(() => {
      insertPlan.run(runId, dataset, plan.totalPages, JSON.stringify(plan.window), plan.pageSize ?? null);
      const recorded = RecordedPlanRow.parse(plannedPages.get(runId, dataset));
      if (recorded.total_pages !== plan.totalPages) {
        throw new TerminalError(
          `run ${runId} ${dataset}: plan of ${plan.totalPages} pages conflicts with the recorded ${recorded.total_pages}`,
        );
      }
      if (plan.pageSize === undefined) return;
      if (recorded.page_size === null) learnPageSize.run(plan.pageSize, runId, dataset);
      else if (recorded.page_size !== plan.pageSize) {
        // Same page count, other page size: its pages hold other rows than the stored ones of the same number.
        throw new TerminalError(
          `run ${runId} ${dataset}: plan of pages of ${plan.pageSize} rows conflicts with the recorded ${recorded.page_size}`,
        );
      }
    });
  }

  async recordPage(
    runId: string,
    dataset: Dataset,
    page: number,
    rows: number,
    sha256?: string,
  ): Promise<boolean> {
    const { insertPage, clearFailure } = this.statements;
    return this.db.transaction(() => {
      const inserted = insertPage.run(runId, dataset, page, rows, sha256 ?? null).changes === 1;
      clearFailure.run(runId, dataset, page);
      return inserted;
    });
  }

  async storedPage(runId: string, dataset: Dataset, page: number): Promise<StoredPageRecord | undefined> {
    const found = this.statements.storedPage.get(runId, dataset, page);
    if (found === undefined) return undefined;
    const { rows, sha256 } = StoredPageRow.parse(found);
    return sha256 === null ? { rows } : { rows, sha256 };
  }

  async recordPageFailure(runId: string, dataset: Dataset, page: number, reason: string): Promise<void> {
    const { pageStored, upsertFailure } = this.statements;
    this.db.transaction(() => {
      // A duplicate attempt may fail after another one stored the page: the page is not failed then.
      if (pageStored.get(runId, dataset, page) === undefined) {
        upsertFailure.run(runId, dataset, page, reason, this.now().toISOString());
      }
    });
  }

  async progress(runId: string): Promise<RunProgress> {
    const { plans, counts, failures, run } = this.statements;
    return this.db.transaction(() => {
      const progress: RunProgress = {
        window: undefined,
        datasets: {},
        failures: [],
        drained: false,
        finished: false,
      };
      for (const raw of plans.all(runId)) {
        const plan = PlanRow.parse(raw);
        progress.window ??= DateWindowSchema.parse(JSON.parse(plan.window_json));
        progress.datasets[plan.dataset] = {
          totalPages: plan.total_pages,
          storedPages: 0,
          rows: 0,
          ...(plan.page_size === null ? {} : { pageSize: plan.page_size }),
        };
      }
      for (const raw of counts.all(runId)) {
        const count = CountRow.parse(raw);
        const entry = progress.datasets[count.dataset] ?? { totalPages: undefined, storedPages: 0, rows: 0 };
        progress.datasets[count.dataset] = { ...entry, storedPages: count.stored, rows: count.rows };
      }
      progress.failures = failures.all(runId).map((raw) => FailureRow.parse(raw));
      const state = RunRow.optional().parse(run.get(runId));
      progress.drained = state?.drained_at != null;
      progress.finished = state?.finished_at != null;
      return progress;
    });
  }

  /**
   * Every run the ledger holds anything of, in id order: for `etl runs`, not part of the port (the pipeline asks
   * about one run at a time).
   */
  runIds(): string[] {
    return this.statements.runIds.all().map((raw) => RunIdRow.parse(raw).run_id);
  }

  /**
   * No lease here: a claim cannot outlive its claimant unseen. Every handler runs in the one process that holds the
   * state folder (`etl.lock`, decision 71), so a claimant that dies takes the whole run with it, and the next run
   * of the window gives the unfinished claim back before anything else (`prepareAttempt` in
   * local/run-pipeline.ts); a publish that fails gives it back at once. So an existing claim is announced
   * or being announced by a live caller, and this ledger never answers `held` (docs/decisions/0077).
   */
  async claimDrained(runId: string, _claimant: DrainClaimant): Promise<DrainClaim> {
    const won = this.statements.claim.run(runId, this.now().toISOString()).changes === 1;
    return { outcome: won ? 'won' : 'announced' };
  }

  /** Nothing to do: a claim here never lapses (see claimDrained). */
  async confirmDrained(): Promise<void> {}

  async releaseClaim(runId: string): Promise<void> {
    this.statements.release.run(runId);
  }

  async markFinished(runId: string): Promise<void> {
    this.statements.finish.run(runId, this.now().toISOString());
  }

  async reset(runId: string): Promise<void> {
    this.db.transaction(() => {
      for (const statement of this.statements.reset) statement.run(runId);
    });
  }
}
