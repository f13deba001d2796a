/** Secrets Manager in the cloud, environment variables locally. Values never reach logs or events. */
export interface Secrets {
  get(name: string): Promise<string>;
  /**
   * Drops a cached value, so that the next `get` reads the store again: called when the provider refused the
   * value (the secret was rotated since it was cached). Adapters without a cache need not implement it.
   */
  forget?(name: string): void;
}
