import { Readable } from 'node:stream';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetTableMetadataCommand,
  InvalidRequestException,
  type QueryExecutionState,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { DeleteObjectsCommand, GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AthenaQueryEngine,
  type AthenaQueryEngineOptions,
} from '../../../../../../services/adapters/aws/athena/query-engine.js';
import { MemoryObjectStore } from '../../../../../helpers/fakes.js';
import { clientConfig, noSleep } from '../factories.js';

/** How a query behaves in the fake: the states it goes through, what it writes and what it answers. */
export interface Behaviour {
  /** States reported by successive GetQueryExecution calls; the last one repeats. */
  states?: QueryExecutionState[];
  reason?: string;
  statementType?: 'DDL' | 'DML' | 'UTILITY';
  /** s3:// URLs of the files the query writes; a write gets a data manifest listing them. */
  writes?: string[];
  /** Whether a data manifest exists in S3 for this write (Athena may fail without one). */
  manifestStored?: boolean;
  /** Result rows as text (undefined is NULL), with typed columns. */
  results?: { columns: { Name: string; Type: string }[]; rows: (string | undefined)[][] };
  scannedBytes?: number;
}

interface FakeExecution {
  id: string;
  sql: string;
  token: string;
  behaviour: Behaviour;
  polls: number;
}

const RESULTS = 's3://fleet-athena-results';

const body = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  return Object.assign(Readable.from([bytes]), {
    transformToByteArray: async () => bytes,
    transformToString: async () => text,
    transformToWebStream: (): never => {
      throw new Error('not used');
    },
  });
};

/**
 * Athena and S3 as the engine sees them, over aws-sdk-client-mock: StartQueryExecution is idempotent per
 * ClientRequestToken (and refuses a known token with another query string, as Athena does), executions go
 * through scripted states, writes leave data manifests in the result location, and DeleteObjects is recorded.
 */
export class FakeAthena {
  readonly athenaClient = new AthenaClient(clientConfig);
  readonly s3Client = new S3Client(clientConfig);
  readonly athena = mockClient(this.athenaClient);
  readonly s3 = mockClient(this.s3Client);
  readonly statementLog = new MemoryObjectStore();
  readonly executions: FakeExecution[] = [];
  readonly deleted: string[] = [];
  /** Starts and deletes in the order they happened. */
  readonly timeline: string[] = [];
  tableMetadata: {
    Columns: { Name: string; Type: string }[];
    PartitionKeys: { Name: string; Type: string }[];
  } = {
    Columns: [],
    PartitionKeys: [],
  };

  constructor(private readonly behave: (sql: string, index: number) => Behaviour = () => ({})) {
    this.athena.on(StartQueryExecutionCommand).callsFake((input) => {
      const token = String(input.ClientRequestToken);
      const sql = String(input.QueryString);
      const known = this.executions.find((e) => e.token === token);
      if (known) {
        if (known.sql !== sql) {
          throw new InvalidRequestException({
            message: 'Idempotent parameters do not match',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return { QueryExecutionId: known.id };
      }
      const id = `q-${this.executions.length + 1}`;
      this.timeline.push(`start ${id}`);
      this.executions.push({ id, sql, token, behaviour: this.behave(sql, this.executions.length), polls: 0 });
      return { QueryExecutionId: id };
    });
    this.athena.on(GetQueryExecutionCommand).callsFake((input) => {
      const execution = this.#execution(String(input.QueryExecutionId));
      const states = execution.behaviour.states ?? ['SUCCEEDED'];
      const state = states[Math.min(execution.polls, states.length - 1)] ?? 'SUCCEEDED';
      execution.polls += 1;
      const finished = state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED';
      const { writes, reason } = execution.behaviour;
      return {
        QueryExecution: {
          QueryExecutionId: execution.id,
          Query: execution.sql,
          StatementType:
            execution.behaviour.statementType ??
            (/^\s*(SELECT|WITH|INSERT)/i.test(execution.sql) ? 'DML' : 'DDL'),
          Status: {
            State: state,
            ...(reason && finished && state !== 'SUCCEEDED' ? { StateChangeReason: reason } : {}),
          },
          ...(finished
            ? {
                Statistics: {
                  DataScannedInBytes: execution.behaviour.scannedBytes ?? 1000,
                  TotalExecutionTimeInMillis: 50,
                  ...(writes ? { DataManifestLocation: `${RESULTS}/${execution.id}-manifest.csv` } : {}),
                },
              }
            : {}),
        },
      };
    });
    this.athena.on(GetQueryResultsCommand).callsFake((input) => {
      const { results } = this.#execution(String(input.QueryExecutionId)).behaviour;
      const columns = results?.columns ?? [];
      const row = (values: (string | undefined)[]) => ({
        Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })),
      });
      return {
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: columns.map((c) => ({ ...c, Label: c.Name })) },
          Rows: [row(columns.map((c) => c.Name)), ...(results?.rows ?? []).map(row)],
        },
      };
    });
    this.athena.on(GetTableMetadataCommand).callsFake(() => ({
      TableMetadata: { Name: 'table', ...this.tableMetadata },
    }));
    this.s3.on(GetObjectCommand).callsFake((input) => {
      const url = `s3://${input.Bucket}/${input.Key}`;
      const execution = this.executions.find((e) => `${RESULTS}/${e.id}-manifest.csv` === url);
      if (!execution?.behaviour.writes || execution.behaviour.manifestStored === false) {
        throw new NoSuchKey({
          message: 'The specified key does not exist.',
          $metadata: { httpStatusCode: 404 },
        });
      }
      return { Body: body(execution.behaviour.writes.map((file) => `${file}\n`).join('')) };
    });
    this.s3.on(DeleteObjectsCommand).callsFake((input) => {
      for (const object of input.Delete?.Objects ?? []) {
        this.deleted.push(`s3://${input.Bucket}/${object.Key}`);
        this.timeline.push(`delete ${object.Key}`);
      }
      return {};
    });
  }

  #execution(id: string): FakeExecution {
    const execution = this.executions.find((e) => e.id === id);
    if (!execution) {
      throw new InvalidRequestException({
        message: `QueryExecution ${id} was not found`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    return execution;
  }

  engine(options: Partial<AthenaQueryEngineOptions> = {}): AthenaQueryEngine {
    return new AthenaQueryEngine(this.athenaClient, {
      workGroup: 'fleet-etl',
      database: 'fleet',
      statementLog: this.statementLog,
      s3: this.s3Client,
      writableLocations: ['s3://fleet-warehouse'],
      sleep: noSleep,
      poll: { initialDelayMs: 100, maxDelayMs: 400 },
      startRetry: { random: () => 0.5 },
      ...options,
    });
  }

  /** The query strings started, in order. */
  started(): string[] {
    return this.athena
      .commandCalls(StartQueryExecutionCommand)
      .map((call) => String(call.args[0].input.QueryString));
  }

  reset(): void {
    this.athena.reset();
    this.s3.reset();
  }
}
