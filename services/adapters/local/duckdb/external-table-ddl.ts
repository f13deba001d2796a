import { AthenaRuleError, UnsupportedStatementError } from './bridge-errors.js';
import { duckDbTypeForHive } from './hive-types.js';
import { sameLocation } from './local-locations.js';
import type { TableName } from './sql-literals.js';
import { isKeyword, type Token, type TokenCursor } from './sql-tokens.js';
import type { ColumnDefinition, TableDefinition } from './table-definition.js';
import {
  DEFAULT_PARQUET_CODEC,
  formatOfSerde,
  formatOfStoredAs,
  parquetCodec,
  type TableFormat,
} from './table-formats.js';

export interface CreateExternalTablePlan {
  kind: 'createExternalTable';
  table: TableName;
  ifNotExists: boolean;
  definition: TableDefinition;
}

/** What the clauses after the column list have said so far. */
interface ExternalTableDraft {
  partitionColumns: ColumnDefinition[];
  serdeFormat?: TableFormat;
  storedAs?: TableFormat | 'by-serde';
  location?: string;
  tableProperties: Record<string, string>;
}

type ClauseParser = (cursor: TokenCursor, draft: ExternalTableDraft) => void;

/**
 * The clauses of Hive's CREATE EXTERNAL TABLE, in any order.
 * https://docs.aws.amazon.com/athena/latest/ug/create-table.html
 */
const CLAUSES: readonly { keywords: readonly string[]; parse: ClauseParser }[] = [
  { keywords: ['COMMENT'], parse: (cursor) => cursor.expectString('table comment') },
  {
    keywords: ['PARTITIONED', 'BY'],
    parse: (cursor, draft) => {
      draft.partitionColumns = columnDefinitions(cursor);
    },
  },
  {
    keywords: ['ROW', 'FORMAT', 'SERDE'],
    parse: (cursor, draft) => {
      draft.serdeFormat = formatOfSerde(cursor.expectString('SerDe class'));
    },
  },
  {
    keywords: ['ROW', 'FORMAT', 'DELIMITED'],
    parse: (cursor) => cursor.fail('ROW FORMAT DELIMITED (text tables) is not supported locally'),
  },
  {
    keywords: ['STORED', 'AS', 'INPUTFORMAT'],
    parse: (cursor, draft) => {
      const inputFormat = cursor.expectString('input format class');
      cursor.expectKeywords('OUTPUTFORMAT');
      cursor.expectString('output format class');
      draft.storedAs = /parquet/i.test(inputFormat) ? 'parquet' : 'by-serde';
    },
  },
  {
    keywords: ['STORED', 'AS'],
    parse: (cursor, draft) => {
      draft.storedAs = formatOfStoredAs(cursor.expectName('storage format'));
    },
  },
  { keywords: ['WITH', 'SERDEPROPERTIES'], parse: (cursor) => properties(cursor) },
  {
    keywords: ['LOCATION'],
    parse: (cursor, draft) => {
      draft.location = cursor.expectString('location').replace(/\/+$/, '');
    },
  },
  {
    keywords: ['TBLPROPERTIES'],
    parse: (cursor, draft) => {
      draft.tableProperties = properties(cursor);
    },
  },
  {
    keywords: ['CLUSTERED', 'BY'],
    parse: (cursor) => cursor.fail('bucketed tables (CLUSTERED BY) are not supported locally'),
  },
];

export function parseCreateExternalTable(cursor: TokenCursor, table: TableName, ifNotExists: boolean) {
  const columns = columnDefinitions(cursor);
  const draft: ExternalTableDraft = { partitionColumns: [], tableProperties: {} };
  while (!cursor.done) {
    const clause = CLAUSES.find(({ keywords }) => cursor.acceptKeywords(...keywords));
    if (!clause) {
      cursor.fail('unexpected clause in CREATE EXTERNAL TABLE');
    }
    clause.parse(cursor, draft);
  }
  if (!draft.location) {
    throw new AthenaRuleError(`CREATE EXTERNAL TABLE ${table.schema}.${table.name} needs a LOCATION`);
  }
  const format = draft.storedAs === 'parquet' ? 'parquet' : draft.serdeFormat;
  if (!format) {
    throw new UnsupportedStatementError(
      `CREATE EXTERNAL TABLE ${table.schema}.${table.name}: declare ROW FORMAT SERDE (JSON) or STORED AS PARQUET`,
    );
  }
  const partitionNames = draft.partitionColumns.map((column) => column.name);
  const allColumns = [...columns, ...draft.partitionColumns];
  checkUniqueColumns(table, allColumns);
  checkPartitionProjection(draft.tableProperties, draft.location, partitionNames);
  const definition: TableDefinition = {
    format,
    location: draft.location,
    columns: allColumns,
    partitionColumns: partitionNames,
    codec: format === 'parquet' ? parquetCodecOf(draft.tableProperties) : null,
  };
  const plan: CreateExternalTablePlan = { kind: 'createExternalTable', table, ifNotExists, definition };
  return plan;
}

/** `(name type [COMMENT '...'], ...)` with Hive types. */
function columnDefinitions(cursor: TokenCursor): ColumnDefinition[] {
  return cursor.parenthesisedItems(true).map((item) => {
    const [nameToken, ...rest] = item;
    const commentAt = rest.findIndex((token) => isKeyword(token, 'COMMENT'));
    const typeTokens = commentAt === -1 ? rest : rest.slice(0, commentAt);
    const first = typeTokens[0];
    const last = typeTokens.at(-1);
    if (!nameToken || (nameToken.kind !== 'word' && nameToken.kind !== 'quoted') || !first || !last) {
      return cursor.fail('expected a column definition: name type');
    }
    return {
      name: nameToken.value.toLowerCase(),
      type: duckDbTypeForHive(cursor.sql.slice(first.start, last.end)),
    };
  });
}

/** `('key' = 'value', ...)`: SERDEPROPERTIES and TBLPROPERTIES. */
function properties(cursor: TokenCursor): Record<string, string> {
  const entries = cursor.parenthesisedItems().map((item): [string, string] => {
    const [key, equals, value, ...extra] = item;
    if (!isStringToken(key) || equals?.value !== '=' || !isStringToken(value) || extra.length > 0) {
      return cursor.fail("expected 'key' = 'value'");
    }
    return [key.value, value.value];
  });
  return Object.fromEntries(entries);
}

function isStringToken(token: Token | undefined): token is Token {
  return token?.kind === 'string';
}

/**
 * Hive keeps one namespace for a table's columns and its partition columns: a name declared twice, or declared
 * both as a column and in PARTITIONED BY, fails the DDL in Athena ("Column repeated in partitioning columns").
 */
function checkUniqueColumns(table: TableName, columns: readonly ColumnDefinition[]): void {
  const names = columns.map((column) => column.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) {
    throw new AthenaRuleError(
      `CREATE EXTERNAL TABLE ${table.schema}.${table.name}: column ${repeated} is declared twice ` +
        '(a partition column is declared in PARTITIONED BY only)',
    );
  }
}

/** Table properties that name a compression Athena does not apply to Parquet files. */
const NOT_FOR_PARQUET = ['write.compression', 'write_compression'];

/**
 * What INSERT INTO compresses a Hive Parquet table's files with: the table property `parquet.compression`, or
 * Athena's default, GZIP, when the table has none. `write.compression` is the property of text and JSON
 * tables, and `write_compression` a CTAS property; on a Parquet table they would be believed and not applied,
 * so they are refused (https://docs.aws.amazon.com/athena/latest/ug/alter-table-set-tblproperties.html).
 */
function parquetCodecOf(tableProperties: Readonly<Record<string, string>>): string {
  const misplaced = NOT_FOR_PARQUET.find((name) => Object.hasOwn(tableProperties, name));
  if (misplaced !== undefined) {
    throw new UnsupportedStatementError(
      `TBLPROPERTIES '${misplaced}' does not set the compression of a Parquet table; use 'parquet.compression'`,
    );
  }
  const compression = tableProperties['parquet.compression'];
  return compression === undefined
    ? DEFAULT_PARQUET_CODEC
    : parquetCodec(compression, "TBLPROPERTIES 'parquet.compression'");
}

/** Projection types whose values all come from the folder names, which is how the local engine reads them. */
const PROJECTION_TYPES: ReadonlySet<string> = new Set(['injected', 'enum', 'integer', 'date']);

/**
 * With partition projection, Athena computes partition folders from `storage.location.template` instead of
 * asking Glue. Locally partitions are discovered from Hive-style folder names, which is the same thing only
 * when the template is `<LOCATION>/<column>=${column}/...`; anything else is refused rather than misread.
 * https://docs.aws.amazon.com/athena/latest/ug/partition-projection-setting-up.html
 */
function checkPartitionProjection(
  tableProperties: Readonly<Record<string, string>>,
  location: string,
  partitionColumns: readonly string[],
): void {
  if (tableProperties['projection.enabled']?.toLowerCase() !== 'true') {
    return;
  }
  for (const column of partitionColumns) {
    const type = tableProperties[`projection.${column}.type`];
    if (!type) {
      throw new AthenaRuleError(`partition projection: projection.${column}.type is missing`);
    }
    if (!PROJECTION_TYPES.has(type.toLowerCase())) {
      throw new UnsupportedStatementError(`partition projection type ${type} is not supported locally`);
    }
  }
  const template = tableProperties['storage.location.template'];
  const hiveLayout = [location, ...partitionColumns.map((column) => `${column}=\${${column}}`)].join('/');
  if (template !== undefined && !sameLocation(template, hiveLayout)) {
    throw new UnsupportedStatementError(
      `storage.location.template ${template}: the local engine reads Hive-style folders only (${hiveLayout}/)`,
    );
  }
}
