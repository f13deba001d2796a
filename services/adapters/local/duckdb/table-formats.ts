import { UnsupportedStatementError } from './bridge-errors.js';

/** The storage formats the local engine can read (external tables) and write (CTAS, INSERT INTO). */
export type TableFormat = 'json' | 'parquet';

/** Hive SerDe classes and `STORED AS` names, to the format DuckDB reads them with. */
const SERDE_FORMATS: Readonly<Record<string, TableFormat>> = {
  'org.openx.data.jsonserde.jsonserde': 'json',
  'org.apache.hive.hcatalog.data.jsonserde': 'json',
  'org.apache.hadoop.hive.ql.io.parquet.serde.parquethiveserde': 'parquet',
};

const STORED_AS_FORMATS: Readonly<Record<string, TableFormat | 'by-serde'>> = {
  parquet: 'parquet',
  // JSON SerDes are declared with ROW FORMAT SERDE and stored as text; the SerDe decides.
  textfile: 'by-serde',
};

export function formatOfSerde(serdeClass: string): TableFormat {
  const format = SERDE_FORMATS[serdeClass.toLowerCase()];
  if (!format) {
    throw new UnsupportedStatementError(`SerDe ${serdeClass} is not supported by the local Athena bridge`);
  }
  return format;
}

export function formatOfStoredAs(storedAs: string): TableFormat | 'by-serde' {
  const format = STORED_AS_FORMATS[storedAs.toLowerCase()];
  if (!format) {
    throw new UnsupportedStatementError(`STORED AS ${storedAs} is not supported by the local Athena bridge`);
  }
  return format;
}

/** File extension the engine globs for, per format; the raw lake writes `.ndjson` pages. */
export const FORMAT_EXTENSIONS: Readonly<Record<TableFormat, string>> = {
  json: 'ndjson',
  parquet: 'parquet',
};

/**
 * Parquet compression names Athena takes (CTAS `write_compression` / `parquet_compression`, the Hive table
 * property `parquet.compression`) and DuckDB's codec names. `NONE` is the CTAS spelling of no compression,
 * `UNCOMPRESSED` the table property's (https://docs.aws.amazon.com/athena/latest/ug/compression-formats.html).
 */
const PARQUET_CODECS: Readonly<Record<string, string>> = {
  SNAPPY: 'snappy',
  GZIP: 'gzip',
  ZSTD: 'zstd',
  LZ4: 'lz4_raw',
  NONE: 'uncompressed',
  UNCOMPRESSED: 'uncompressed',
};

/** Athena's default when a Parquet write names no compression: a CTAS without one, a table without the property. */
export const DEFAULT_PARQUET_CODEC = 'gzip';

/** The DuckDB codec for an Athena compression name; `setting` names where it was given, for the error. */
export function parquetCodec(compression: string, setting = 'write_compression'): string {
  const codec = PARQUET_CODECS[compression.toUpperCase()];
  if (!codec) {
    throw new UnsupportedStatementError(`${setting} ${compression} is not supported for Parquet`);
  }
  return codec;
}
