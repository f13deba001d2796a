import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import {
  classifyStatement,
  type StatementKind,
} from '../../services/adapters/local/duckdb/statement-kinds.js';
import { splitStatements } from '../../services/shared/sql-text.js';
import type { CallerRegistry } from '../front/access-keys.js';
import { type FrontResponse, jsonError, jsonResponse } from '../front/aws-error-responses.js';
import type { Caller, IamAuthorizer } from '../iam/iam-authorizer.js';
import type { StackModel, TwinWorkGroup } from '../template/stack-model.js';
import { TWIN_ACCOUNT, TWIN_PARTITION, TWIN_REGION } from '../twin-account.js';
import { AthenaQueryFailure, ErrorType } from './athena-failure.js';
import { AthenaS3, S3AccessDenied } from './athena-s3.js';
import type { AthenaResultSet } from './athena-values.js';
import { type GlueCatalog, glueResources } from './glue-catalog.js';
import { grammarError } from './sql-grammars.js';
import { runStatement, type StatementOutcome } from './statement-runner.js';
import { ctasPropertyNames, grammarOf, STATEMENT_TYPES } from './statement-text.js';

const ATHENA = 'athena.amazonaws.com';

type State = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

interface Execution {
  id: string;
  token: string | undefined;
  sql: string;
  caller: Caller;
  workGroup: TwinWorkGroup;
  database: string;
  catalog: string;
  outputLocation: string;
  kind: StatementKind | undefined;
  state: State;
  failure: AthenaQueryFailure | undefined;
  submitted: Date;
  started: Date | undefined;
  completed: Date | undefined;
  outcome: StatementOutcome | undefined;
  stopRequested: boolean;
}

/** The parts of a refusal the API answers with before any execution exists. */
const invalid = (message: string) => jsonError(400, 'InvalidRequestException', message);

const StartSchema = z.object({
  QueryString: z.string().min(1).max(262_144),
  ClientRequestToken: z.string().min(32).max(128).optional(),
  WorkGroup: z.string().default('primary'),
  QueryExecutionContext: z
    .object({ Database: z.string().optional(), Catalog: z.string().optional() })
    .optional(),
  ResultConfiguration: z.object({ OutputLocation: z.string().optional() }).optional(),
});
const ExecutionIdSchema = z.object({ QueryExecutionId: z.string().min(1) });
const ResultsSchema = ExecutionIdSchema.extend({
  MaxResults: z.number().int().min(1).max(1000).default(1000),
  NextToken: z.string().optional(),
});
const TableMetadataSchema = z.object({
  CatalogName: z.string(),
  DatabaseName: z.string(),
  TableName: z.string(),
});
const WorkGroupSchema = z.object({ WorkGroup: z.string() });

export interface TwinAthenaOptions {
  model: StackModel;
  authorizer: IamAuthorizer;
  callers: CallerRegistry;
  catalog: GlueCatalog;
  /** The front, where Athena's S3 requests with the caller's credentials go. */
  endpoint: string;
}

/**
 * Athena's API on the twin (JSON 1.1, `AmazonAthena.<Operation>`): queries run one at a time, QUEUED, RUNNING, then
 * SUCCEEDED, FAILED or CANCELLED, each with the caller's permissions (statement-runner.ts).
 */
export class TwinAthena {
  readonly #options: TwinAthenaOptions;
  readonly #executions = new Map<string, Execution>();
  #turn: Promise<unknown> = Promise.resolve();

  constructor(options: TwinAthenaOptions) {
    this.#options = options;
  }

  /** The queries started so far, in order (a test's view: SQL, state, reason). */
  get executions(): readonly { id: string; sql: string; state: State; reason: string | undefined }[] {
    return [...this.#executions.values()].map((e) => ({
      id: e.id,
      sql: e.sql,
      state: e.state,
      reason: e.failure?.message,
    }));
  }

  /** Resolves once every query started so far has finished. */
  async idle(): Promise<void> {
    await this.#turn;
  }

  async handle(caller: Caller, operation: string, input: unknown): Promise<FrontResponse> {
    try {
      switch (operation) {
        case 'StartQueryExecution':
          return await this.#start(caller, StartSchema.parse(input));
        case 'GetQueryExecution':
          return await this.#getExecution(caller, ExecutionIdSchema.parse(input).QueryExecutionId);
        case 'GetQueryResults':
          return await this.#getResults(caller, ResultsSchema.parse(input));
        case 'StopQueryExecution':
          return await this.#stop(caller, ExecutionIdSchema.parse(input).QueryExecutionId);
        case 'GetTableMetadata':
          return await this.#tableMetadata(caller, TableMetadataSchema.parse(input));
        case 'GetWorkGroup':
          return await this.#getWorkGroup(caller, WorkGroupSchema.parse(input).WorkGroup);
        default:
          return jsonError(400, 'NotImplemented', `the twin does not emulate Athena ${operation}`);
      }
    } catch (error) {
      if (error instanceof z.ZodError) return invalid(z.prettifyError(error));
      if (error instanceof ApiDenied) return jsonError(400, 'AccessDeniedException', error.message);
      throw error;
    }
  }

  async #authorize(caller: Caller, action: string, resource: string): Promise<void> {
    const decision = await this.#options.authorizer.authorize({ caller, action, resource });
    if (!decision.allowed) throw new ApiDenied(decision.message);
  }

  #workGroup(name: string): TwinWorkGroup | undefined {
    return [...this.#options.model.workGroups.values()].find((w) => w.name === name);
  }

  async #start(caller: Caller, input: z.infer<typeof StartSchema>): Promise<FrontResponse> {
    const workGroup = this.#workGroup(input.WorkGroup);
    const workGroupArn = `arn:${TWIN_PARTITION}:athena:${TWIN_REGION}:${TWIN_ACCOUNT}:workgroup/${input.WorkGroup}`;
    await this.#authorize(caller, 'athena:StartQueryExecution', workGroupArn);
    if (workGroup === undefined) return invalid(`WorkGroup ${input.WorkGroup} is not found.`);
    if (!workGroup.enabled) return invalid(`WorkGroup ${input.WorkGroup} is disabled.`);
    // A repeated token answers with the execution it started, never a second one
    // (https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html).
    const known = [...this.#executions.values()].find(
      (e) => input.ClientRequestToken !== undefined && e.token === input.ClientRequestToken,
    );
    if (known !== undefined) {
      if (known.sql !== input.QueryString) return invalid('Idempotent parameters do not match');
      return jsonResponse({ QueryExecutionId: known.id });
    }
    const clientOutput = input.ResultConfiguration?.OutputLocation;
    const output = workGroup.enforced ? workGroup.outputLocation : (clientOutput ?? workGroup.outputLocation);
    if (output === undefined)
      return invalid(
        'No output location provided. An output location is required either through the Workgroup result ' +
          'configuration setting or as an API input.',
      );
    const catalog = input.QueryExecutionContext?.Catalog ?? 'AwsDataCatalog';
    if (catalog.toLowerCase() !== 'awsdatacatalog')
      return invalid(`the twin emulates the AwsDataCatalog catalog only, not ${catalog}`);
    const refusal = this.#refusedAtStart(input.QueryString, workGroup);
    if (refusal !== undefined) return invalid(refusal);
    const execution: Execution = {
      id: randomUUID(),
      token: input.ClientRequestToken,
      sql: input.QueryString,
      caller,
      workGroup,
      database: (input.QueryExecutionContext?.Database ?? 'default').toLowerCase(),
      catalog,
      outputLocation: output.endsWith('/') ? output : `${output}/`,
      kind: undefined,
      state: 'QUEUED',
      failure: undefined,
      submitted: new Date(),
      started: undefined,
      completed: undefined,
      outcome: undefined,
      stopRequested: false,
    };
    this.#executions.set(execution.id, execution);
    const next = this.#turn.then(() => this.#run(execution));
    this.#turn = next.catch(() => undefined);
    return jsonResponse({ QueryExecutionId: execution.id });
  }

  /**
   * A CTAS naming external_location in a workgroup that enforces its result location is refused by
   * StartQueryExecution itself (https://docs.aws.amazon.com/athena/latest/ug/workgroups-troubleshooting.html; the
   * message is the one Athena answers, as users report it).
   */
  #refusedAtStart(sql: string, workGroup: TwinWorkGroup): string | undefined {
    if (!workGroup.enforced) return undefined;
    const [statement] = splitStatements(sql);
    if (statement === undefined || !ctasPropertyNames(statement).includes('external_location'))
      return undefined;
    return (
      "The Create Table As Select query failed because it was submitted with an 'external_location' property to " +
      'an Athena Workgroup that enforces a centralized output location for all queries. Please remove the ' +
      "'external_location' property and resubmit the query."
    );
  }

  async #run(execution: Execution): Promise<void> {
    if (execution.state === 'CANCELLED') return;
    execution.state = 'RUNNING';
    execution.started = new Date();
    const s3 = new AthenaS3(
      this.#options.endpoint,
      this.#options.callers.credentialsFor({ ...execution.caller, calledVia: ATHENA }),
    );
    try {
      const statement = await this.#parse(execution);
      execution.kind = classifyStatement(statement);
      execution.outcome = await runStatement(statement, execution.kind, {
        queryExecutionId: execution.id,
        database: execution.database,
        outputLocation: execution.outputLocation,
        kmsKey:
          execution.workGroup.encryption?.option === 'SSE_KMS'
            ? execution.workGroup.encryption.kmsKey
            : undefined,
        bytesScannedCutoff: execution.workGroup.bytesScannedCutoff,
        catalog: this.#options.catalog,
        glue: (action, database, table) => this.#glueOnBehalf(execution.caller, action, database, table),
        s3,
        cancelled: () => execution.stopRequested,
      });
      execution.state = execution.stopRequested ? 'CANCELLED' : 'SUCCEEDED';
    } catch (error) {
      execution.failure =
        error instanceof AthenaQueryFailure
          ? error
          : new AthenaQueryFailure(`the cloud twin failed the query: ${String(error)}`, 100, 1);
      execution.state = execution.failure.state;
    } finally {
      s3.close();
      execution.completed = new Date();
    }
  }

  /** One statement, which the grammar Athena parses it with accepts; else FAILED as Athena's parser fails it. */
  async #parse(execution: Execution): Promise<string> {
    const statements = splitStatements(execution.sql);
    const [statement] = statements;
    if (statement === undefined || statements.length !== 1)
      throw new AthenaQueryFailure(
        `Only one sql statement is allowed. Got: ${execution.sql.trim().slice(0, 200)}`,
        ErrorType.syntaxError,
      );
    const error = await grammarError(statement, grammarOf(statement));
    if (error !== undefined)
      throw new AthenaQueryFailure(
        `line ${error.line}:${error.column}: ${error.message}`,
        ErrorType.syntaxError,
      );
    return statement;
  }

  /** A Glue call Athena makes for the query, with the caller's credentials, on the object and its ancestors. */
  async #glueOnBehalf(caller: Caller, action: string, database: string, table?: string): Promise<void> {
    for (const resource of glueResources(database, table)) {
      const decision = await this.#options.authorizer.authorize({
        caller: { ...caller, calledVia: ATHENA },
        action,
        resource,
      });
      if (!decision.allowed)
        throw new AthenaQueryFailure(
          `Insufficient permissions to execute the query. ${decision.message}`,
          ErrorType.permissionError,
        );
    }
  }

  #find(id: string): Execution | undefined {
    return this.#executions.get(id);
  }

  async #getExecution(caller: Caller, id: string): Promise<FrontResponse> {
    const execution = this.#find(id);
    if (execution === undefined) return invalid(`QueryExecution ${id} was not found`);
    await this.#authorize(caller, 'athena:GetQueryExecution', execution.workGroup.arn);
    const types = execution.kind === undefined ? undefined : STATEMENT_TYPES[execution.kind];
    const end = execution.completed ?? new Date();
    const engineMs = execution.started === undefined ? 0 : end.getTime() - execution.started.getTime();
    const queueMs = (execution.started ?? end).getTime() - execution.submitted.getTime();
    const failure = execution.failure;
    return jsonResponse({
      QueryExecution: {
        QueryExecutionId: execution.id,
        Query: execution.sql,
        ...(types === undefined
          ? {}
          : { StatementType: types.statementType, SubstatementType: types.substatementType }),
        ResultConfiguration: {
          OutputLocation:
            execution.outcome?.resultLocation ?? `${execution.outputLocation}${execution.id}.csv`,
          ...(execution.workGroup.encryption === undefined
            ? {}
            : {
                EncryptionConfiguration: {
                  EncryptionOption: execution.workGroup.encryption.option,
                  ...(execution.workGroup.encryption.kmsKey === undefined
                    ? {}
                    : { KmsKey: execution.workGroup.encryption.kmsKey }),
                },
              }),
        },
        QueryExecutionContext: { Database: execution.database, Catalog: execution.catalog },
        Status: {
          State: execution.state,
          SubmissionDateTime: execution.submitted.getTime() / 1000,
          ...(execution.completed === undefined
            ? {}
            : { CompletionDateTime: execution.completed.getTime() / 1000 }),
          ...(failure === undefined
            ? {}
            : {
                StateChangeReason: failure.message,
                AthenaError: {
                  ErrorCategory: failure.errorCategory,
                  ErrorType: failure.errorType,
                  Retryable: false,
                  ErrorMessage: failure.message,
                },
              }),
        },
        Statistics: {
          EngineExecutionTimeInMillis: engineMs,
          DataScannedInBytes: execution.outcome?.scannedBytes ?? 0,
          TotalExecutionTimeInMillis: end.getTime() - execution.submitted.getTime(),
          QueryQueueTimeInMillis: queueMs,
          ...(execution.outcome?.manifest === undefined
            ? {}
            : { DataManifestLocation: execution.outcome.manifest }),
        },
        WorkGroup: execution.workGroup.name,
        EngineVersion: {
          SelectedEngineVersion: 'Athena engine version 3',
          EffectiveEngineVersion: 'Athena engine version 3',
        },
      },
    });
  }

  async #getResults(caller: Caller, input: z.infer<typeof ResultsSchema>): Promise<FrontResponse> {
    const execution = this.#find(input.QueryExecutionId);
    if (execution === undefined) return invalid(`QueryExecution ${input.QueryExecutionId} was not found`);
    await this.#authorize(caller, 'athena:GetQueryResults', execution.workGroup.arn);
    if (execution.state === 'QUEUED' || execution.state === 'RUNNING')
      return invalid(`Query has not yet finished. Current state: ${execution.state}`);
    if (execution.state !== 'SUCCEEDED')
      return invalid(`Query did not finish successfully. Final query state: ${execution.state}`);
    // Athena reads the result file from the output location with the caller's credentials.
    const location = execution.outcome?.resultLocation;
    if (location !== undefined) {
      const s3 = new AthenaS3(
        this.#options.endpoint,
        this.#options.callers.credentialsFor({ ...caller, calledVia: ATHENA }),
      );
      try {
        const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
        if (match?.[1] !== undefined && match[2] !== undefined) await s3.get(match[1], match[2]);
      } catch (error) {
        if (error instanceof S3AccessDenied) return jsonError(400, 'AccessDeniedException', error.message);
        throw error;
      } finally {
        s3.close();
      }
    }
    const result: AthenaResultSet = execution.outcome?.result ?? { columns: [], rows: [] };
    // The first row of a query's first page repeats the column names (https://docs.aws.amazon.com/athena/latest/ug/querying.html).
    const header = result.columns.length === 0 ? [] : [result.columns.map((c) => c.Name)];
    const all = [...header, ...result.rows];
    const offset = input.NextToken === undefined ? 0 : decodeToken(input.NextToken, execution.id);
    if (offset === undefined) return invalid('The NextToken is invalid');
    const page = all.slice(offset, offset + input.MaxResults);
    const next =
      offset + input.MaxResults < all.length
        ? encodeToken(execution.id, offset + input.MaxResults)
        : undefined;
    return jsonResponse({
      UpdateCount: 0,
      ResultSet: {
        Rows: page.map((row) => ({
          Data: row.map((value) => (value === undefined ? {} : { VarCharValue: value })),
        })),
        ResultSetMetadata: { ColumnInfo: result.columns },
      },
      ...(next === undefined ? {} : { NextToken: next }),
    });
  }

  async #stop(caller: Caller, id: string): Promise<FrontResponse> {
    const execution = this.#find(id);
    if (execution === undefined) return invalid(`QueryExecution ${id} was not found`);
    await this.#authorize(caller, 'athena:StopQueryExecution', execution.workGroup.arn);
    if (execution.state === 'QUEUED') {
      execution.state = 'CANCELLED';
      execution.completed = new Date();
    } else if (execution.state === 'RUNNING') execution.stopRequested = true;
    return jsonResponse({});
  }

  /**
   * GetTableMetadata is authorized on the data catalog, then reads the table from Glue with the caller's
   * permissions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonathena.html).
   */
  async #tableMetadata(caller: Caller, input: z.infer<typeof TableMetadataSchema>): Promise<FrontResponse> {
    const catalogArn = `arn:${TWIN_PARTITION}:athena:${TWIN_REGION}:${TWIN_ACCOUNT}:datacatalog/${input.CatalogName}`;
    await this.#authorize(caller, 'athena:GetTableMetadata', catalogArn);
    const database = input.DatabaseName.toLowerCase();
    const name = input.TableName.toLowerCase();
    try {
      await this.#glueOnBehalf(caller, 'glue:GetTable', database, name);
    } catch (error) {
      if (error instanceof AthenaQueryFailure) return jsonError(400, 'AccessDeniedException', error.message);
      throw error;
    }
    const table = this.#options.catalog.table(database, name);
    if (table === undefined)
      return jsonError(400, 'MetadataException', `EntityNotFoundException: Table ${name} not found.`);
    return jsonResponse({
      TableMetadata: {
        Name: table.name,
        CreateTime: table.createTime.getTime() / 1000,
        TableType: 'EXTERNAL_TABLE',
        Columns: table.columns,
        PartitionKeys: table.partitionKeys,
        Parameters: { EXTERNAL: 'TRUE', location: `${table.location}/`, ...table.parameters },
      },
    });
  }

  async #getWorkGroup(caller: Caller, name: string): Promise<FrontResponse> {
    const workGroup = this.#workGroup(name);
    await this.#authorize(
      caller,
      'athena:GetWorkGroup',
      `arn:${TWIN_PARTITION}:athena:${TWIN_REGION}:${TWIN_ACCOUNT}:workgroup/${name}`,
    );
    if (workGroup === undefined) return invalid(`WorkGroup ${name} is not found.`);
    return jsonResponse({
      WorkGroup: {
        Name: workGroup.name,
        State: workGroup.enabled ? 'ENABLED' : 'DISABLED',
        Configuration: {
          EnforceWorkGroupConfiguration: workGroup.enforced,
          ...(workGroup.bytesScannedCutoff === undefined
            ? {}
            : { BytesScannedCutoffPerQuery: workGroup.bytesScannedCutoff }),
          ResultConfiguration: {
            ...(workGroup.outputLocation === undefined ? {} : { OutputLocation: workGroup.outputLocation }),
            ...(workGroup.encryption === undefined
              ? {}
              : {
                  EncryptionConfiguration: {
                    EncryptionOption: workGroup.encryption.option,
                    KmsKey: workGroup.encryption.kmsKey,
                  },
                }),
          },
        },
      },
    });
  }
}

class ApiDenied extends Error {
  override readonly name = 'ApiDenied';
}

function encodeToken(id: string, offset: number): string {
  return Buffer.from(JSON.stringify([id, offset])).toString('base64');
}

function decodeToken(token: string, id: string): number | undefined {
  try {
    const parsed = z
      .tuple([z.string(), z.number().int().min(0)])
      .parse(JSON.parse(Buffer.from(token, 'base64').toString('utf8')));
    return parsed[0] === id ? parsed[1] : undefined;
  } catch {
    return undefined;
  }
}
