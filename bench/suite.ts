/**
 * A benchmark suite: measures something and returns rows of figures. Suites live in bench/suites/, one file
 * each, and export `suite`. They are not timed tests: targets are compared and printed, never asserted.
 */
export interface BenchContext {
  /** A small, fast variant that only proves the suite still works (CI runs this). */
  smoke: boolean;
  log: (line: string) => void;
}

export interface BenchRow {
  /** What was measured, e.g. "download 20 pages × 50,000 rows". */
  case: string;
  /** Figures by name, e.g. { seconds: 3.2, rowsPerSecond: 310_000 }. */
  figures: Record<string, number | string>;
  /** A target from an issue, with whether it was met in this run. */
  target?: { description: string; met: boolean };
}

export interface BenchSuite {
  name: string;
  description: string;
  run(context: BenchContext): Promise<BenchRow[]>;
}
