import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** The real command, as users run it: a child process of the test, with its own event loop. */
export const ETL = path.resolve('bin/etl.js');

export interface EtlOutcome {
  /** The exit code, or null when the process was killed (`signal` says by what). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The test's deadline passed and the process was killed: it hung. */
  timedOut: boolean;
}

export interface EtlProcess {
  child: ChildProcess;
  /** Resolves when the process has exited, never rejects. */
  outcome: Promise<EtlOutcome>;
  /** Everything the process wrote to stderr so far. */
  stderrSoFar: () => string;
}

/**
 * Starts `etl ARGS` and collects its output. A process still running after `timeoutMs` is killed with SIGKILL and
 * reported as timed out, so that a hang fails the test with what it printed instead of outliving it.
 */
export function startEtl(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): EtlProcess {
  const child = spawn(process.execPath, [ETL, ...args], {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 120_000);
  const outcome = new Promise<EtlOutcome>((resolve) => {
    child.on('close', (exitCode, signal) => {
      clearTimeout(deadline);
      resolve({ exitCode, signal, stdout, stderr, timedOut });
    });
  });
  return { child, outcome, stderrSoFar: () => stderr };
}

/** Runs `etl ARGS` to its end. */
export function runEtl(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<EtlOutcome> {
  return startEtl(args, options).outcome;
}

/** The last line of stdout parsed as JSON: what `--json` promises. */
export function lastJsonLine(stdout: string): unknown {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last);
  } catch (error) {
    throw new Error(`the last line of stdout is not JSON: ${JSON.stringify(last.slice(0, 200))}`, {
      cause: error,
    });
  }
}

/** Resolves once `text` appears in what the process wrote to stderr; rejects if the process ends first. */
export async function stderrShows(process: EtlProcess, text: string | RegExp, timeoutMs = 60_000) {
  const started = Date.now();
  let ended = false;
  void process.outcome.then(() => {
    ended = true;
  });
  const matches = () =>
    typeof text === 'string' ? process.stderrSoFar().includes(text) : text.test(process.stderrSoFar());
  while (!matches()) {
    if (ended)
      throw new Error(`the process ended without printing ${String(text)}:\n${process.stderrSoFar()}`);
    if (Date.now() - started > timeoutMs) {
      throw new Error(`no ${String(text)} on stderr after ${timeoutMs} ms:\n${process.stderrSoFar()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface SimulatorProcess {
  url: string;
  stop: () => Promise<void>;
}

/**
 * `etl sim` in its own process on a free port. It stops by itself after `lifetimeMs` should a test forget it
 * (node kills it then), and `stop` ends it at once.
 */
export async function startSimulatorProcess(
  args: readonly string[],
  lifetimeMs = 180_000,
): Promise<SimulatorProcess> {
  const child = spawn(process.execPath, [ETL, 'sim', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: lifetimeMs,
    killSignal: 'SIGTERM',
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /fleet API simulator on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (found?.[1] !== undefined) {
        child.stdout?.off('data', onData);
        resolve(found[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('close', (code) =>
      reject(new Error(`etl sim exited with ${String(code)} before listening:\n${output}`)),
    );
  });
  child.stdout?.resume();
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
