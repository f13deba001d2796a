import path from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { AthenaQueryEngine } from '../adapters/aws/athena-query-engine.js';
import { EventBridgePublisher } from '../adapters/aws/eventbridge-publisher.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { FolderSqlSource } from '../adapters/local/folder-sql-source.js';
import { nonEmpty, parseEnvironment } from '../shared/environment.js';
import { jsonLogger } from '../shared/logger.js';
import { createQueryRunnerHandler } from './handler.js';

const env = parseEnvironment(
  z.object({
    EVENT_BUS_NAME: nonEmpty,
    RAW_BUCKET: nonEmpty,
    WAREHOUSE_BUCKET: nonEmpty,
    RESULTS_BUCKET: nonEmpty,
    GLUE_DATABASE: z.string().regex(/^[a-z_][a-z0-9_]{0,63}$/),
    ATHENA_WORKGROUP: nonEmpty,
    /** The bundled queries/ folder, copied next to the handler when the function is bundled. */
    QUERIES_DIR: nonEmpty.default(path.join(process.env.LAMBDA_TASK_ROOT ?? '.', 'queries')),
  }),
);

const s3 = new S3Client({});

export const handler = createQueryRunnerHandler({
  sqlSource: new FolderSqlSource(env.QUERIES_DIR),
  engine: new AthenaQueryEngine(new AthenaClient({}), {
    workGroup: env.ATHENA_WORKGROUP,
    database: env.GLUE_DATABASE,
  }),
  publisher: new EventBridgePublisher(new EventBridgeClient({}), { busName: env.EVENT_BUS_NAME }),
  resultsStore: new S3ObjectStore(s3, { bucket: env.RESULTS_BUCKET }),
  database: env.GLUE_DATABASE,
  rawLocation: `s3://${env.RAW_BUCKET}`,
  warehouseLocation: `s3://${env.WAREHOUSE_BUCKET}`,
  logger: jsonLogger('queryRunner'),
});
