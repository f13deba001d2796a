import type { TwinBucket } from '../template/stack-model.js';
import { TWIN_ACCOUNT, TWIN_REGION } from '../twin-account.js';
import type { IamCheck } from './iam-check.js';

/** An S3 REST request, as the front understands it: the operation, and what IAM must allow for it. */
export interface S3Operation {
  name: string;
  bucket: string;
  key: string | undefined;
  checks: IamCheck[];
  /**
   * GetObject and HeadObject on a missing key: S3 answers 404 only to a caller allowed s3:ListBucket, 403
   * otherwise (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html, "Permissions").
   */
  missingKeyNeedsListBucket: boolean;
}

export interface S3Request {
  method: string;
  /** The path-style path, `/bucket/key` (the SDK uses path style for an IP endpoint). */
  pathname: string;
  query: URLSearchParams;
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

/** An S3 request the twin does not map to IAM: refused loudly rather than let through unchecked. */
export class UnmappedS3RequestError extends Error {
  override readonly name = 'UnmappedS3RequestError';
}

const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;

/** The keys of a DeleteObjects body (`<Delete><Object><Key>…</Key></Object>…</Delete>`). */
function deletedKeys(body: Buffer): string[] {
  const unescapeXml = (text: string) =>
    text.replace(/&(lt|gt|amp|apos|quot);/g, (_m, e: string) =>
      e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'amp' ? '&' : e === 'apos' ? "'" : '"',
    );
  return [...body.toString('utf8').matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => unescapeXml(m[1] ?? ''));
}

/**
 * Maps an S3 REST request to the IAM actions S3 authorizes for it
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html), and adds the KMS
 * calls S3 makes with the caller's permissions on an SSE-KMS bucket (GenerateDataKey to write, Decrypt to read
 * or to complete a multipart upload).
 */
export function s3Operation(
  request: S3Request,
  bucketOf: (name: string) => TwinBucket | undefined,
): S3Operation {
  const [, bucket = '', ...rest] = request.pathname.split('/');
  const key =
    rest.length === 0 || (rest.length === 1 && rest[0] === '')
      ? undefined
      : decodeURIComponent(rest.join('/'));
  const q = request.query;
  const version = q.has('versionId');
  const object = key === undefined ? '' : objectArn(bucket, key);
  const checks: IamCheck[] = [];
  let name: string;
  let missingKeyNeedsListBucket = false;
  // A write that names its own KMS key (Athena's results under the workgroup's SSE_KMS key) is encrypted with it,
  // not the bucket's default (https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html).
  const requestKey =
    request.headers['x-amz-server-side-encryption'] === 'aws:kms'
      ? request.headers['x-amz-server-side-encryption-aws-kms-key-id']
      : undefined;
  const kms = requestKey ?? bucketOf(bucket)?.encryptionKeyArn;
  const viaS3 = { 'kms:ViaService': `s3.${TWIN_REGION}.amazonaws.com`, 'kms:CallerAccount': TWIN_ACCOUNT };
  const withKey = (...actions: string[]) => {
    if (kms !== undefined)
      for (const action of actions) checks.push({ action, resource: kms, context: viaS3 });
  };
  const copySource = request.headers['x-amz-copy-source'];
  const copied = () => {
    if (copySource === undefined) return;
    const source = decodeURIComponent(copySource.replace(/^\//, '').split('?')[0] ?? '');
    checks.push({ action: 's3:GetObject', resource: `arn:aws:s3:::${source}` });
  };

  if (key === undefined) {
    const listContext = () => ({
      ...(q.has('prefix') ? { 's3:prefix': q.get('prefix') ?? '' } : {}),
      ...(q.has('delimiter') ? { 's3:delimiter': q.get('delimiter') ?? '' } : {}),
      ...(q.has('max-keys') ? { 's3:max-keys': q.get('max-keys') ?? '' } : {}),
    });
    if (request.method === 'HEAD') {
      name = 'HeadBucket';
      checks.push({ action: 's3:ListBucket', resource: bucketArn(bucket) });
    } else if (request.method === 'GET' && q.has('location')) {
      name = 'GetBucketLocation';
      checks.push({ action: 's3:GetBucketLocation', resource: bucketArn(bucket) });
    } else if (request.method === 'GET' && q.has('uploads')) {
      name = 'ListMultipartUploads';
      checks.push({ action: 's3:ListBucketMultipartUploads', resource: bucketArn(bucket) });
    } else if (request.method === 'GET' && q.has('versions')) {
      name = 'ListObjectVersions';
      checks.push({ action: 's3:ListBucketVersions', resource: bucketArn(bucket), context: listContext() });
    } else if (request.method === 'GET') {
      name = q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      checks.push({ action: 's3:ListBucket', resource: bucketArn(bucket), context: listContext() });
    } else if (request.method === 'POST' && q.has('delete')) {
      name = 'DeleteObjects';
      for (const deleted of deletedKeys(request.body))
        checks.push({ action: 's3:DeleteObject', resource: objectArn(bucket, deleted) });
    } else {
      throw new UnmappedS3RequestError(`${request.method} on bucket ${bucket} (${q.toString()})`);
    }
    return { name, bucket, key, checks, missingKeyNeedsListBucket };
  }

  switch (request.method) {
    case 'HEAD':
      name = 'HeadObject';
      checks.push({ action: version ? 's3:GetObjectVersion' : 's3:GetObject', resource: object });
      missingKeyNeedsListBucket = true;
      break;
    case 'GET':
      if (q.has('uploadId')) {
        name = 'ListParts';
        checks.push({ action: 's3:ListMultipartUploadParts', resource: object });
      } else if (q.has('tagging')) {
        name = 'GetObjectTagging';
        checks.push({
          action: version ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging',
          resource: object,
        });
      } else {
        name = 'GetObject';
        checks.push({ action: version ? 's3:GetObjectVersion' : 's3:GetObject', resource: object });
        withKey('kms:Decrypt');
        missingKeyNeedsListBucket = true;
      }
      break;
    case 'PUT':
      if (q.has('uploadId')) {
        name = copySource === undefined ? 'UploadPart' : 'UploadPartCopy';
        checks.push({ action: 's3:PutObject', resource: object });
        copied();
      } else if (q.has('tagging')) {
        name = 'PutObjectTagging';
        checks.push({
          action: version ? 's3:PutObjectVersionTagging' : 's3:PutObjectTagging',
          resource: object,
        });
      } else {
        name = copySource === undefined ? 'PutObject' : 'CopyObject';
        checks.push({ action: 's3:PutObject', resource: object });
        copied();
        withKey('kms:GenerateDataKey');
      }
      // Tags set with the object need their own permission.
      if (request.headers['x-amz-tagging'] !== undefined)
        checks.push({ action: 's3:PutObjectTagging', resource: object });
      break;
    case 'POST':
      if (q.has('uploads')) {
        name = 'CreateMultipartUpload';
        checks.push({ action: 's3:PutObject', resource: object });
        withKey('kms:GenerateDataKey');
      } else if (q.has('uploadId')) {
        name = 'CompleteMultipartUpload';
        checks.push({ action: 's3:PutObject', resource: object });
        withKey('kms:Decrypt');
      } else {
        throw new UnmappedS3RequestError(`POST on ${object} (${q.toString()})`);
      }
      break;
    case 'DELETE':
      if (q.has('uploadId')) {
        name = 'AbortMultipartUpload';
        checks.push({ action: 's3:AbortMultipartUpload', resource: object });
      } else if (q.has('tagging')) {
        name = 'DeleteObjectTagging';
        checks.push({ action: 's3:DeleteObjectTagging', resource: object });
      } else {
        name = 'DeleteObject';
        checks.push({ action: version ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: object });
      }
      break;
    default:
      throw new UnmappedS3RequestError(`${request.method} on ${object}`);
  }
  return { name, bucket, key, checks, missingKeyNeedsListBucket };
}
