import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import type { TwinAthena } from '../athena/athena-service.js';
import type { TwinGlue } from '../athena/glue-service.js';
import type { DynamoDbEmulator } from '../emulators/dynamodb-emulator.js';
import type { Caller, ContextValues, IamAuthorizer } from '../iam/iam-authorizer.js';
import type { StackModel, TwinQueue } from '../template/stack-model.js';
import type { CallerRegistry } from './access-keys.js';
import { type FrontResponse, jsonError, jsonResponse, s3Error } from './aws-error-responses.js';
import {
  dynamoDbOperation,
  NonexistentTableError,
  UnmappedDynamoDbRequestError,
} from './dynamodb-operations.js';
import { transactWrite } from './dynamodb-transactions.js';
import type { TwinEventLog } from './event-log.js';
import { forward } from './forward.js';
import type { IamCheck } from './iam-check.js';
import { s3Operation, UnmappedS3RequestError } from './s3-operations.js';
import type { TwinSecrets } from './secrets-service.js';
import { signedScope } from './sigv4.js';
import { NonexistentQueueError, sqsOperation, UnmappedSqsRequestError } from './sqs-operations.js';

/** Where a template queue lives in the emulator (its URL and ARN there differ: another account id). */
export interface UpstreamQueue {
  url: string;
  arn: string;
}

export interface AwsFrontOptions {
  model: StackModel;
  authorizer: IamAuthorizer;
  callers: CallerRegistry;
  /** The S3/SQS emulator (fauxqs) the front passes allowed requests on to. */
  upstream: URL;
  upstreamQueues: ReadonlyMap<string, UpstreamQueue>;
  secrets: TwinSecrets;
  events: TwinEventLog;
  /** dynalite, which the front completes with TransactWriteItems. */
  dynamodb: DynamoDbEmulator;
  /** Athena and the Glue Data Catalog, answered by the twin itself (twin/athena). */
  athena: TwinAthena;
  glue: TwinGlue;
}

/** A request the front refused as AWS would: who, what, on what, and AWS's message. */
export interface Refusal {
  role: string;
  session: string;
  action: string;
  resource: string;
  message: string;
}

export interface AwsFront {
  /** `http://127.0.0.1:<port>`: every AWS_ENDPOINT_URL_<SERVICE> of a function points here. */
  url: string;
  refusals: readonly Refusal[];
  stop(): Promise<void>;
}

type Denied = { refused: Refusal };

/** PutEvents' most entries in one call. */
const MAX_PUT_EVENTS_ENTRIES = 10;

/** PutEvents' condition key for an entry's detail-type; `events:source` is the entry's source. */
const DETAIL_TYPE_KEY = 'events:detail-type';
/** EventBridge's message for an entry refused for its detail-type (API_PutEventsResultEntry, ErrorCode). */
export const NOT_AUTHORIZED_FOR_DETAIL_TYPE =
  'You do not have permissions to publish events with this detail type onto this event bus.';

/**
 * The request keys of one PutEvents entry. Both keys are typed ArrayOfString (a call has up to ten entries);
 * the twin authorizes entry by entry, so each holds that entry's one value
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html).
 */
function entryKeys(entry: Record<string, unknown>): ContextValues {
  const keys: ContextValues = {};
  if (typeof entry.Source === 'string') keys['events:source'] = [entry.Source];
  if (typeof entry.DetailType === 'string') keys[DETAIL_TYPE_KEY] = [entry.DetailType];
  return keys;
}

/**
 * The twin's AWS endpoint on loopback. It identifies the calling role from the SigV4 access key id, maps the
 * request to the IAM actions AWS authorizes for it, asks the authorizer, and either answers AWS's AccessDenied
 * or passes the request on to the emulator (S3, SQS) or answers it itself (Secrets Manager, EventBridge
 * PutEvents). A service or operation it does not know is refused as NotImplemented, never let through.
 */
export function serveAwsFront(listener: LoopbackListener, options: AwsFrontOptions): AwsFront {
  const refusals: Refusal[] = [];

  async function authorizeAll(caller: Caller, checks: readonly IamCheck[]): Promise<Denied | undefined> {
    for (const check of checks) {
      const decision = await options.authorizer.authorize({ caller, ...check });
      if (!decision.allowed) {
        const refused = {
          role: caller.role.logicalId,
          session: caller.sessionName,
          action: check.action,
          resource: check.resource,
          message: decision.message,
        };
        refusals.push(refused);
        return { refused };
      }
    }
    return undefined;
  }

  async function s3(
    caller: Caller,
    request: http.IncomingMessage,
    url: URL,
    body: Buffer,
  ): Promise<FrontResponse> {
    const head = request.method === 'HEAD';
    const bucketOf = (name: string) => [...options.model.buckets.values()].find((b) => b.name === name);
    let operation: ReturnType<typeof s3Operation>;
    try {
      operation = s3Operation(
        {
          method: request.method ?? 'GET',
          pathname: url.pathname,
          query: url.searchParams,
          headers: flat(request.headers),
          body,
        },
        bucketOf,
      );
    } catch (error) {
      if (error instanceof UnmappedS3RequestError) return s3Error(501, 'NotImplemented', error.message, head);
      throw error;
    }
    if (bucketOf(operation.bucket) === undefined)
      return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', head);
    const denied = await authorizeAll(caller, operation.checks);
    if (denied !== undefined) return s3Error(403, 'AccessDenied', denied.refused.message, head);
    const answer = await forward(options.upstream, {
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      headers: request.headers,
      body,
    });
    if (answer.status === 404 && operation.missingKeyNeedsListBucket) {
      const listing = await authorizeAll(caller, [
        { action: 's3:ListBucket', resource: `arn:aws:s3:::${operation.bucket}` },
      ]);
      if (listing !== undefined) return s3Error(403, 'AccessDenied', listing.refused.message, head);
    }
    return answer;
  }

  async function sqs(caller: Caller, request: http.IncomingMessage, body: Buffer): Promise<FrontResponse> {
    const target = String(request.headers['x-amz-target'] ?? '');
    const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    let operation: ReturnType<typeof sqsOperation>;
    try {
      operation = sqsOperation(target, input, options.model.queues.values());
    } catch (error) {
      if (error instanceof NonexistentQueueError)
        return jsonError(
          400,
          'com.amazonaws.sqs#QueueDoesNotExist',
          error.message,
          'AWS.SimpleQueueService.NonExistentQueue;Sender',
        );
      if (error instanceof UnmappedSqsRequestError)
        return jsonError(
          400,
          'com.amazonaws.sqs#UnsupportedOperation',
          error.message,
          'AWS.SimpleQueueService.UnsupportedOperation;Sender',
        );
      throw error;
    }
    const denied = await authorizeAll(caller, operation.checks);
    if (denied !== undefined)
      return jsonError(
        403,
        'com.amazon.coral.service#AccessDeniedException',
        denied.refused.message,
        'AccessDenied;Sender',
      );
    const upstream = upstreamOf(operation.queue);
    const rewritten = input.QueueUrl === undefined ? input : { ...input, QueueUrl: upstream.url };
    const answer = await forward(options.upstream, {
      method: 'POST',
      path: '/',
      headers: request.headers,
      body: Buffer.from(JSON.stringify(rewritten)),
    });
    return { ...answer, body: Buffer.from(toTwinNames(answer.body.toString('utf8'))) };
  }

  function upstreamOf(queue: TwinQueue): UpstreamQueue {
    const found = options.upstreamQueues.get(queue.url);
    if (found === undefined) throw new Error(`queue ${queue.name} was not provisioned in the emulator`);
    return found;
  }

  /** The emulator's URLs and ARNs (its own account id) back to the template's. */
  function toTwinNames(text: string): string {
    let result = text;
    for (const queue of options.model.queues.values()) {
      const upstream = options.upstreamQueues.get(queue.url);
      if (upstream === undefined) continue;
      result = result.replaceAll(upstream.url, queue.url).replaceAll(upstream.arn, queue.arn);
    }
    return result;
  }

  async function secretsManager(
    caller: Caller,
    request: http.IncomingMessage,
    body: Buffer,
  ): Promise<FrontResponse> {
    const operation = String(request.headers['x-amz-target'] ?? '').replace(/^secretsmanager\./, '');
    if (operation !== 'GetSecretValue' && operation !== 'DescribeSecret')
      return jsonError(400, 'NotImplemented', `the twin does not emulate Secrets Manager ${operation}`);
    const input = JSON.parse(body.toString('utf8') || '{}') as { SecretId?: unknown };
    const secret = options.secrets.find(String(input.SecretId ?? ''));
    if (secret === undefined)
      return jsonError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    const denied = await authorizeAll(caller, options.secrets.checks(operation, secret));
    if (denied !== undefined) return jsonError(400, 'AccessDeniedException', denied.refused.message);
    const answer = options.secrets.answer(operation, secret);
    return answer === undefined
      ? jsonError(
          400,
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        )
      : jsonResponse(answer);
  }

  async function eventBridge(
    caller: Caller,
    request: http.IncomingMessage,
    body: Buffer,
  ): Promise<FrontResponse> {
    const operation = String(request.headers['x-amz-target'] ?? '').replace(/^AWSEvents\./, '');
    if (operation !== 'PutEvents')
      return jsonError(400, 'NotImplemented', `the twin does not emulate EventBridge ${operation}`);
    const input = JSON.parse(body.toString('utf8') || '{}') as { Entries?: Record<string, unknown>[] };
    const entries = input.Entries ?? [];
    // PutEvents takes one to ten entries and refuses the whole call otherwise, before authorizing any
    // (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html): a publisher that forgot to
    // split a long call, or sent an empty one, must fail here as it would in AWS.
    if (entries.length < 1 || entries.length > MAX_PUT_EVENTS_ENTRIES)
      return jsonError(
        400,
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ` +
          `${entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_PUT_EVENTS_ENTRIES}`}`,
      );
    const buses = entries.map((entry) =>
      options.events.busArnOf(typeof entry.EventBusName === 'string' ? entry.EventBusName : undefined),
    );
    // Each entry is authorized with its own source and detail-type (PutEvents' condition keys). An entry refused
    // only for its detail-type fails alone, as EventBridge answers it; a call the role may not make whatever its
    // entries say is refused whole.
    const refusedForType = new Map<number, string>();
    for (const [index, entry] of entries.entries()) {
      const check = { action: 'events:PutEvents', resource: buses[index] ?? '', context: entryKeys(entry) };
      const decision = await options.authorizer.authorize({ caller, ...check });
      if (decision.allowed) continue;
      const byType = await options.authorizer.allowsIgnoringConditionsOn({ caller, ...check }, [
        DETAIL_TYPE_KEY,
      ]);
      const message = byType
        ? `${NOT_AUTHORIZED_FOR_DETAIL_TYPE} (detail-type ${String(entry.DetailType)})`
        : decision.message;
      refusals.push({
        role: caller.role.logicalId,
        session: caller.sessionName,
        action: check.action,
        resource: check.resource,
        message,
      });
      if (!byType) return jsonError(400, 'AccessDeniedException', message);
      refusedForType.set(index, message);
    }
    const results = entries.map((entry, index) => {
      const bus = buses[index] ?? '';
      const refused = refusedForType.get(index);
      if (refused !== undefined)
        return { ErrorCode: 'NotAuthorizedForDetailTypeException', ErrorMessage: refused };
      if (!options.events.isKnown(bus))
        return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` };
      return { EventId: options.events.record(bus, entry) };
    });
    return jsonResponse({
      FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length,
      Entries: results,
    });
  }

  /**
   * One DynamoDB request at a time: a transaction's checks and writes must not interleave with other writes, as
   * DynamoDB's own isolation guarantees (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-isolation).
   */
  let dynamoDbTurn: Promise<unknown> = Promise.resolve();

  function dynamodb(caller: Caller, request: http.IncomingMessage, body: Buffer): Promise<FrontResponse> {
    const turn = dynamoDbTurn.then(() => dynamodbNow(caller, request, body));
    dynamoDbTurn = turn.catch(() => undefined);
    return turn;
  }

  async function dynamodbNow(
    caller: Caller,
    request: http.IncomingMessage,
    body: Buffer,
  ): Promise<FrontResponse> {
    const target = String(request.headers['x-amz-target'] ?? '');
    const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    const error = (type: string, message: string) =>
      jsonError(400, `com.amazonaws.dynamodb.v20120810#${type}`, message);
    let operation: ReturnType<typeof dynamoDbOperation>;
    try {
      operation = dynamoDbOperation(target, input, options.model.tables.values());
    } catch (failure) {
      if (failure instanceof NonexistentTableError)
        return error('ResourceNotFoundException', failure.message);
      if (failure instanceof UnmappedDynamoDbRequestError)
        return error('UnknownOperationException', failure.message);
      if (failure instanceof z.ZodError) return error('ValidationException', z.prettifyError(failure));
      throw failure;
    }
    const denied = await authorizeAll(caller, operation.checks);
    if (denied !== undefined)
      return jsonError(400, 'com.amazon.coral.service#AccessDeniedException', denied.refused.message);
    if (operation.operation === 'TransactWriteItems')
      return transactWrite(input, options.model.tables.values(), options.dynamodb);
    const answer = await forward(options.dynamodb.url, {
      method: 'POST',
      path: '/',
      headers: request.headers,
      body,
    });
    return withOldItemOnConditionFailure(answer, input, options.dynamodb);
  }

  async function handle(request: http.IncomingMessage): Promise<FrontResponse> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://front');
    const scope = signedScope(request.headers.authorization, url.searchParams);
    const head = request.method === 'HEAD';
    if (scope === undefined)
      return s3Error(403, 'AccessDenied', 'Anonymous requests are not allowed by this twin', head);
    const caller = options.callers.callerOf(scope.accessKeyId);
    if (caller === undefined) {
      return scope.service === 's3'
        ? s3Error(
            403,
            'InvalidAccessKeyId',
            'The AWS Access Key Id you provided does not exist in our records.',
            head,
          )
        : jsonError(
            400,
            'UnrecognizedClientException',
            'The security token included in the request is invalid.',
          );
    }
    switch (scope.service) {
      case 's3':
        return s3(caller, request, url, body);
      case 'sqs':
        return sqs(caller, request, body);
      case 'secretsmanager':
        return secretsManager(caller, request, body);
      case 'events':
        return eventBridge(caller, request, body);
      case 'dynamodb':
        return dynamodb(caller, request, body);
      case 'athena':
        return options.athena.handle(
          caller,
          String(request.headers['x-amz-target'] ?? '').replace(/^AmazonAthena\./, ''),
          JSON.parse(body.toString('utf8') || '{}'),
        );
      case 'glue':
        return options.glue.handle(
          caller,
          String(request.headers['x-amz-target'] ?? '').replace(/^AWSGlue\./, ''),
          JSON.parse(body.toString('utf8') || '{}'),
        );
      default:
        return jsonError(
          400,
          'NotImplemented',
          `the cloud twin does not emulate ${scope.service} yet (twin/README.md)`,
        );
    }
  }

  listener.server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    handle(request)
      .catch((error: unknown) => jsonError(500, 'InternalFailure', `cloud twin: ${String(error)}`))
      .then((answer) => {
        const head = request.method === 'HEAD';
        response.writeHead(
          answer.status,
          head ? answer.headers : { ...answer.headers, 'content-length': String(answer.body.length) },
        );
        response.end(head ? undefined : answer.body);
      });
  });
  return { url: listener.url, refusals, stop: () => listener.close() };
}

/** A server already listening on loopback: its address is known before anything is served on it. */
export interface LoopbackListener {
  server: http.Server;
  url: string;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 first, so the twin knows its endpoint (which queue URLs name) before it reads the
 * template; requests are answered once serveAwsFront attaches.
 */
export async function listenOnLoopback(): Promise<LoopbackListener> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

function flat(headers: http.IncomingHttpHeaders): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]),
  );
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/**
 * dynalite predates ReturnValuesOnConditionCheckFailure: DynamoDB returns the item that failed the condition with
 * ConditionalCheckFailedException when a write asks for ALL_OLD
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html#DDB-PutItem-request-ReturnValuesOnConditionCheckFailure).
 * The front reads it back; requests are serialized, so it is the item the condition saw.
 */
async function withOldItemOnConditionFailure(
  answer: FrontResponse,
  input: Record<string, unknown>,
  dynamodb: DynamoDbEmulator,
): Promise<FrontResponse> {
  if (answer.status !== 400 || input.ReturnValuesOnConditionCheckFailure !== 'ALL_OLD') return answer;
  const error = JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;
  if (!String(error.__type).endsWith('#ConditionalCheckFailedException')) return answer;
  const key =
    input.Key ??
    (await dynamodb.call('DescribeTable', { TableName: input.TableName }).then((described) => {
      const schema = z
        .object({ Table: z.object({ KeySchema: z.array(z.object({ AttributeName: z.string() })) }) })
        .parse(described.body);
      const item = z.record(z.string(), z.unknown()).parse(input.Item);
      return Object.fromEntries(schema.Table.KeySchema.map((k) => [k.AttributeName, item[k.AttributeName]]));
    }));
  const current = await dynamodb.call('GetItem', {
    TableName: input.TableName,
    Key: key,
    ConsistentRead: true,
  });
  if (current.body.Item === undefined) return answer;
  return { ...answer, body: Buffer.from(JSON.stringify({ ...error, Item: current.body.Item })) };
}
