// A process that writes a large partitioned Parquet table through the local engine's table writer, to be killed
// mid-write by tests/integration/duckdb/killed-write.test.ts. argv: <table folder> <rows>.
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { clearStaging, writeRunFiles } from '../../../services/adapters/local/duckdb/table-writer.js';

const [folder = '', rows = '0'] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const definition = {
  format: 'parquet' as const,
  location: pathToFileURL(folder).href,
  columns: [
    { name: 'id', type: 'BIGINT' },
    { name: 'label', type: 'VARCHAR' },
    { name: 'bucket', type: 'BIGINT' },
  ],
  partitionColumns: ['bucket'],
  codec: 'snappy',
};
// As the plan executor does before each write: what killed writes staged goes first.
await clearStaging(definition);
process.stdout.write('writing\n');
const written = await writeRunFiles(
  connection,
  definition,
  `SELECT range AS id, 'row ' || range AS label, range % 8 AS bucket FROM range(${Number(rows)})`,
  '2026-11-24',
);
process.stdout.write(`${JSON.stringify(written)}\n`);
