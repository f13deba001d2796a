import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface EtlCommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit: Node.js start, module loading and exit included, as a user waits. */
  seconds: number;
}

/** Runs `bin/etl.js ARGS` in a fresh process of the given Node.js binary (this one by default), to its exit. */
export async function runEtlCommand(
  args: readonly string[],
  node = process.execPath,
): Promise<EtlCommandResult> {
  const started = performance.now();
  const child = spawn(node, [path.join(ROOT, 'bin/etl.js'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  );
  return { code, signal, stdout, stderr, seconds: (performance.now() - started) / 1000 };
}
