import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type BucketProps,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

export interface DataLakeProps {
  key: IKey;
  removalPolicy: RemovalPolicy;
  /** Athena's result files under ATHENA_RESULTS_PREFIX expire after this many days. */
  queryResultsRetentionDays: number;
}

/** Where the workgroup writes Athena's own result files; the query runner's results and reports live beside it. */
export const ATHENA_RESULTS_PREFIX = 'athena/';
/** Overwritten or deleted object versions are kept this long, to undo a bad run or replay. */
const NONCURRENT_VERSIONS = Duration.days(30);
const ACCESS_LOG_RETENTION = Duration.days(365);

/**
 * The three buckets of the pipeline (raw NDJSON pages, the Parquet warehouse, query results and reports) and the
 * bucket that receives their server access logs. Data buckets: SSE-KMS with the stage's key and S3 Bucket Keys
 * (one KMS call per bucket key instead of one per object), public access blocked, TLS 1.2+ only, ACLs disabled.
 */
export class DataLake extends Construct {
  readonly raw: Bucket;
  readonly warehouse: Bucket;
  readonly results: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: DataLakeProps) {
    super(scope, id);
    const shared = {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
    } satisfies BucketProps;

    // Server access logs can only be delivered to a bucket encrypted with SSE-S3
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      ...shared,
      encryption: BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: ACCESS_LOG_RETENTION }],
    });
    acknowledge(
      this.accessLogs,
      ['AwsSolutions-S1'],
      'This bucket is the server access log destination of the data buckets; S3 advises against a bucket ' +
        'that logs into itself (every delivery would be logged again), and a second log bucket would only move ' +
        'the finding.',
    );

    const dataBucket = (bucketId: string, extra: Partial<BucketProps>): Bucket =>
      new Bucket(this, bucketId, {
        ...shared,
        encryption: BucketEncryption.KMS,
        encryptionKey: props.key,
        bucketKeyEnabled: true,
        serverAccessLogsBucket: this.accessLogs,
        serverAccessLogsPrefix: `${bucketId.toLowerCase()}/`,
        ...extra,
      });
    // lib-storage aborts a failed multipart upload, but a killed Lambda cannot; S3 charges for orphaned parts.
    const abortUploads = {
      id: 'abort-incomplete-uploads',
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    };
    const versioned = {
      versioned: true,
      lifecycleRules: [
        abortUploads,
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: NONCURRENT_VERSIONS },
      ],
    } satisfies Partial<BucketProps>;

    this.raw = dataBucket('Raw', versioned);
    this.warehouse = dataBucket('Warehouse', versioned);
    this.results = dataBucket('Results', {
      lifecycleRules: [
        abortUploads,
        {
          id: 'expire-athena-results',
          prefix: ATHENA_RESULTS_PREFIX,
          expiration: Duration.days(props.queryResultsRetentionDays),
        },
      ],
    });
  }
}
