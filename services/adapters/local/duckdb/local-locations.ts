import { fileURLToPath } from 'node:url';
import { UnsupportedStatementError } from './bridge-errors.js';

/**
 * Table locations are URLs in the SQL (`file:///abs/path/table/` locally). DuckDB is given plain paths: it
 * does not decode file URLs, and the local engine never reaches S3.
 */
export function localPathOf(location: string): string {
  if (!location.startsWith('file://')) {
    throw new UnsupportedStatementError(
      `location ${location}: the local engine reads and writes file:// locations only (Athena serves s3://)`,
    );
  }
  const path = fileURLToPath(location);
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** Every file of a given extension below a table location, at any partition depth. */
export function filesGlob(location: string, extension: string): string {
  return `${localPathOf(location)}/**/*.${extension}`;
}

/** Location URLs compare equal whatever their trailing slashes. */
export function sameLocation(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}
