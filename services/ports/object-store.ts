/**
 * A bucket (S3) or a folder (local). Keys are relative and validated by the caller.
 * `put` is atomic: readers see the whole object or nothing, never a prefix of it.
 */
export interface ObjectStore {
  /** A `file://` or `s3://` URL of the store's root, for humans and for SQL LOCATION clauses. */
  readonly location: string;
  put(key: string, body: ObjectBody, options?: { contentType?: string }): Promise<{ bytes: number }>;
  get(key: string): Promise<Uint8Array | undefined>;
  exists(key: string): Promise<boolean>;
  list(prefix: string): Promise<string[]>;
  delete(keys: readonly string[]): Promise<void>;
}

/** Bodies may be streamed so that a large page is never held in memory more than once. */
export type ObjectBody = string | Uint8Array | AsyncIterable<Uint8Array>;
