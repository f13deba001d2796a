import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { CLAIM_CHECK_PREFIX, type ClaimCheckedDetailType } from '../../events/claim-check.js';
import type { BucketAccess } from '../../services/topology.js';
import { acknowledge, acknowledgeKeyGrant, wildcardActionFinding, wildcardResourceFinding } from '../nag.js';
import type { FleetFunction } from './fleet-function.js';

/**
 * How a service uses a bucket is said by its topology entry (services/topology.ts, BucketAccess). `objects` is the exact actions of a
 * writer that first checks whether its object is there: GetObject (also HeadObject), ListBucket (so that a missing
 * key answers 404, not 403), PutObject (single and multipart uploads), AbortMultipartUpload, and of the bucket's key
 * GenerateDataKey (writes) and Decrypt (reads, completing a multipart upload); none of the action groups CDK's grant
 * helpers bring along (legal holds, retention, tagging, the bucket's own settings).
 */
export type { BucketAccess };

const READ_ACTION_GROUPS = ['s3:GetObject*', 's3:GetBucket*', 's3:List*'];

/** Grants one bucket (and its key) with CDK's grant methods, and acknowledges the wildcards they name. */
export function grantBucket(fn: FleetFunction, bucket: IBucket, access: BucketAccess): void {
  if (access === 'objects') {
    grantObjects(fn, bucket);
    return;
  }
  const reads = access !== 'write';
  const writes = access !== 'read';
  if (access === 'readWriteDelete') bucket.grantReadWrite(fn);
  else {
    if (reads) bucket.grantRead(fn);
    if (writes) bucket.grantPut(fn);
  }
  const role = fn.executionRole;
  acknowledge(
    role,
    [wildcardResourceFinding(role, bucket.arnForObjects('*'))],
    'The objects of this one bucket: keys are derived at run time (dataset, run and page; Athena output ' +
      'names), so they cannot be listed ahead. No other bucket is reachable.',
  );
  if (reads) {
    acknowledge(
      role,
      READ_ACTION_GROUPS.map(wildcardActionFinding),
      "CDK's grantRead action groups on this one bucket and its objects: GetObject* (objects and their " +
        'versions), GetBucket* (GetBucketLocation, which Athena calls) and List* (ListBucket and multipart ' +
        'upload listings, which Athena uses to read a table folder).',
    );
  }
  if (writes) {
    acknowledge(
      role,
      [wildcardActionFinding('s3:Abort*')],
      "CDK's grantPut includes s3:Abort* (AbortMultipartUpload) so a failed multipart upload of a page or of " +
        'Athena output can be cleaned up; scoped to the objects of this one bucket.',
    );
    acknowledgeKeyGrant(role);
  }
  if (access === 'readWriteDelete') {
    acknowledge(
      role,
      [wildcardActionFinding('s3:DeleteObject*')],
      "CDK's grantReadWrite on this one bucket includes DeleteObject* (object and version deletes): a re-run " +
        'replaces the warehouse files it wrote before (docs/decisions/0002); no other bucket is deletable.',
    );
  }
}

/** The `objects` access, as statements of exact actions (see BucketAccess). */
function grantObjects(fn: FleetFunction, bucket: IBucket): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
      resources: [bucket.arnForObjects('*')],
    }),
  );
  fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
  bucket.encryptionKey?.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
  const role = fn.executionRole;
  acknowledge(
    role,
    [wildcardResourceFinding(role, bucket.arnForObjects('*'))],
    'The objects of this one bucket: keys are derived at run time (dataset, run and page), so they cannot be ' +
      'listed ahead. AbortMultipartUpload is on the error path only: lib-storage aborts a failed multipart upload ' +
      'of a page, so that no parts are left behind (the cloud twin lists it unused on a night without one).',
  );
}

/**
 * Read access to the stored details of the given detail-types (`event-details/<detail-type>/*`), for a consumer
 * that receives them by reference (decision 60) but has no other use for the bucket. Only those folders: the
 * consumer re-derives the key from the event and refuses any other, and IAM refuses it too.
 */
export function grantEventDetailsRead(
  fn: FleetFunction,
  bucket: IBucket,
  detailTypes: readonly ClaimCheckedDetailType[],
): void {
  const role = fn.executionRole;
  for (const detailType of detailTypes) {
    const objects = `${CLAIM_CHECK_PREFIX}/${detailType}/*`;
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(objects)] }),
    );
    acknowledge(
      role,
      [wildcardResourceFinding(role, bucket.arnForObjects(objects))],
      `The ${detailType} details stored by reference, one object per run and hash (keys derived at run time); ` +
        'no other folder of the bucket is readable.',
    );
  }
  // GetObject only: the consumer lists nothing (a missing detail answers 403 instead of 404, and is an error
  // either way), and reads the objects the bucket's key encrypted.
  bucket.encryptionKey?.grantDecrypt(fn);
}
