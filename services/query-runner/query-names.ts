/**
 * A file's query name is its name without the ordering prefix and extension:
 * `40_avg_seconds_between_measurements.sql` -> `avg_seconds_between_measurements`.
 */
export function queryNameOf(file: string): string {
  return file
    .replace(/\.sql$/, '')
    .replace(/^\d+[_-]/, '')
    .replace(/[^0-9A-Za-z_]/g, '_');
}

/** Files run in lexical order of their names, the way analysts number them. */
export function inRunOrder<T extends { name: string }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
