import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { fleetEventLogFields, lambdaTelemetry } from '../adapters/aws/lambda-telemetry.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { nonEmpty, parseEnvironment } from '../shared/environment.js';
import { createReportHandler } from './handler.js';

const env = parseEnvironment(z.object({ RESULTS_BUCKET: nonEmpty }));

const telemetry = lambdaTelemetry('report');

const report = createReportHandler({
  resultsStore: new S3ObjectStore(new S3Client({}), { bucket: env.RESULTS_BUCKET }),
  logger: telemetry.logger,
});

export const handler = telemetry.instrument(report, { fieldsOf: fleetEventLogFields });
