import * as z from 'zod';
import { DatasetSchema, ObjectKeySchema, PageNumberSchema, RunIdSchema, SchemaVersion1 } from './common.js';

/** One page is stored whole in the raw lake at `key`. Delivered at least once, possibly before PagesPlanned. */
export const PageDownloadedSchema = z.object({
  schemaVersion: SchemaVersion1,
  runId: RunIdSchema,
  dataset: DatasetSchema,
  page: PageNumberSchema,
  rows: z.number().int().min(0),
  bytes: z.number().int().min(0),
  key: ObjectKeySchema,
  /**
   * SHA-256 (hex) of the object's bytes as the downloader stored them, computed while writing; the ledger keeps it,
   * and a resumed night fetches again a stored page that no longer hashes to it. Optional: absent before it was
   * added.
   */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /**
   * Valid rows of the API's answer left out because their `created_at` is outside the run's window (the API was
   * asked for a wider one, its filters' precision rounded outward). Optional: absent before it was added, and
   * when a page already stored is announced again.
   */
  outsideWindow: z.number().int().min(0).optional(),
  /**
   * Fields of the API's rows that no column reads, with how many of the page's rows had each (at most 50 names,
   * each cut to 100 characters): the API may have renamed or added a field. Optional: absent when there were none.
   */
  unmappedFields: z.record(z.string().max(100), z.number().int().min(1)).optional(),
});
