import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import type { TwinFunction } from '../template/stack-model.js';
import type { TwinClock } from './twin-clock.js';

const BOOTSTRAP = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lambda-bootstrap.mjs');

/** What Lambda reports for a failed invocation (`errorType`, `errorMessage`, `stack`), as the async and SQS paths see it. */
export interface InvocationError {
  errorType: string;
  errorMessage: string;
  stack: string[];
}

export type InvocationResult = { ok: true; result: unknown } | { ok: false; error: InvocationError };

const ErrorSchema = z.object({ errorType: z.string(), errorMessage: z.string(), stack: z.array(z.string()) });
const MessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ready') }),
  z.object({ kind: z.literal('init-error'), error: ErrorSchema }),
  z.object({ kind: z.literal('result'), id: z.number(), result: z.unknown() }),
  z.object({ kind: z.literal('error'), id: z.number(), error: ErrorSchema }),
]);

export class FunctionInitError extends Error {
  override readonly name = 'FunctionInitError';
}

export interface LambdaRunnerOptions {
  fn: TwinFunction;
  /** The process environment Lambda would give it (CloudTwin.environmentOf). */
  environment: Record<string, string>;
  /** External origins the function calls (`https://fleet-api.example.com`) and the loopback servers that answer them. */
  internet?: Readonly<Record<string, string>>;
  /** The time the function sees (`CloudTwin.clock`, moved on by Lambda's retry delays); real time without one. */
  clock?: TwinClock;
}

/**
 * Keys Lambda reserves: a function may not set them
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 */
const RESERVED_VARIABLES = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);
/** Lambda's limit on a function's variables, names and values together. */
const MAX_ENVIRONMENT_BYTES = 4 * 1024;

/** What Lambda's CreateFunction would refuse in the function's template environment, if anything. */
function environmentProblems(fn: TwinFunction): string[] {
  const entries = Object.entries(fn.environment);
  const reserved = entries
    .filter(([name]) => RESERVED_VARIABLES.has(name))
    .map(([name]) => `${name} is reserved`);
  const bytes = entries.reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
    0,
  );
  return bytes > MAX_ENVIRONMENT_BYTES
    ? [...reserved, `its environment variables take ${bytes} bytes, over Lambda's 4 KB`]
    : reserved;
}

/** The handler file Lambda's Node.js runtime would load for `index.handler`: index.js, index.mjs or index.cjs. */
function handlerFile(fn: TwinFunction): { file: string; exportName: string } {
  const dot = fn.handler.lastIndexOf('.');
  const base = fn.handler.slice(0, dot);
  const exportName = fn.handler.slice(dot + 1);
  for (const extension of ['.js', '.mjs', '.cjs']) {
    const file = path.join(fn.assetDir, `${base}${extension}`);
    if (existsSync(file)) return { file, exportName };
  }
  throw new FunctionInitError(`${fn.logicalId}: no ${base}.js, .mjs or .cjs in ${fn.assetDir}`);
}

/** A running process of the environment: the bundle imported once, invocations answered over IPC. */
interface Runtime {
  child: ChildProcess;
  ready: Promise<void>;
  /** The process has exited and its output has been read to the end. */
  closed: Promise<void>;
  /** Killed or exited: takes no further invocation. */
  ended: boolean;
  /** Its invocations in progress, settled by their answer, their timeout or the process's exit. */
  pending: Map<number, (result: InvocationResult) => void>;
}

/**
 * One execution environment of a function: a child process with only the function's environment (and PATH),
 * a heap limit from its memory size, its bundle imported once. Invocations run one at a time, as in Lambda.
 * One that outlives the function's timeout ends the process (Lambda's "Task timed out"); one whose process
 * dies (`kill`, a crash) fails as Lambda's Runtime.ExitError. Lambda then starts the next invocation in a fresh
 * environment, a cold start: so does this one.
 */
export class LambdaEnvironment {
  readonly #options: LambdaRunnerOptions;
  readonly #fn: TwinFunction;
  readonly #handler: { file: string; exportName: string };
  #runtime: Runtime;
  #next = 0;
  #busy: Promise<unknown> = Promise.resolve();
  #coldStarts = 0;

  constructor(options: LambdaRunnerOptions) {
    this.#options = options;
    this.#fn = options.fn;
    // Lambda would not have created the function: InvalidParameterValueException at deployment.
    const problems = environmentProblems(options.fn);
    if (problems.length > 0)
      throw new FunctionInitError(`${options.fn.logicalId} cannot be deployed: ${problems.join('; ')}`);
    this.#handler = handlerFile(options.fn);
    this.#runtime = this.#start();
  }

  /** How many processes this environment has started: 1, plus one per invocation after a timeout or crash. */
  get coldStarts(): number {
    return this.#coldStarts;
  }

  #start(): Runtime {
    this.#coldStarts += 1;
    const { file, exportName } = this.#handler;
    const child = fork(BOOTSTRAP, [file, exportName, JSON.stringify(this.#options.internet ?? {})], {
      env: { PATH: process.env.PATH ?? '', ...this.#options.environment },
      execArgv: [`--max-old-space-size=${this.#fn.memoryMb}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      cwd: this.#fn.assetDir,
    });
    const runtime: Runtime = {
      child,
      ready: Promise.resolve(),
      // 'close', not 'exit', ends a process: it may be gone before its last log lines are read.
      closed: new Promise((resolve) => child.once('close', () => resolve())),
      ended: false,
      pending: new Map(),
    };
    // Read what the function writes, line by line, into `logs` (unread, the child would queue every line in its
    // own memory, and a reader of `logs` would find it empty).
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      let partial = '';
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        this.logs.push(...lines.filter((line) => line !== ''));
      });
      stream?.on('end', () => {
        if (partial !== '') this.logs.push(partial);
      });
    }
    runtime.ready = new Promise((resolve, reject) => {
      child.on('message', (raw) => {
        const message = MessageSchema.parse(raw);
        if (message.kind === 'ready') resolve();
        else if (message.kind === 'init-error')
          reject(
            new FunctionInitError(
              `${this.#fn.logicalId}: ${message.error.errorType}: ${message.error.errorMessage}`,
            ),
          );
        else {
          const settle = runtime.pending.get(message.id);
          runtime.pending.delete(message.id);
          settle?.(
            message.kind === 'result'
              ? { ok: true, result: message.result }
              : { ok: false, error: message.error },
          );
        }
      });
      child.on('exit', (code, signal) => {
        runtime.ended = true;
        reject(new FunctionInitError(`${this.#fn.logicalId}: exited with ${code ?? signal}`));
        // An invocation in progress when the process died: Lambda reports the runtime's exit.
        for (const [id, settle] of runtime.pending) {
          runtime.pending.delete(id);
          settle({
            ok: false,
            error: {
              errorType: 'Runtime.ExitError',
              errorMessage: `Runtime exited with error: ${signal === null ? `exit status ${code}` : `signal: ${signal === 'SIGKILL' ? 'killed' : signal}`}`,
              stack: [],
            },
          });
        }
      });
    });
    // A process stopped or failed before it was ever ready is no error of its own; an invocation still sees why.
    runtime.ready.catch(() => undefined);
    return runtime;
  }

  /** Everything the function wrote to stdout and stderr (its JSON logs), for a test to read. */
  readonly logs: string[] = [];

  /** Invokes the handler with an event, after any invocation in progress. */
  invoke(event: unknown): Promise<InvocationResult> {
    const run = this.#busy.then(() => this.#invokeNow(event));
    this.#busy = run.catch(() => undefined);
    return run;
  }

  /**
   * Ends the environment's process at once (SIGKILL), as a crash or an out-of-memory kill would: an invocation in
   * progress fails with Runtime.ExitError, and the next one starts a fresh process.
   */
  kill(): void {
    this.#runtime.ended = true;
    this.#runtime.child.kill('SIGKILL');
  }

  async #invokeNow(event: unknown): Promise<InvocationResult> {
    if (this.#runtime.ended) this.#runtime = this.#start();
    const runtime = this.#runtime;
    await runtime.ready;
    const id = this.#next++;
    const timeoutMs = this.#fn.timeoutSeconds * 1000;
    return new Promise<InvocationResult>((resolve) => {
      const timer = setTimeout(() => {
        runtime.pending.delete(id);
        runtime.ended = true;
        runtime.child.kill('SIGKILL');
        resolve({
          ok: false,
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `Task timed out after ${this.#fn.timeoutSeconds}.00 seconds`,
            stack: [],
          },
        });
      }, timeoutMs);
      runtime.pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      runtime.child.send(
        {
          id,
          event,
          timeoutMs,
          clockOffsetMs: this.#options.clock?.offsetMs ?? 0,
          functionArn: this.#fn.arn,
          logGroupName: `/aws/lambda/${this.#fn.name}`,
        },
        // A process that died meanwhile: its exit settles the invocation (Runtime.ExitError).
        () => undefined,
      );
    });
  }

  async stop(): Promise<void> {
    const { child, closed } = this.#runtime;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await closed;
  }
}
