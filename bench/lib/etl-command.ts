import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CPU_AT_EXIT = fileURLToPath(new URL('./cpu-at-exit.js', import.meta.url));

export interface EtlCommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit: Node.js start, module loading and exit included, as a user waits. */
  seconds: number;
  /** Wall time from spawn to the first byte on stdout or stderr. */
  firstOutputSeconds: number;
  /** User + system CPU time of every Node.js process the command ran (threads included), from getrusage at exit. */
  cpuSeconds: number;
}

export interface EtlCommandOptions {
  /** The Node.js binary (this one by default). */
  node?: string;
  env?: NodeJS.ProcessEnv;
  /** Run through `npx etl` instead of `node bin/etl.js`, as the README shows. */
  npx?: boolean;
  /** Another checkout of fleet-etl to run the command of (this one by default). */
  root?: string;
}

const CpuLineSchema = z.object({ userSeconds: z.number(), systemSeconds: z.number() });

/** Runs `bin/etl.js ARGS` in a fresh process to its exit, with its wall and CPU time. */
export async function runEtlCommand(
  args: readonly string[],
  options: EtlCommandOptions = {},
): Promise<EtlCommandResult> {
  const node = options.node ?? process.execPath;
  const root = options.root ?? ROOT;
  const folder = mkdtempSync(path.join(tmpdir(), 'etl-cpu-'));
  const cpuFile = path.join(folder, 'cpu.ndjson');
  // With npx, npm and the etl it starts are both Node.js processes: NODE_OPTIONS preloads the reporter into each.
  const env = {
    ...(options.env ?? process.env),
    BENCH_CPU_FILE: cpuFile,
    NODE_OPTIONS:
      `${options.env?.NODE_OPTIONS ?? process.env.NODE_OPTIONS ?? ''} --import=${CPU_AT_EXIT}`.trim(),
    PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}`,
  };
  // npx from PATH (a Node.js installed from npm's `node` package has no npx beside it); it runs etl with the
  // first node on PATH, this one.
  const [command, commandArgs] = options.npx
    ? ['npx', ['--no-install', 'etl', ...args]]
    : [node, [path.join(root, 'bin/etl.js'), ...args]];
  const started = performance.now();
  let firstOutput: number | undefined;
  const child = spawn(command, commandArgs, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    firstOutput ??= performance.now();
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    firstOutput ??= performance.now();
    stderr += chunk.toString('utf8');
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  );
  const ended = performance.now();
  let cpuSeconds = 0;
  try {
    for (const line of readFileSync(cpuFile, 'utf8').trim().split('\n')) {
      const usage = CpuLineSchema.parse(JSON.parse(line));
      cpuSeconds += usage.userSeconds + usage.systemSeconds;
    }
  } catch {
    cpuSeconds = Number.NaN; // killed before its exit handler ran
  }
  rmSync(folder, { recursive: true, force: true });
  return {
    code,
    signal,
    stdout,
    stderr,
    seconds: (ended - started) / 1000,
    firstOutputSeconds: ((firstOutput ?? ended) - started) / 1000,
    cpuSeconds,
  };
}
