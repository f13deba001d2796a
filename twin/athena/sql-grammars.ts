import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import * as z from 'zod';

/**
 * Athena parses DDL with Hive's grammar and every other statement with Trino's
 * (https://docs.aws.amazon.com/athena/latest/ug/ddl-reference.html,
 * https://docs.aws.amazon.com/athena/latest/ug/dml-queries-functions-operators.html). The twin asks the parsers
 * dt-sql-parser generates from those engines' ANTLR grammars, so that a statement DuckDB happens to accept cannot
 * pass for Athena SQL.
 */
export type AthenaGrammar = 'hive' | 'trino';

/** The first error a grammar reports: 1-based line and column, as Trino's `line 1:8: ...` messages count. */
export interface GrammarError {
  line: number;
  column: number;
  message: string;
}

const ParseErrorsSchema = z.array(
  z.object({ startLine: z.number(), startColumn: z.number(), message: z.string() }),
);

interface Validator {
  validate(sql: string): unknown;
  getAllEntities(sql: string): unknown;
}
const ParsersModuleSchema = z.object({
  HiveSQL: z.custom<new () => Validator>((value) => typeof value === 'function'),
  TrinoSQL: z.custom<new () => Validator>((value) => typeof value === 'function'),
});

/**
 * dt-sql-parser ships ES modules with extensionless relative imports, which Node's ESM loader (and so jest's)
 * refuses; it is meant to be bundled. The twin bundles the two parsers it uses with esbuild once, into a CommonJS
 * file named after the package's version, and requires that.
 */
async function bundledParsers(): Promise<string> {
  const require = createRequire(import.meta.url);
  const manifest = z
    .object({ version: z.string() })
    .parse(JSON.parse(readFileSync(require.resolve('dt-sql-parser/package.json'), 'utf8')));
  const folder = path.join(tmpdir(), 'fleet-etl-twin');
  const file = path.join(folder, `dt-sql-parser-${manifest.version}-hive-trino.cjs`);
  if (existsSync(file)) return file;
  mkdirSync(folder, { recursive: true });
  // Written aside and renamed, so a concurrent test process never requires half a file.
  const partial = `${file}.${randomUUID()}`;
  await build({
    stdin: {
      contents: "export { HiveSQL, TrinoSQL } from 'dt-sql-parser';",
      resolveDir: path.dirname(require.resolve('dt-sql-parser/package.json')),
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: partial,
    logLevel: 'error',
  });
  renameSync(partial, file);
  return file;
}

let loading: Promise<Record<AthenaGrammar, Validator>> | undefined;

function parsers(): Promise<Record<AthenaGrammar, Validator>> {
  loading ??= bundledParsers().then((file) => {
    const loaded = ParsersModuleSchema.parse(createRequire(import.meta.url)(file));
    return { hive: new loaded.HiveSQL(), trino: new loaded.TrinoSQL() };
  });
  return loading;
}

/** The first syntax error of the statement in the grammar, or undefined when the grammar accepts it. */
export async function grammarError(sql: string, grammar: AthenaGrammar): Promise<GrammarError | undefined> {
  const errors = ParseErrorsSchema.parse((await parsers())[grammar].validate(sql));
  const [first] = errors;
  return first === undefined
    ? undefined
    : { line: first.startLine, column: first.startColumn, message: first.message };
}

/**
 * Listing a statement's entities re-parses parts of it (antlr4-c3's completion), and antlr4ng's default error
 * listener prints every dead end of those partial parses to the console (`line 16:7 no viable alternative at
 * input 'latest'`) for statements the grammar accepts: noise in `etl twin run`'s output, and no finding. The
 * statement was validated before, with its errors collected, not printed.
 */
function withoutParserChatter<T>(list: () => T): T {
  const print = console.error;
  console.error = () => undefined;
  try {
    return list();
  } finally {
    console.error = print;
  }
}

const EntitiesSchema = z.array(z.object({ entityContextType: z.string(), text: z.string() }));
const NAME_PART = /^(?:"((?:[^"]|"")+)"|`([^`]+)`|([A-Za-z_][A-Za-z0-9_]*))$/;

/**
 * The tables a Trino statement names, as Trino's grammar finds them: each as its name parts (`db.t` is
 * ['db', 't']), unquoted, lower-cased as Glue folds them. CTE names are among them; subqueries are not.
 */
export async function tableReferences(sql: string): Promise<string[][]> {
  const { trino } = await parsers();
  const entities = EntitiesSchema.parse(withoutParserChatter(() => trino.getAllEntities(sql)) ?? []);
  const names = new Map<string, string[]>();
  for (const entity of entities) {
    if (entity.entityContextType !== 'table') continue;
    const parts = entity.text.split('.').map((part) => NAME_PART.exec(part.trim()));
    if (parts.some((match) => match === null)) continue;
    const name = parts.map((match) =>
      (match?.[1]?.replaceAll('""', '"') ?? match?.[2] ?? match?.[3] ?? '').toLowerCase(),
    );
    names.set(JSON.stringify(name), name);
  }
  return [...names.values()];
}
