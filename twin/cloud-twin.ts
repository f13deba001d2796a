import {
  ChangeMessageVisibilityBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { TwinAthena } from './athena/athena-service.js';
import { GlueCatalog } from './athena/glue-catalog.js';
import { TwinGlue } from './athena/glue-service.js';
import { type DynamoDbEmulator, startDynamoDbEmulator } from './emulators/dynamodb-emulator.js';
import { QueueInspector } from './emulators/queue-inspector.js';
import { type S3SqsEmulator, startS3SqsEmulator } from './emulators/s3-sqs-emulator.js';
import { TwinEventRouter } from './events/event-router.js';
import { CallerRegistry } from './front/access-keys.js';
import { type AwsFront, listenOnLoopback, serveAwsFront } from './front/aws-front.js';
import { TwinEventLog } from './front/event-log.js';
import { TwinSecrets } from './front/secrets-service.js';
import { IamAuthorizer, type IamAuthorizerOptions } from './iam/iam-authorizer.js';
import { TwinClock } from './lambda/twin-clock.js';
import {
  loadStackModel,
  roleOf,
  type StackModel,
  type TwinFunction,
  type TwinRole,
} from './template/stack-model.js';
import { TWIN_ACCOUNT, TWIN_PARTITION, TWIN_REGION } from './twin-account.js';

export interface CloudTwinOptions extends IamAuthorizerOptions {
  /** A cloud assembly: `cdk.out`, or the directory `app.synth()` wrote. */
  assemblyDir: string;
  stackName?: string;
}

/**
 * The SDK's service-specific endpoint variables (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 * AWS_ENDPOINT_URL catches every other service, so a call to one the twin does not emulate yet reaches the front
 * and is refused there, instead of leaving the machine.
 */
const ENDPOINT_VARIABLES = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ENDPOINT_URL_EVENTBRIDGE',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_ATHENA',
  'AWS_ENDPOINT_URL_GLUE',
] as const;

/** An administrator of the account (not in the template): the person operating the stack. */
const OPERATOR_ROLE: TwinRole = {
  logicalId: 'TwinOperator',
  name: 'twin-operator',
  arn: `arn:${TWIN_PARTITION}:iam::${TWIN_ACCOUNT}:role/twin-operator`,
  policies: [
    {
      name: 'AdministratorAccess',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    },
  ],
  managedPolicyArns: [],
};

/** The synthesized stack deployed on loopback: emulators behind an IAM-enforcing front. */
export class CloudTwin {
  readonly model: StackModel;
  readonly authorizer: IamAuthorizer;
  readonly secrets: TwinSecrets;
  readonly events: TwinEventLog;
  /** The buses' rules, targets and archives: what PutEvents accepted, routed. */
  readonly bus: TwinEventRouter;
  /** Athena's queries and the Glue Data Catalog they fill. */
  readonly athena: TwinAthena;
  readonly glue: GlueCatalog;
  /**
   * The time the functions see: give it to their environments (`LambdaEnvironment`'s `clock`). The bus moves it on
   * by Lambda's delays between retries.
   */
  readonly clock = new TwinClock();
  /** What SQS knows of the template's queues (depth, bodies), and the passing of their visibility timeouts. */
  readonly queues: QueueInspector;
  readonly #callers: CallerRegistry;
  readonly #emulator: S3SqsEmulator;
  readonly #dynamodb: DynamoDbEmulator;
  readonly #front: AwsFront;

  private constructor(
    model: StackModel,
    authorizer: IamAuthorizer,
    emulator: S3SqsEmulator,
    front: AwsFront,
    parts: {
      callers: CallerRegistry;
      secrets: TwinSecrets;
      events: TwinEventLog;
      dynamodb: DynamoDbEmulator;
      athena: TwinAthena;
      glue: GlueCatalog;
    },
  ) {
    this.model = model;
    this.authorizer = authorizer;
    this.#emulator = emulator;
    this.#front = front;
    this.#callers = parts.callers;
    this.#dynamodb = parts.dynamodb;
    this.secrets = parts.secrets;
    this.events = parts.events;
    this.athena = parts.athena;
    this.glue = parts.glue;
    this.queues = new QueueInspector(
      emulator.url,
      new Map(
        [...model.queues.values()].flatMap((queue) => {
          const upstream = emulator.queues.get(queue.url);
          return upstream === undefined ? [] : [[queue.arn, upstream] as const];
        }),
      ),
    );
    this.bus = new TwinEventRouter({
      clock: this.clock,
      model,
      authorizer,
      sendAsEventBridge: (queueArn, body, attributes) => this.#sendToEmulator(queueArn, body, attributes),
      sendAsFunction: (fn, queueArn, body) => this.#sendWithRole(fn, queueArn, body),
    });
    this.events.onAccepted((entry) => this.bus.accept(entry));
  }

  static async start(options: CloudTwinOptions): Promise<CloudTwin> {
    const listener = await listenOnLoopback();
    try {
      // Queue URLs name the twin's SQS endpoint, as in AWS they name AWS's (see ServiceEndpoints).
      const model = loadStackModel(options.assemblyDir, {
        ...(options.stackName === undefined ? {} : { stackName: options.stackName }),
        endpoints: { sqs: listener.url },
      });
      const authorizer = new IamAuthorizer(model, options);
      const callers = new CallerRegistry();
      const secrets = new TwinSecrets(model.secrets.values());
      const events = new TwinEventLog(model.eventBuses.values());
      const emulator = await startS3SqsEmulator(model);
      const dynamodb = await startDynamoDbEmulator(model).catch(async (error: unknown) => {
        await emulator.stop();
        throw error;
      });
      const glue = new GlueCatalog(model.glueDatabases.values());
      const athena = new TwinAthena({ model, authorizer, callers, catalog: glue, endpoint: listener.url });
      const front = serveAwsFront(listener, {
        model,
        authorizer,
        callers,
        upstream: emulator.url,
        upstreamQueues: emulator.queues,
        secrets,
        events,
        dynamodb,
        athena,
        glue: new TwinGlue(glue, authorizer),
      });
      return new CloudTwin(model, authorizer, emulator, front, {
        callers,
        secrets,
        events,
        dynamodb,
        athena,
        glue,
      });
    } catch (error) {
      await listener.close();
      throw error;
    }
  }

  /** The front's address: what every endpoint variable of a function points at. */
  get endpoint(): string {
    return this.#front.url;
  }

  /** Requests the front refused, in order. */
  get refusals() {
    return this.#front.refusals;
  }

  /** The credentials identifying a function's role to the front, as Lambda would give them. */
  credentialsOf(fn: TwinFunction) {
    return this.#callers.credentialsFor({ role: roleOf(this.model, fn), sessionName: fn.name });
  }

  /**
   * A person of the account with AdministratorAccess (Action and Resource "*"), as who runs `etl dlq redrive` or
   * looks at the buckets: identity-allowed for everything, still subject to the resource policies (TLS-only
   * buckets and queues, key policies delegating to the account).
   */
  operatorCredentials() {
    return this.#callers.credentialsFor({ role: OPERATOR_ROLE, sessionName: 'operator' });
  }

  /**
   * The queue's visibility timeout passes: every message in flight on it becomes visible again (a consumer still
   * working on one holds a stale receipt handle), and the functions' clock moves on by the timeout, so the time
   * they see agrees with the queue's. Returns how many messages came back.
   */
  async passVisibilityTimeout(queueArn: string): Promise<number> {
    const queue = [...this.model.queues.values()].find((q) => q.arn === queueArn);
    if (queue === undefined) throw new Error(`${queueArn} is no queue of the template`);
    const returned = await this.queues.passVisibilityTimeout(queueArn);
    this.clock.advance(queue.visibilityTimeoutSeconds * 1000);
    return returned;
  }

  /**
   * A function's process environment as Lambda sets it: the template's variables, the runtime's reserved ones
   * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
   * its role's session credentials, and the endpoints of the twin.
   */
  environmentOf(fn: TwinFunction): Record<string, string> {
    const credentials = this.credentialsOf(fn);
    return {
      ...fn.environment,
      AWS_REGION: TWIN_REGION,
      AWS_DEFAULT_REGION: TWIN_REGION,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
      LAMBDA_TASK_ROOT: fn.assetDir,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
      ...Object.fromEntries(ENDPOINT_VARIABLES.map((name) => [name, this.#front.url])),
    };
  }

  #queueOf(queueArn: string) {
    const queue = [...this.model.queues.values()].find((q) => q.arn === queueArn);
    if (queue === undefined) throw new Error(`${queueArn} is no queue of the template`);
    return queue;
  }

  #upstreamOf(queueArn: string) {
    const upstream = this.#emulator.queues.get(this.#queueOf(queueArn).url);
    if (upstream === undefined) throw new Error(`${queueArn} was not provisioned in the emulator`);
    return upstream;
  }

  /** A client of the emulator itself, past the front: for AWS's own side of a queue, never a function's call. */
  #emulatorSqs(who: string): SQSClient {
    return new SQSClient({
      region: TWIN_REGION,
      endpoint: this.#emulator.url.origin,
      credentials: { accessKeyId: who, secretAccessKey: 'service' },
    });
  }

  /**
   * Up to `max` (at most 10) messages of a queue, read without taking them (visibility timeout 0), with their
   * message attributes: what an operator sees of a dead-letter queue in the console.
   */
  async peekMessages(
    queueArn: string,
    max = 10,
  ): Promise<{ body: string; attributes: Record<string, string> }[]> {
    const sqs = this.#emulatorSqs('operator');
    try {
      const answer = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.#upstreamOf(queueArn).url,
          MaxNumberOfMessages: Math.min(max, 10),
          VisibilityTimeout: 0,
          MessageAttributeNames: ['All'],
        }),
      );
      return (answer.Messages ?? []).map((message) => ({
        body: message.Body ?? '',
        attributes: Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            value.StringValue ?? '',
          ]),
        ),
      }));
    } finally {
      sqs.destroy();
    }
  }

  /**
   * The visibility timeout of received messages elapsing at once: a failed batch's messages are visible again, as
   * they would be minutes later in AWS (the twin steps time; it does not wait). Their receive count stays, so the
   * queue's redrive policy still moves them to its dead-letter queue after `maxReceiveCount` receives.
   */
  async elapseVisibilityTimeout(queueArn: string, receiptHandles: readonly string[]): Promise<void> {
    if (receiptHandles.length === 0) return;
    const sqs = this.#emulatorSqs('operator');
    try {
      for (let start = 0; start < receiptHandles.length; start += 10) {
        await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.#upstreamOf(queueArn).url,
            Entries: receiptHandles.slice(start, start + 10).map((handle, index) => ({
              Id: String(index),
              ReceiptHandle: handle,
              VisibilityTimeout: 0,
            })),
          }),
        );
      }
    } finally {
      sqs.destroy();
    }
  }

  /** A service principal's send, authorized by the caller against the queue's policy: straight to the emulator. */
  async #sendToEmulator(queueArn: string, body: string, attributes: Record<string, string>): Promise<void> {
    const upstream = this.#upstreamOf(queueArn);
    const sqs = this.#emulatorSqs('events.amazonaws.com');
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: upstream.url,
          MessageBody: body,
          MessageAttributes: Object.fromEntries(
            Object.entries(attributes).map(([name, value]) => [
              name,
              { DataType: 'String', StringValue: value },
            ]),
          ),
        }),
      );
    } finally {
      sqs.destroy();
    }
  }

  /** A send Lambda makes with a function's execution role (its on-failure destination): through the front. */
  async #sendWithRole(fn: TwinFunction, queueArn: string, body: string): Promise<void> {
    const sqs = new SQSClient({
      region: TWIN_REGION,
      endpoint: this.#front.url,
      credentials: this.credentialsOf(fn),
      maxAttempts: 1,
    });
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: this.#queueOf(queueArn).url, MessageBody: body }));
    } finally {
      sqs.destroy();
    }
  }

  async stop(): Promise<void> {
    await this.athena.idle();
    await this.#front.stop();
    await this.#emulator.stop();
    await this.#dynamodb.stop();
  }
}
