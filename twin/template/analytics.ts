import * as z from 'zod';
import { TWIN_ACCOUNT, TWIN_PARTITION, TWIN_REGION } from '../twin-account.js';
import { InvalidTemplateError } from './errors.js';
import type { IntrinsicResolver } from './intrinsics.js';
import type { TemplateResourceLike } from './physical-names.js';

const WorkGroupSchema = z.object({
  Name: z.string().min(1),
  State: z.enum(['ENABLED', 'DISABLED']).default('ENABLED'),
  WorkGroupConfiguration: z
    .object({
      EnforceWorkGroupConfiguration: z.boolean().default(true),
      BytesScannedCutoffPerQuery: z.number().int().positive().optional(),
      ResultConfiguration: z
        .object({
          OutputLocation: z.string().optional(),
          ExpectedBucketOwner: z.string().optional(),
          EncryptionConfiguration: z
            .object({
              EncryptionOption: z.enum(['SSE_S3', 'SSE_KMS', 'CSE_KMS']),
              KmsKey: z.string().optional(),
            })
            .optional(),
        })
        .optional(),
    })
    .default({ EnforceWorkGroupConfiguration: true }),
});

const GlueDatabaseSchema = z.object({
  CatalogId: z.string(),
  DatabaseInput: z.object({ Name: z.string().min(1), Description: z.string().optional() }),
});

/** An Athena workgroup of the template: where results go, how they are encrypted, whether that is enforced. */
export interface TwinWorkGroup {
  logicalId: string;
  name: string;
  arn: string;
  enabled: boolean;
  /** EnforceWorkGroupConfiguration: the workgroup's settings override the client's (true by default). */
  enforced: boolean;
  bytesScannedCutoff: number | undefined;
  /** `s3://bucket/prefix/`, always ending with a slash. */
  outputLocation: string | undefined;
  expectedBucketOwner: string | undefined;
  encryption: { option: 'SSE_S3' | 'SSE_KMS' | 'CSE_KMS'; kmsKey: string | undefined } | undefined;
}

export interface TwinGlueDatabase {
  logicalId: string;
  name: string;
  description: string | undefined;
}

const parse = <S extends z.ZodType>(schema: S, id: string, value: unknown): z.infer<S> => {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new InvalidTemplateError(`${id}: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  return parsed.data;
};

export function workGroupsOf(
  resources: Readonly<Record<string, TemplateResourceLike>>,
  resolver: IntrinsicResolver,
): Map<string, TwinWorkGroup> {
  const found = new Map<string, TwinWorkGroup>();
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Athena::WorkGroup') continue;
    const props = parse(WorkGroupSchema, id, resolver.resolve(resource.Properties ?? {}));
    const configuration = props.WorkGroupConfiguration;
    const results = configuration.ResultConfiguration;
    const output = results?.OutputLocation;
    found.set(id, {
      logicalId: id,
      name: props.Name,
      arn: `arn:${TWIN_PARTITION}:athena:${TWIN_REGION}:${TWIN_ACCOUNT}:workgroup/${props.Name}`,
      enabled: props.State === 'ENABLED',
      enforced: configuration.EnforceWorkGroupConfiguration,
      bytesScannedCutoff: configuration.BytesScannedCutoffPerQuery,
      outputLocation: output === undefined ? undefined : output.endsWith('/') ? output : `${output}/`,
      expectedBucketOwner: results?.ExpectedBucketOwner,
      encryption:
        results?.EncryptionConfiguration === undefined
          ? undefined
          : {
              option: results.EncryptionConfiguration.EncryptionOption,
              kmsKey: results.EncryptionConfiguration.KmsKey,
            },
    });
  }
  return found;
}

export function glueDatabasesOf(
  resources: Readonly<Record<string, TemplateResourceLike>>,
  resolver: IntrinsicResolver,
): Map<string, TwinGlueDatabase> {
  const found = new Map<string, TwinGlueDatabase>();
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Glue::Database') continue;
    const props = parse(GlueDatabaseSchema, id, resolver.resolve(resource.Properties ?? {}));
    if (props.CatalogId !== TWIN_ACCOUNT)
      throw new InvalidTemplateError(`${id}: a database of another account's catalog (${props.CatalogId})`);
    found.set(id, {
      logicalId: id,
      // Glue folds database names to lower case.
      name: props.DatabaseInput.Name.toLowerCase(),
      description: props.DatabaseInput.Description,
    });
  }
  return found;
}
