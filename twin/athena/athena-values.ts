import {
  DuckDBDecimalValue,
  type DuckDBResultReader,
  DuckDBTimestampValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
} from '@duckdb/node-api';

/** GetQueryResults' ColumnInfo (https://docs.aws.amazon.com/athena/latest/APIReference/API_ColumnInfo.html). */
export interface AthenaColumn {
  Name: string;
  Label: string;
  Type: string;
  Precision: number;
  Scale: number;
  Nullable: 'UNKNOWN';
  CaseSensitive: boolean;
  CatalogName: 'hive';
  SchemaName: '';
  TableName: '';
}

/** A finished query's rows as Athena serves them: every value as text, undefined for NULL. */
export interface AthenaResultSet {
  columns: AthenaColumn[];
  rows: (string | undefined)[][];
}

/** Trino's names for DuckDB's types, as Athena's result metadata spells them; precision and scale apart. */
function athenaType(type: DuckDBType): { name: string; precision: number; scale: number } {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { name: 'boolean', precision: 0, scale: 0 };
    case DuckDBTypeId.TINYINT:
      return { name: 'tinyint', precision: 3, scale: 0 };
    case DuckDBTypeId.SMALLINT:
      return { name: 'smallint', precision: 5, scale: 0 };
    case DuckDBTypeId.INTEGER:
      return { name: 'integer', precision: 10, scale: 0 };
    // DuckDB widens sum(bigint) to HUGEINT where Trino keeps bigint.
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
      return { name: 'bigint', precision: 19, scale: 0 };
    case DuckDBTypeId.FLOAT:
      return { name: 'real', precision: 24, scale: 0 };
    case DuckDBTypeId.DOUBLE:
      return { name: 'double', precision: 53, scale: 0 };
    case DuckDBTypeId.DECIMAL: {
      const match = /DECIMAL\((\d+),\s*(\d+)\)/.exec(type.toString());
      return { name: 'decimal', precision: Number(match?.[1] ?? 38), scale: Number(match?.[2] ?? 0) };
    }
    case DuckDBTypeId.DATE:
      return { name: 'date', precision: 0, scale: 0 };
    case DuckDBTypeId.TIMESTAMP:
      return { name: 'timestamp', precision: 3, scale: 0 };
    default:
      return { name: 'varchar', precision: 2_147_483_647, scale: 0 };
  }
}

/**
 * A double as Java's Double.toString writes it, which is how Athena's results show doubles: shortest digits, with
 * `.0` on whole numbers and scientific notation (`1.0E7`) from 10^7 up and below 10^-3.
 */
function javaDoubleText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const text = String(value);
    return text.includes('.') ? text : `${text}.0`;
  }
  const [mantissa = '', exponent = '0'] = value.toExponential().split('e');
  const digits = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${digits}E${Number(exponent)}`;
}

/** One value as Athena's text form of it (timestamps to the millisecond, as Trino's timestamp(3)). */
function athenaText(value: DuckDBValue, type: DuckDBType): string | undefined {
  if (value === null) return undefined;
  switch (type.typeId) {
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.FLOAT:
      return javaDoubleText(Number(value));
    case DuckDBTypeId.TIMESTAMP:
      if (value instanceof DuckDBTimestampValue && value.isFinite)
        return new Date(Number(value.micros / 1000n)).toISOString().replace('T', ' ').replace('Z', '');
      return String(value);
    case DuckDBTypeId.DECIMAL:
      return value instanceof DuckDBDecimalValue ? value.toString() : String(value);
    default:
      return String(value);
  }
}

/** A DuckDB result as Athena would serve it. */
export function athenaResultSet(reader: DuckDBResultReader): AthenaResultSet {
  const types = reader.columnTypes();
  const columns = reader.columnNames().map((name, index): AthenaColumn => {
    const type = athenaType(types[index] ?? types[0] ?? ({ typeId: DuckDBTypeId.VARCHAR } as DuckDBType));
    return {
      Name: name,
      Label: name,
      Type: type.name,
      Precision: type.precision,
      Scale: type.scale,
      Nullable: 'UNKNOWN',
      CaseSensitive: type.name === 'varchar',
      CatalogName: 'hive',
      SchemaName: '',
      TableName: '',
    };
  });
  const rows = reader.getRows().map((values) =>
    values.map((value, index) => {
      const type = types[index];
      return type === undefined ? undefined : athenaText(value, type);
    }),
  );
  return { columns, rows };
}

/** The CSV Athena writes to the output location: every value quoted, NULL as nothing, a header row. */
export function resultCsv(result: AthenaResultSet): string {
  const quote = (text: string) => `"${text.replaceAll('"', '""')}"`;
  const lines = [
    result.columns.map((column) => quote(column.Name)).join(','),
    ...result.rows.map((row) => row.map((value) => (value === undefined ? '' : quote(value))).join(',')),
  ];
  return `${lines.join('\n')}\n`;
}
