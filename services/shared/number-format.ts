// Counts and sizes as people read them: the progress lines (local/progress.ts), the `etl` command's tables and
// summaries, and the night's report page (services/report/report-page.ts) print them the same way.

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

const BINARY_UNITS = ['KiB', 'MiB', 'GiB'] as const;

/** Bytes in the largest binary unit that keeps the figure under 1024 once rounded to one decimal. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  let value = n / 1024;
  let unit = 0;
  while (unit < BINARY_UNITS.length - 1 && Number(value.toFixed(1)) >= 1024) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${BINARY_UNITS[unit]}`;
}
