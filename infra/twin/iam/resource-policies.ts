import type { PolicyDocument } from '../template/policy-document.js';
import type { StackModel } from '../template/stack-model.js';

/**
 * The resource policy AWS evaluates with a request on `resourceArn`: a bucket's for the bucket and its objects, a
 * queue's, a key's. Resources of other kinds in this stack carry none the template sets.
 */
export function resourcePolicyFor(model: StackModel, resourceArn: string): PolicyDocument | undefined {
  if (resourceArn.startsWith('arn:aws:s3:::')) {
    const bucketName = resourceArn.slice('arn:aws:s3:::'.length).split('/', 1)[0];
    for (const bucket of model.buckets.values()) if (bucket.name === bucketName) return bucket.policy;
    return undefined;
  }
  for (const queue of model.queues.values()) if (queue.arn === resourceArn) return queue.policy;
  for (const key of model.keys.values()) if (key.arn === resourceArn) return key.policy;
  return undefined;
}
