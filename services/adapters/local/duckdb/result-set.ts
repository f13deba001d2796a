import {
  type DuckDBResultReader,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
  type DuckDBValueConverter,
  JSDuckDBValueConverter,
  JsonDuckDBValueConverter,
} from '@duckdb/node-api';
import type { JsonValue, ResultSet } from '../../../ports/query-engine.js';

type Convert = (value: DuckDBValue, type: DuckDBType) => JsonValue;

/** Whole numbers as numbers while they are exact, as strings beyond 2^53 so that nothing is rounded. */
const wholeNumber: Convert = (value, type) => {
  const js = JSDuckDBValueConverter(value, type, JSDuckDBValueConverter);
  if (typeof js === 'bigint') {
    return Number.isSafeInteger(Number(js)) ? Number(js) : js.toString();
  }
  return typeof js === 'number' ? js : String(js);
};

/** Decimals as numbers when a double holds them exactly enough (15 significant digits), else as text. */
const decimal: Convert = (value, type) => {
  const text = String(JsonDuckDBValueConverter(value, type, JsonDuckDBValueConverter));
  return text.replace(/[-.]/g, '').replace(/^0+/, '').length <= 15 ? Number(text) : text;
};

/** NaN and infinities have no JSON number; they are given as text. */
const floating: Convert = (value, type) => {
  const js = JSDuckDBValueConverter(value, type, JSDuckDBValueConverter);
  return typeof js === 'number' && Number.isFinite(js) ? js : String(js);
};

/** Calendar dates as YYYY-MM-DD. */
const date: Convert = (value, type) =>
  String(JsonDuckDBValueConverter(value, type, JsonDuckDBValueConverter));

/** Instants as ISO 8601 in UTC (the session zone), to the millisecond. */
const instant: Convert = (value, type) => {
  const js = JSDuckDBValueConverter(value, type, JSDuckDBValueConverter);
  return js instanceof Date && !Number.isNaN(js.getTime())
    ? js.toISOString()
    : String(JsonDuckDBValueConverter(value, type, JsonDuckDBValueConverter));
};

/** Text, booleans and anything nested: DuckDB's JSON form, nested values serialised as JSON text. */
const asJson: Convert = (value, type) => {
  const json = JsonDuckDBValueConverter(value, type, JsonDuckDBValueConverter);
  if (json === null || typeof json === 'string' || typeof json === 'number' || typeof json === 'boolean') {
    return json;
  }
  return JSON.stringify(json);
};

const CONVERTERS: Partial<Record<DuckDBTypeId, Convert>> = {
  [DuckDBTypeId.TINYINT]: wholeNumber,
  [DuckDBTypeId.SMALLINT]: wholeNumber,
  [DuckDBTypeId.INTEGER]: wholeNumber,
  [DuckDBTypeId.BIGINT]: wholeNumber,
  [DuckDBTypeId.HUGEINT]: wholeNumber,
  [DuckDBTypeId.UTINYINT]: wholeNumber,
  [DuckDBTypeId.USMALLINT]: wholeNumber,
  [DuckDBTypeId.UINTEGER]: wholeNumber,
  [DuckDBTypeId.UBIGINT]: wholeNumber,
  [DuckDBTypeId.UHUGEINT]: wholeNumber,
  [DuckDBTypeId.DECIMAL]: decimal,
  [DuckDBTypeId.FLOAT]: floating,
  [DuckDBTypeId.DOUBLE]: floating,
  [DuckDBTypeId.DATE]: date,
  [DuckDBTypeId.TIMESTAMP]: instant,
  [DuckDBTypeId.TIMESTAMP_S]: instant,
  [DuckDBTypeId.TIMESTAMP_MS]: instant,
  [DuckDBTypeId.TIMESTAMP_NS]: instant,
  [DuckDBTypeId.TIMESTAMP_TZ]: instant,
};

const toJsonValue: DuckDBValueConverter<JsonValue> = (value, type) =>
  value === null ? null : (CONVERTERS[type.typeId] ?? asJson)(value, type);

/** A DuckDB result as the port's JSON-safe ResultSet. */
export function toResultSet(reader: DuckDBResultReader): ResultSet {
  const columns = reader.columnNames();
  const rows = reader.convertRows(toJsonValue).map((values) => {
    const row: Record<string, JsonValue> = {};
    columns.forEach((column, index) => {
      row[column] = values[index] ?? null;
    });
    return row;
  });
  return { columns, rows };
}
