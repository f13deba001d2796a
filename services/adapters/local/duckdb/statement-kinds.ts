import { UnsupportedStatementError } from './bridge-errors.js';
import { firstLine, TokenCursor } from './sql-tokens.js';

export type StatementKind =
  | 'createDatabase'
  | 'createExternalTable'
  | 'createTableAs'
  | 'insert'
  | 'dropTable'
  | 'createView'
  | 'dropView'
  | 'repairPartitions'
  | 'query';

/** Leading keywords of each statement the bridge handles; the first matching row wins. */
const STATEMENT_KINDS: readonly { keywords: readonly string[]; kind: StatementKind }[] = [
  { keywords: ['CREATE', 'DATABASE'], kind: 'createDatabase' },
  { keywords: ['CREATE', 'SCHEMA'], kind: 'createDatabase' },
  { keywords: ['CREATE', 'EXTERNAL', 'TABLE'], kind: 'createExternalTable' },
  { keywords: ['CREATE', 'TABLE'], kind: 'createTableAs' },
  { keywords: ['CREATE', 'OR', 'REPLACE', 'VIEW'], kind: 'createView' },
  { keywords: ['CREATE', 'VIEW'], kind: 'createView' },
  { keywords: ['INSERT', 'INTO'], kind: 'insert' },
  { keywords: ['DROP', 'TABLE'], kind: 'dropTable' },
  { keywords: ['DROP', 'VIEW'], kind: 'dropView' },
  { keywords: ['MSCK', 'REPAIR', 'TABLE'], kind: 'repairPartitions' },
  { keywords: ['SELECT'], kind: 'query' },
  { keywords: ['WITH'], kind: 'query' },
  { keywords: ['VALUES'], kind: 'query' },
  { keywords: ['TABLE'], kind: 'query' },
];

export function classifyStatement(sql: string): StatementKind {
  const cursor = TokenCursor.of(sql);
  const row = STATEMENT_KINDS.find(({ keywords }) => cursor.atKeywords(...keywords));
  if (row) {
    return row.kind;
  }
  const first = cursor.peek();
  if (first?.kind === 'symbol' && first.value === '(') {
    return 'query';
  }
  throw new UnsupportedStatementError(
    `statement not supported by the local Athena bridge: ${firstLine(sql)}`,
  );
}
