import path from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AthenaQueryEngine } from '../adapters/aws/athena/query-engine.js';
import { EventBridgePublisher } from '../adapters/aws/eventbridge/publisher.js';
import { fleetEventLogFields, lambdaTelemetry } from '../adapters/aws/lambda/telemetry.js';
import { S3ObjectStore } from '../adapters/aws/s3/object-store.js';
import { SecretsManagerSecrets } from '../adapters/aws/secrets-manager/secrets.js';
import { createSqlSource, sqlSourceConfigFromEnv } from '../adapters/sql-source-config.js';
import { serviceEnvironment } from '../service-environment.js';
import { parseEnvironment } from '../shared/environment.js';
import { createQueryRunnerHandler } from './handler.js';

const env = parseEnvironment(serviceEnvironment('queryRunner'));
// SQL_SOURCE=bundled|github and the GITHUB_* variables; validated here, at cold start, like the rest. The bundled
// queries/ folder is copied next to the handler when the function is bundled.
const sqlSourceConfig = sqlSourceConfigFromEnv(
  process.env,
  env.QUERIES_DIR ?? path.join(process.env.LAMBDA_TASK_ROOT ?? '.', 'queries'),
);

const s3 = new S3Client({});
const secrets = new SecretsManagerSecrets(new SecretsManagerClient({}));

const telemetry = lambdaTelemetry('queryRunner');

const queryRunner = createQueryRunnerHandler({
  sqlSource: createSqlSource(sqlSourceConfig, {
    githubToken: async (config) =>
      config.tokenSecretId === undefined ? undefined : secrets.get(config.tokenSecretId),
  }),
  engine: new AthenaQueryEngine(new AthenaClient({}), {
    workGroup: env.ATHENA_WORKGROUP,
    database: env.GLUE_DATABASE,
    statementLog: new S3ObjectStore(s3, { bucket: env.RESULTS_BUCKET, prefix: 'athena-statements' }),
    s3,
    writableLocations: [`s3://${env.WAREHOUSE_BUCKET}`],
  }),
  publisher: new EventBridgePublisher(new EventBridgeClient({}), { busName: env.EVENT_BUS_NAME }),
  resultsStore: new S3ObjectStore(s3, { bucket: env.RESULTS_BUCKET }),
  database: env.GLUE_DATABASE,
  rawLocation: `s3://${env.RAW_BUCKET}`,
  warehouseLocation: `s3://${env.WAREHOUSE_BUCKET}`,
  logger: telemetry.logger,
});

export const handler = telemetry.instrument(queryRunner, { fieldsOf: fleetEventLogFields });
