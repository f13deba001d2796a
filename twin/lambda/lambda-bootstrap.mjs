// The twin's Lambda runtime for one execution environment: a fresh Node.js process whose environment is the
// function's (set by the parent), importing the function's bundle from the cloud assembly once and invoking
// its handler for every event the parent sends. Plain JavaScript on purpose: nothing of the repository is loaded
// next to the bundle, as nothing is in Lambda.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const [bundleFile, exportName, internetJson] = process.argv.slice(2);

// The twin's "internet": origins the template names (the fleet API) answered by loopback servers of the test.
// Installed before the bundle loads, because clients capture `fetch` when they are built.
const internet = new Map(Object.entries(JSON.parse(internetJson ?? '{}')));
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const local = internet.get(url.origin);
  if (local === undefined) return realFetch(input, init);
  const target = new URL(`${url.pathname}${url.search}`, local);
  return typeof input === 'string' || input instanceof URL
    ? realFetch(target, init)
    : realFetch(new Request(target, input), init);
};

// The twin's clock (twin-clock.ts): real time plus what the twin skipped instead of waiting (Lambda's delays
// between retries), set by each invocation. Installed before the bundle loads, as the internet above.
let clockOffsetMs = 0;
const RealDate = Date;
const twinNow = () => RealDate.now() + clockOffsetMs;
// A proxy rather than a subclass: `Date()` called without new (a string of now) keeps working too.
const TwinDate = new Proxy(RealDate, {
  construct: (target, args, newTarget) =>
    Reflect.construct(target, args.length === 0 ? [twinNow()] : args, newTarget),
  apply: () => new RealDate(twinNow()).toString(),
  get: (target, property, receiver) =>
    property === 'now' ? twinNow : Reflect.get(target, property, receiver),
});
globalThis.Date = TwinDate;

const describe = (error) =>
  error instanceof Error
    ? { errorType: error.name, errorMessage: error.message, stack: String(error.stack ?? '').split('\n') }
    : { errorType: 'Error', errorMessage: String(error), stack: [] };

// An empty write's callback runs once everything queued before it is written. ('drain' would not do: it is emitted
// only after a write was refused for a full buffer, so a queue below the high-water mark never gets one, and on
// Node.js 24, whose pipe writes here are asynchronous, an invocation waiting for it never ended.)
const flushed = (stream) =>
  stream.writableLength === 0
    ? Promise.resolve()
    : new Promise((resolve) => stream.write('', () => resolve()));

let handler;
try {
  const bundle = await import(pathToFileURL(bundleFile).href);
  handler = bundle[exportName];
  if (typeof handler !== 'function') throw new TypeError(`${bundleFile} exports no function ${exportName}`);
  process.send({ kind: 'ready' });
} catch (error) {
  // Lambda's Runtime.ImportModuleError / init failure.
  process.send({ kind: 'init-error', error: describe(error) });
  process.exit(1);
}

// An environment outlives no twin: when the parent goes (killed, crashed), so does the function's process.
process.on('disconnect', () => process.exit(0));

process.on('message', async (message) => {
  clockOffsetMs = message.clockOffsetMs ?? 0;
  const deadline = Date.now() + message.timeoutMs;
  const env = process.env;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: message.functionArn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: randomUUID(),
    logGroupName: message.logGroupName,
    logStreamName: 'twin',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  let outcome;
  try {
    const result = await handler(message.event, context);
    outcome = { kind: 'result', id: message.id, result: result ?? null };
  } catch (error) {
    outcome = { kind: 'error', id: message.id, error: describe(error) };
  }
  // The invocation's logs are written out before it ends, as Lambda's runtime flushes them: a child's writes to
  // a pipe are queued in memory, and an environment stopped right after would lose what was still queued.
  await Promise.all([process.stdout, process.stderr].map(flushed));
  process.send(outcome);
});
