import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { nonEmpty, parseEnvironment } from '../shared/environment.js';
import { jsonLogger } from '../shared/logger.js';
import { createReportHandler } from './handler.js';

const env = parseEnvironment(z.object({ RESULTS_BUCKET: nonEmpty }));

export const handler = createReportHandler({
  resultsStore: new S3ObjectStore(new S3Client({}), { bucket: env.RESULTS_BUCKET }),
  logger: jsonLogger('report'),
});
