import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type HostileOptions,
  type HostileStats,
  HostileStatsSchema,
  ListeningLineSchema,
} from './hostile-options.js';

const SERVER = path.resolve('tests/faults/hostile-api/server.ts');

export interface HostileApi {
  /** Base URL of its API, `http://127.0.0.1:<port>`. */
  url: string;
  /** The other origin its token endpoint may redirect to. */
  elsewhere: string;
  /** What it saw so far. */
  stats(): Promise<HostileStats>;
  /** Closes its stdin, which ends it, and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts the hostile fleet API (server.ts) as a child process on a free loopback port. It exits when its stdin
 * closes (stop(), or this process going away) or after `lifetimeSeconds`, so no test can leave it running.
 */
export async function startHostileApi(options: HostileOptions): Promise<HostileApi> {
  const folder = mkdtempSync(path.join(tmpdir(), 'fleet-etl-hostile-'));
  const file = path.join(folder, 'options.json');
  writeFileSync(file, JSON.stringify(options));
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER, file], {
    cwd: process.cwd(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let listening: { url: string; elsewhere: string };
  try {
    listening = await listeningLine(child);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  return {
    ...listening,
    stats: async () => {
      const response = await fetch(`${listening.url}/_stats`);
      return HostileStatsSchema.parse(await response.json());
    },
    stop: async () => {
      child.stdin?.end();
      await exited;
    },
  };
}

function listeningLine(child: ChildProcess): Promise<{ url: string; elsewhere: string }> {
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line === undefined) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolve(ListeningLineSchema.parse(JSON.parse(line)));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('close', (code) =>
      reject(new Error(`the hostile API exited with ${String(code)} before listening:\n${output}`)),
    );
  });
}
