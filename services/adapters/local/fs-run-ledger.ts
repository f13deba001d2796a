import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { type Dataset, DatasetSchema, DateWindowSchema } from '../../../events/index.js';
import type { DatasetPlan, DatasetProgress, RunLedger, RunProgress } from '../../ports/run-ledger.js';
import { systemErrorCode, TerminalError } from '../../shared/errors.js';

const PlanFileSchema = z.object({ totalPages: z.number().int().min(0), window: DateWindowSchema });
const PageFileSchema = z.object({ rows: z.number().int().min(0) });

/**
 * The run ledger on a filesystem. Each fact is a file created with O_EXCL (`wx`), the local twin of a
 * conditional write: of many concurrent creators exactly one succeeds, and a crash never leaves a fact half
 * recorded because the content is tiny and written before the handle closes. Counting pages is counting files.
 */
export class FsRunLedger implements RunLedger {
  constructor(private readonly root: string) {}

  private runDir(runId: string): string {
    return path.join(this.root, `run=${runId}`);
  }

  async recordPlan(runId: string, dataset: Dataset, plan: DatasetPlan): Promise<void> {
    const file = path.join(this.runDir(runId), dataset, 'plan.json');
    const created = await createExclusive(file, JSON.stringify(plan));
    if (!created) {
      const existing = PlanFileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
      if (existing.totalPages !== plan.totalPages) {
        throw new TerminalError(
          `run ${runId} ${dataset}: plan of ${plan.totalPages} pages conflicts with the recorded ${existing.totalPages}`,
        );
      }
    }
  }

  async recordPage(runId: string, dataset: Dataset, page: number, rows: number): Promise<boolean> {
    const file = path.join(this.runDir(runId), dataset, 'pages', `${String(page).padStart(7, '0')}.json`);
    return createExclusive(file, JSON.stringify({ rows }));
  }

  async progress(runId: string): Promise<RunProgress> {
    const progress: RunProgress = { window: undefined, datasets: {} };
    for (const entry of await readdirOrEmpty(this.runDir(runId))) {
      const dataset = DatasetSchema.safeParse(entry);
      if (!dataset.success) continue;
      const dir = path.join(this.runDir(runId), dataset.data);
      const plan = await readJsonOrUndefined(path.join(dir, 'plan.json'), PlanFileSchema);
      const pages = await readdirOrEmpty(path.join(dir, 'pages'));
      let rows = 0;
      for (const page of pages) {
        const recorded = await readJsonOrUndefined(path.join(dir, 'pages', page), PageFileSchema);
        rows += recorded?.rows ?? 0;
      }
      const datasetProgress: DatasetProgress = {
        totalPages: plan?.totalPages,
        storedPages: pages.length,
        rows,
      };
      progress.datasets[dataset.data] = datasetProgress;
      progress.window ??= plan?.window;
    }
    return progress;
  }

  async claimDrained(runId: string): Promise<boolean> {
    return createExclusive(path.join(this.runDir(runId), 'drained'), new Date().toISOString());
  }

  async reset(runId: string): Promise<void> {
    await rm(this.runDir(runId), { recursive: true, force: true });
  }
}

async function createExclusive(file: string, content: string): Promise<boolean> {
  await mkdir(path.dirname(file), { recursive: true });
  try {
    const handle = await open(file, 'wx');
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if (systemErrorCode(error) === 'EEXIST') return false;
    throw error;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => !name.startsWith('.'));
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return [];
    throw error;
  }
}

async function readJsonOrUndefined<S extends z.ZodType>(
  file: string,
  schema: S,
): Promise<z.infer<S> | undefined> {
  try {
    return schema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}
