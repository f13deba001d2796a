import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPOSITORY_ROOT } from '../../infra/repository.js';

class SynthError extends Error {
  override readonly name = 'SynthError';
}

export interface CdkSynthOptions {
  /** `-c` settings exactly as `cdk deploy` would be given them: `fleet-etl:stage=prod`, `fleet-etl:configFile=…`. */
  context: readonly string[];
  /** Where the cloud assembly goes (`cdk synth -o`). */
  outdir: string;
  /** Where cdk runs: its cdk.json and cdk.context.json are read there, and relative config files resolve there. */
  cwd: string;
  /** Each line cdk writes (its bundling progress, its errors). */
  onLine?: (line: string) => void;
}

/** The project's own cdk CLI (the aws-cdk devDependency), whatever is on PATH. */
function cdkBin(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('aws-cdk/package.json')), 'bin', 'cdk');
}

/** The folder to run cdk in: the given one if it has a cdk.json, else the repository's root (which has). */
export function cdkFolder(cwd: string): string {
  return existsSync(path.join(cwd, 'cdk.json')) ? cwd : REPOSITORY_ROOT;
}

/**
 * `cdk synth --quiet -o <outdir> -c …`, the command `cdk deploy` runs first, with the same context resolution
 * (cdk.json, cdk.context.json, ~/.cdk.json, then `-c`): what it writes is what a deploy with those settings
 * would deploy, bundles included (the app bundles with the local esbuild, never Docker).
 */
export function cdkSynth(options: CdkSynthOptions): Promise<void> {
  const args = [
    cdkBin(),
    'synth',
    '--quiet',
    '-o',
    options.outdir,
    ...options.context.flatMap((setting) => ['-c', setting]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    // No telemetry or version checks from a rehearsal.
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    let partial = '';
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts.filter((l) => l.trim() !== '')) {
        lines.push(line);
        options.onLine?.(line);
      }
    });
  }
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new SynthError(
            `cdk synth failed (${signal ?? `exit code ${code}`})` +
              // Lines already handed to onLine were shown; otherwise the error carries cdk's last words.
              (options.onLine === undefined ? `:\n${lines.slice(-40).join('\n')}` : ': its output is above'),
          ),
        );
    });
  });
}
