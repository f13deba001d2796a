import type { z } from 'zod';
import { DetailType, type DetailTypeName } from './bus.js';
import { DownloadsDrainedSchema } from './detail/downloads-drained.js';
import { EtlDoneSchema } from './detail/etl-done.js';
import { EtlFailedSchema } from './detail/etl-failed.js';
import { PageDownloadedSchema } from './detail/page-downloaded.js';
import { PagesPlannedSchema } from './detail/pages-planned.js';
import { SqlFileExecutedSchema } from './detail/sql-file-executed.js';

/** The one place that says which schema validates which detail-type. */
export const detailSchemas = {
  [DetailType.PagesPlanned]: PagesPlannedSchema,
  [DetailType.PageDownloaded]: PageDownloadedSchema,
  [DetailType.DownloadsDrained]: DownloadsDrainedSchema,
  [DetailType.SqlFileExecuted]: SqlFileExecutedSchema,
  [DetailType.EtlDone]: EtlDoneSchema,
  [DetailType.EtlFailed]: EtlFailedSchema,
} as const satisfies Record<DetailTypeName, z.ZodType>;

export type DetailOf<T extends DetailTypeName> = z.infer<(typeof detailSchemas)[T]>;

/** What a producer passes to `publish`: the version is filled in for it. */
export type DetailInput<T extends DetailTypeName> = Omit<DetailOf<T>, 'schemaVersion'>;

export const allDetailTypes = Object.keys(detailSchemas) as DetailTypeName[];

export function isDetailType(value: string): value is DetailTypeName {
  return Object.hasOwn(detailSchemas, value);
}
