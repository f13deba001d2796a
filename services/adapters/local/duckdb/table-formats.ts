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

/** CTAS `write_compression` values for Parquet and DuckDB's codec names. */
const PARQUET_CODECS: Readonly<Record<string, string>> = {
  SNAPPY: 'snappy',
  GZIP: 'gzip',
  ZSTD: 'zstd',
  LZ4: 'lz4_raw',
  NONE: 'uncompressed',
};

/** Athena's default for Parquet CTAS when write_compression is not given. */
export const DEFAULT_PARQUET_CODEC = 'gzip';

export function parquetCodec(writeCompression: string): string {
  const codec = PARQUET_CODECS[writeCompression.toUpperCase()];
  if (!codec) {
    throw new UnsupportedStatementError(`write_compression ${writeCompression} is not supported for Parquet`);
  }
  return codec;
}
