import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import * as z from 'zod';

const CHILD = fileURLToPath(new URL('./killed-writer-child.ts', import.meta.url));
const ROWS = 3_000_000;

interface Outcome {
  signal: NodeJS.Signals | null;
  stdout: string;
}

/** Runs the writer; with `killAfterMs`, SIGKILLs it that long after it starts the COPY. */
function writer(folder: string, killAfterMs?: number): Promise<Outcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, folder, String(ROWS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (killAfterMs !== undefined && stdout.startsWith('writing')) {
      setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      killAfterMs = undefined;
    }
  });
  return new Promise((resolve) => child.on('close', (_code, signal) => resolve({ signal, stdout })));
}

/** Parquet files below a folder that are not whole: a whole one ends with the magic bytes `PAR1`. */
function parquetFiles(folder: string): { whole: string[]; broken: string[] } {
  const files = readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.parquet'))
    .map((entry) => path.join(entry.parentPath, entry.name));
  const isWhole = (file: string) => {
    const bytes = readFileSync(file);
    return bytes.length >= 12 && bytes.subarray(-4).toString('latin1') === 'PAR1';
  };
  return { whole: files.filter(isWhole), broken: files.filter((file) => !isWhole(file)) };
}

describe('a Parquet write killed mid-COPY', () => {
  it('leaves no file in the table that is not whole, and the next write gives the whole table', async () => {
    // Prepare: a table folder inside a warehouse folder, as the local engine lays them out.
    const warehouse = mkdtempSync(path.join(tmpdir(), 'killed-write-'));
    const table = path.join(warehouse, 'big_table');

    // Act: the write is killed at three moments while DuckDB writes the files (3M rows take a few seconds).
    const kills: Outcome[] = [];
    for (const delay of [100, 250, 500]) {
      kills.push(await writer(table, delay));
      // Assess after each kill: whatever reached the table is whole.
      const { broken } = parquetFiles(warehouse);
      expect(broken.filter((file) => !file.includes(`${path.sep}.staging${path.sep}`))).toEqual([]);
    }
    expect(kills.map((k) => k.signal)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL']);
    const finished = await writer(table);

    // Assess: the write reports every row, the staging folder is gone, and DuckDB reads the table back whole.
    expect(z.object({ rows: z.number() }).parse(JSON.parse(finished.stdout.split('\n')[1] ?? '')).rows).toBe(
      ROWS,
    );
    expect(parquetFiles(warehouse).broken).toEqual([]);
    expect(readdirSync(path.join(warehouse, '.staging', 'big_table'))).toEqual([]);
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    const reader = await connection.runAndReadAll(
      `SELECT count(*) AS n, count(DISTINCT id) AS ids FROM read_parquet('${table}/**/*.parquet')`,
    );
    expect(reader.getRowObjectsJS()).toEqual([{ n: BigInt(ROWS), ids: BigInt(ROWS) }]);
  }, 120_000);
});
