import * as z from 'zod';

/** Datasets the fleet API exposes; each is planned and downloaded independently. */
export const DatasetSchema = z.enum(['vehicles', 'sensors']);
export type Dataset = z.infer<typeof DatasetSchema>;

/**
 * A run id is derived from the date window (see services/shared/run-identity.ts). It is safe in object keys
 * and, with dashes turned to underscores, in SQL identifiers, so it is restricted to these characters.
 */
export const RunIdSchema = z
  .string()
  .regex(/^[0-9A-Za-z][0-9A-Za-z-]{0,62}$/, 'run id: letters, digits and dashes, at most 63 characters');

const isoInstant = z.iso.datetime({ offset: false, precision: 3 });

/** A half-open window [from, to) of creation times, in UTC, sent to the API with its time zone. */
export const DateWindowSchema = z
  .object({
    from: isoInstant,
    to: isoInstant,
    timeZone: z.string().min(1),
  })
  .refine((w) => Date.parse(w.from) < Date.parse(w.to), { message: 'window.from must be before window.to' });
export type DateWindow = z.infer<typeof DateWindowSchema>;

export const PageNumberSchema = z.number().int().min(1).max(1_000_000);

/** Object keys are relative to their bucket (or local lake folder): no leading slash, no `..` segments. */
export const ObjectKeySchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((k) => !k.startsWith('/') && !k.split('/').includes('..'), {
    message: 'object key must be relative',
  });

/** Every detail carries its schema version; a breaking change adds a new version, never edits one. */
export const SchemaVersion1 = z.literal(1);

/**
 * The version of the SQL a run read, fixed when its query stage started (services/ports/sql-source.ts): the commit
 * of a GitHub folder, or the SHA-256 of a folder's files (the bundled queries/). Optional in the events: those
 * published before it was added have neither.
 */
export const SqlVersionFields = {
  /** The GitHub folder's commit every SQL file of the run was read at. */
  sqlCommit: z
    .string()
    .regex(/^[0-9a-f]{40}$/)
    .optional(),
  /** The SHA-256 of the SQL folder's file names and texts, for a folder source. */
  sqlSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
};
