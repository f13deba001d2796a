import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FunctionInitError, LambdaEnvironment } from '../../../twin/lambda/lambda-runner.js';
import { TwinClock } from '../../../twin/lambda/twin-clock.js';
import type { TwinFunction } from '../../../twin/template/stack-model.js';

const folders: string[] = [];

/** A made-up function whose bundle is `source`, as a cloud assembly would hold it. */
function fakeFunction(source: string, overrides: Partial<TwinFunction> = {}): TwinFunction {
  const assetDir = mkdtempSync(path.join(tmpdir(), 'twin-fn-'));
  folders.push(assetDir);
  writeFileSync(path.join(assetDir, 'index.mjs'), source);
  return {
    logicalId: 'Fake12345678',
    name: 'fake',
    arn: 'arn:aws:lambda:eu-west-1:123456789012:function:fake',
    runtime: 'nodejs24.x',
    handler: 'index.handler',
    assetDir,
    environment: { GREETING: 'hello' },
    timeoutSeconds: 1,
    memoryMb: 128,
    roleLogicalId: 'FakeRole',
    ...overrides,
  };
}

const started: LambdaEnvironment[] = [];
function start(fn: TwinFunction, clock?: TwinClock) {
  const running = new LambdaEnvironment({
    fn,
    environment: { ...fn.environment },
    ...(clock === undefined ? {} : { clock }),
  });
  started.push(running);
  return running;
}

afterEach(async () => {
  for (const environment of started.splice(0)) await environment.stop();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('a Lambda execution environment of the twin', () => {
  it('imports the bundle once with only its environment, and invokes the handler with the event and a context', async () => {
    const fn = fakeFunction(
      'let calls = 0;\n' +
        'export const handler = async (event, context) => ({ event, calls: ++calls, greeting: process.env.GREETING, ' +
        'home: process.env.HOME ?? null, remaining: context.getRemainingTimeInMillis() > 0 });',
    );
    const environment = start(fn);
    await expect(environment.invoke({ a: 1 })).resolves.toEqual({
      ok: true,
      result: { event: { a: 1 }, calls: 1, greeting: 'hello', home: null, remaining: true },
    });
    await expect(environment.invoke({ a: 2 })).resolves.toMatchObject({ ok: true, result: { calls: 2 } });
  });

  it("reports a handler's error as Lambda does, and ends an invocation at the function's timeout", async () => {
    const fn = fakeFunction(
      "export const handler = async (event) => { if (event.fail) throw new RangeError('no'); await new Promise(() => setInterval(() => {}, 1000)); };",
    );
    const environment = start(fn);
    await expect(environment.invoke({ fail: true })).resolves.toMatchObject({
      ok: false,
      error: { errorType: 'RangeError', errorMessage: 'no' },
    });
    await expect(environment.invoke({ fail: false })).resolves.toMatchObject({
      ok: false,
      error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 1.00 seconds' },
    });
    // The timed-out process is gone: the next invocation runs in a fresh one, as Lambda's does.
    await expect(environment.invoke({ fail: true })).resolves.toMatchObject({
      ok: false,
      error: { errorType: 'RangeError' },
    });
    expect(environment.coldStarts).toBe(2);
  }, 10_000);

  it('fails an invocation whose process is killed as Runtime.ExitError, and starts the next one cold', async () => {
    const fn = fakeFunction(
      'let calls = 0;\n' +
        'export const handler = async (event) => { calls += 1; if (event.hang) await new Promise(() => setInterval(() => {}, 1000)); return calls; };',
      { timeoutSeconds: 30 },
    );
    const environment = start(fn);
    await expect(environment.invoke({})).resolves.toEqual({ ok: true, result: 1 });
    const hanging = environment.invoke({ hang: true });
    // Killed mid-invocation, long before its timeout.
    setTimeout(() => environment.kill(), 200);
    await expect(hanging).resolves.toEqual({
      ok: false,
      error: {
        errorType: 'Runtime.ExitError',
        errorMessage: 'Runtime exited with error: signal: killed',
        stack: [],
      },
    });
    // A fresh process: the module's state starts over.
    await expect(environment.invoke({})).resolves.toEqual({ ok: true, result: 1 });
    expect(environment.coldStarts).toBe(2);
  }, 10_000);

  it("shows the function the twin's clock: real time plus what the twin skipped", async () => {
    const fn = fakeFunction(
      'export const handler = async () => ({ now: Date.now(), made: new Date().getTime(), text: typeof Date(), ' +
        'parsed: new Date(0).getTime(), isDate: new Date() instanceof Date });',
    );
    const clock = new TwinClock();
    const environment = start(fn, clock);
    clock.advance(120_000);
    const before = Date.now();
    const answer = await environment.invoke({});
    if (!answer.ok) throw new Error(answer.error.errorMessage);
    const seen = answer.result as {
      now: number;
      made: number;
      text: string;
      parsed: number;
      isDate: boolean;
    };
    expect(seen.now).toBeGreaterThanOrEqual(before + 120_000);
    expect(seen.now).toBeLessThan(Date.now() + 120_000 + 1);
    expect(seen.made - seen.now).toBeLessThan(50);
    expect(seen).toMatchObject({ text: 'string', parsed: 0, isDate: true });
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });

  it('keeps every line the function logs, the last ones included when the environment stops right after', async () => {
    // 2,000 JSON lines of ~100 bytes, to stdout and stderr: about 200 KB each way. The timeout leaves room for a
    // loaded CI machine (1 s was overrun there); what is checked is that no line is lost, not how fast they go.
    const fn = fakeFunction(
      'export const handler = async () => { for (let i = 0; i < 2000; i += 1) { ' +
        "console.log(JSON.stringify({ level: 'INFO', message: 'line ' + i, pad: 'x'.repeat(80) })); " +
        "console.error(JSON.stringify({ level: 'ERROR', message: 'err ' + i })); } return 'done'; };",
      { timeoutSeconds: 20 },
    );
    const environment = start(fn);
    await expect(environment.invoke({})).resolves.toEqual({ ok: true, result: 'done' });
    await environment.stop();
    const lines = environment.logs.map((line) => JSON.parse(line) as { message: string });
    expect(lines.filter((l) => l.message.startsWith('line '))).toHaveLength(2000);
    expect(lines.filter((l) => l.message.startsWith('err '))).toHaveLength(2000);
    expect(lines.find((l) => l.message === 'line 1999')).toBeDefined();
  }, 30_000);

  it('refuses a function Lambda would not create: reserved variables, more than 4 KB of them', () => {
    expect(() =>
      start(fakeFunction('export const handler = () => 1;', { environment: { AWS_REGION: 'x' } })),
    ).toThrow(FunctionInitError);
    expect(() =>
      start(fakeFunction('export const handler = () => 1;', { environment: { BIG: 'x'.repeat(4100) } })),
    ).toThrow(/over Lambda's 4 KB/);
  });
});
