import { type AthenaClient, GetQueryResultsCommand } from '@aws-sdk/client-athena';
import * as z from 'zod';
import type { JsonValue, ResultSet } from '../../../ports/query-engine.js';
import { TerminalError } from '../../../shared/errors.js';
import { classifyAwsError } from '../aws-error.js';

/** GetQueryResults returns at most 1,000 rows per call. */
const PAGE_SIZE = 1000;

/**
 * The parts of a GetQueryResults page we read. A null value comes back as a Datum without VarCharValue, an
 * empty string as VarCharValue ''
 * (https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryResults.html).
 */
const ResultsPageSchema = z.object({
  ResultSet: z.object({
    Rows: z
      .array(z.object({ Data: z.array(z.object({ VarCharValue: z.string().optional() })).default([]) }))
      .default([]),
    ResultSetMetadata: z
      .object({ ColumnInfo: z.array(z.object({ Name: z.string(), Type: z.string() })).default([]) })
      .optional(),
  }),
  NextToken: z.string().min(1).optional(),
});

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint']);
const FLOATING_TYPES = new Set(['double', 'float', 'real']);
/** Athena's text of a timestamp in the session's zone, UTC: `2026-11-24 01:02:03.456`, maybe with ` UTC`. */
const UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(?: UTC)?$/;

/**
 * Athena returns every value as text; the column's type says what it was. Values come out as the local engine
 * gives them (services/adapters/local/duckdb/result-set.ts; tests/contracts/query-engine.contract.ts holds both
 * to it): a bigint beyond 2^53, a decimal of more than 15 significant digits or a NaN double has no exact JSON
 * number, so it stays text rather than silently change value; a timestamp becomes ISO 8601 with its zone, to the
 * millisecond, since `2026-11-24 01:02:03.456` reads as local time to most parsers (JavaScript's Date among them).
 */
export function fromAthenaValue(raw: string | undefined, columnType: string): JsonValue {
  if (raw === undefined) return null;
  const type = columnType.toLowerCase().replace(/\(.*$/, '');
  if (INTEGER_TYPES.has(type)) {
    const value = Number(raw);
    return raw.trim() !== '' && Number.isSafeInteger(value) ? value : raw;
  }
  if (FLOATING_TYPES.has(type)) {
    const value = Number(raw);
    return raw.trim() !== '' && Number.isFinite(value) ? value : raw;
  }
  if (type === 'decimal') {
    const value = Number(raw);
    const digits = raw.replace(/[-.]/g, '').replace(/^0+/, '').length;
    return raw.trim() !== '' && Number.isFinite(value) && digits <= 15 ? value : raw;
  }
  if (type === 'timestamp' || type === 'timestamp with time zone') {
    const parts = UTC_TIMESTAMP.exec(raw);
    if (parts === null) return raw;
    const [, day, time, fraction = ''] = parts;
    return `${day}T${time}.${fraction.padEnd(3, '0').slice(0, 3)}Z`;
  }
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

/** A result as Athena gives it: column names and types, and every value as text (undefined for NULL). */
export interface RawResults {
  columns: { Name: string; Type: string }[];
  rows: (string | undefined)[][];
}

/**
 * Reads a finished SELECT's rows, following NextToken. The first row of the first page repeats the column
 * names (https://docs.aws.amazon.com/athena/latest/ug/querying.html), so it is skipped; names and types come
 * from the column metadata instead.
 */
export async function readRawResults(
  client: AthenaClient,
  queryExecutionId: string,
  where: string,
): Promise<RawResults> {
  let columns: { Name: string; Type: string }[] | undefined;
  const rows: (string | undefined)[][] = [];
  let token: string | undefined;
  let first = true;
  do {
    let raw: unknown;
    try {
      raw = await client.send(
        new GetQueryResultsCommand({
          QueryExecutionId: queryExecutionId,
          MaxResults: PAGE_SIZE,
          ...(token === undefined ? {} : { NextToken: token }),
        }),
      );
    } catch (error) {
      throw classifyAwsError(error, `Athena GetQueryResults of ${queryExecutionId} (${where})`);
    }
    const page = ResultsPageSchema.safeParse(raw);
    if (!page.success) {
      throw new TerminalError(
        `Athena GetQueryResults of ${queryExecutionId} (${where}): unexpected response shape`,
        { cause: page.error },
      );
    }
    columns ??= page.data.ResultSet.ResultSetMetadata?.ColumnInfo;
    if (columns === undefined) {
      throw new TerminalError(`Athena GetQueryResults of ${queryExecutionId} (${where}): no column metadata`);
    }
    const pageRows = first ? page.data.ResultSet.Rows.slice(1) : page.data.ResultSet.Rows;
    for (const row of pageRows) {
      if (row.Data.length !== columns.length) {
        throw new TerminalError(
          `Athena result of ${where}: a row of ${row.Data.length} values for ${columns.length} columns`,
        );
      }
      rows.push(row.Data.map((datum) => datum.VarCharValue));
    }
    token = page.data.NextToken;
    first = false;
  } while (token !== undefined);
  return { columns: columns ?? [], rows };
}

/** A finished SELECT's rows as the port's ResultSet, values converted by their column's type. */
export async function readResultSet(
  client: AthenaClient,
  queryExecutionId: string,
  where: string,
): Promise<ResultSet> {
  const { columns, rows } = await readRawResults(client, queryExecutionId, where);
  return {
    columns: columns.map((column) => column.Name),
    // fromEntries defines own properties, so even a column named __proto__ stays a plain field.
    rows: rows.map((values) =>
      Object.fromEntries(
        columns.map((column, index) => [column.Name, fromAthenaValue(values[index], column.Type)]),
      ),
    ),
  };
}
