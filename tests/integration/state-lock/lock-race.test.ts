import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { LockRecordSchema, stateLockFile } from '../../../local/state-lock/index.js';

const CONTENDER = path.resolve('tests/integration/state-lock/lock-contender.ts');
const CONTENDERS = 6;

/** Starts the contenders, lets them go at once, and returns what each printed. */
async function race(stateDir: string): Promise<string[]> {
  const startSignal = path.join(stateDir, '..', `${path.basename(stateDir)}.go`);
  const outcomes = Array.from({ length: CONTENDERS }, () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CONTENDER, stateDir, startSignal], {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 60_000,
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    return new Promise<string>((resolve) => child.on('close', () => resolve(out.trim())));
  });
  // Give every process time to load before the signal: they then contend within milliseconds of each other.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  writeFileSync(startSignal, '');
  return Promise.all(outcomes);
}

describe('processes contending for one state folder', () => {
  it('lets exactly one of them in when the folder is free', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'lock-race-free-'));

    const outcomes = await race(stateDir);

    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'busy')).toHaveLength(CONTENDERS - 1);
  }, 60_000);

  it('lets exactly one of them take over a dead holder’s lock', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'lock-race-stale-'));
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(
      stateLockFile(stateDir),
      JSON.stringify({
        pid: Number(ended.stdout.toString()),
        hostname: hostname(),
        command: 'etl run (killed)',
        startedAt: new Date().toISOString(),
        processStart: null,
        token: randomUUID(),
      }),
    );

    const outcomes = await race(stateDir);

    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'busy')).toHaveLength(CONTENDERS - 1);
    // The winner released its lock on the way out; nothing of the dead holder's is left.
    expect(() => LockRecordSchema.parse(JSON.parse(readFileSync(stateLockFile(stateDir), 'utf8')))).toThrow(
      /ENOENT/,
    );
  }, 60_000);
});
