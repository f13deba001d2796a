import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AthenaClient } from '@aws-sdk/client-athena';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { jest } from '@jest/globals';
import { AthenaQueryEngine } from '../../services/adapters/aws/athena/query-engine.js';
import { S3ObjectStore } from '../../services/adapters/aws/s3/object-store.js';
import {
  createDuckDbQueryEngine,
  type DuckDbQueryEngine,
} from '../../services/adapters/local/duckdb/duckdb-query-engine.js';
import { CloudTwin } from '../../twin/cloud-twin.js';
import { functionOfConstruct } from '../../twin/template/stack-model.js';
import { TWIN_REGION } from '../../twin/twin-account.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../cloud/helpers/twin-stack.js';
import { queryEngineContract } from './query-engine.contract.js';

// Athena on the twin runs each statement in a fresh DuckDB over what it fetched from S3, and is polled: a case
// takes seconds, more on a busy machine.
jest.setTimeout(60_000);

let stateDir: string;
let duckdb: DuckDbQueryEngine;
let cases = 0;
queryEngineContract({
  name: 'DuckDB through the Athena bridge, in a state folder',
  start: async () => {
    stateDir = mkdtempSync(path.join(tmpdir(), 'query-engine-contract-'));
    const lake = path.join(stateDir, 'lake');
    duckdb = await createDuckDbQueryEngine({
      databasePath: path.join(stateDir, 'warehouse.duckdb'),
      sandbox: { lake, warehouse: path.join(lake, 'warehouse') },
    });
  },
  stop: async () => {
    await duckdb.close();
    rmSync(stateDir, { recursive: true, force: true });
  },
  fresh: async () => {
    cases += 1;
    const raw = path.join(stateDir, 'lake', 'raw');
    return {
      engine: duckdb,
      database: 'fleet_etl',
      rawLocation: pathToFileURL(raw).href,
      warehouseLocation: pathToFileURL(path.join(stateDir, 'lake', 'warehouse')).href,
      putRaw: async (key, body) => {
        mkdirSync(path.dirname(path.join(raw, key)), { recursive: true });
        writeFileSync(path.join(raw, key), body);
      },
      tablePrefix: `case${cases}_`,
    };
  },
});

let stack: TwinStack;
let twin: CloudTwin;
let athena: AthenaClient;
let runnerS3: S3Client;
let downloaderS3: S3Client;
let env: Readonly<Record<string, string>>;
queryEngineContract({
  name: 'AthenaQueryEngine over the cloud twin’s Athena, with the query runner’s role',
  start: async () => {
    stack = synthesizeTwinStack({ bundle: false });
    twin = await CloudTwin.start({ assemblyDir: stack.assemblyDir });
    const runner = functionOfConstruct(twin.model, 'Services/QueryRunner');
    const downloader = functionOfConstruct(twin.model, 'Services/Downloader');
    env = runner.environment;
    const config = { region: TWIN_REGION, endpoint: twin.endpoint, maxAttempts: 1 };
    athena = new AthenaClient({ ...config, credentials: twin.credentialsOf(runner) });
    runnerS3 = new S3Client({ ...config, forcePathStyle: true, credentials: twin.credentialsOf(runner) });
    downloaderS3 = new S3Client({
      ...config,
      forcePathStyle: true,
      credentials: twin.credentialsOf(downloader),
    });
  },
  stop: async () => {
    athena?.destroy();
    runnerS3?.destroy();
    downloaderS3?.destroy();
    await twin?.stop();
    discardTwinStack(stack);
  },
  fresh: async () => {
    cases += 1;
    const variable = (name: string) => {
      const value = env[name];
      if (value === undefined) throw new Error(`the query runner has no ${name}`);
      return value;
    };
    const [raw, warehouse, results] = ['RAW_BUCKET', 'WAREHOUSE_BUCKET', 'RESULTS_BUCKET'].map(variable);
    return {
      engine: new AthenaQueryEngine(athena, {
        workGroup: variable('ATHENA_WORKGROUP'),
        database: variable('GLUE_DATABASE'),
        statementLog: new S3ObjectStore(runnerS3, { bucket: results ?? '', prefix: 'athena-statements' }),
        s3: runnerS3,
        writableLocations: [`s3://${warehouse}`],
        poll: { initialDelayMs: 10, maxDelayMs: 50 },
      }),
      database: variable('GLUE_DATABASE'),
      rawLocation: `s3://${raw}`,
      warehouseLocation: `s3://${warehouse}`,
      putRaw: async (key, body) => {
        await downloaderS3.send(new PutObjectCommand({ Bucket: raw, Key: key, Body: body }));
      },
      tablePrefix: `case${cases}_`,
    };
  },
});
