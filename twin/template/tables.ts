import * as z from 'zod';
import { InvalidTemplateError } from './errors.js';
import type { IntrinsicResolver } from './intrinsics.js';
import type { TemplateResourceLike } from './physical-names.js';

const KeySchemaElement = z.object({ AttributeName: z.string(), KeyType: z.enum(['HASH', 'RANGE']) });
const IndexSchema = z.object({ IndexName: z.string(), KeySchema: z.array(KeySchemaElement) });
const TableSchema = z.object({
  AttributeDefinitions: z.array(
    z.object({ AttributeName: z.string(), AttributeType: z.enum(['S', 'N', 'B']) }),
  ),
  KeySchema: z.array(KeySchemaElement),
  GlobalSecondaryIndexes: z.array(IndexSchema).default([]),
  LocalSecondaryIndexes: z.array(IndexSchema).default([]),
  SSESpecification: z.object({ KMSMasterKeyId: z.string().optional() }).optional(),
});

export type KeySchemaElement = z.infer<typeof KeySchemaElement>;

/** A DynamoDB table of the template: what the twin creates in the emulator and authorizes against. */
export interface TwinTable {
  logicalId: string;
  name: string;
  arn: string;
  attributeDefinitions: readonly { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  keySchema: readonly KeySchemaElement[];
  globalIndexes: readonly z.infer<typeof IndexSchema>[];
  localIndexes: readonly z.infer<typeof IndexSchema>[];
  kmsKeyArn: string | undefined;
}

export function tablesOf(
  resources: Readonly<Record<string, TemplateResourceLike>>,
  resolver: IntrinsicResolver,
): Map<string, TwinTable> {
  const tables = new Map<string, TwinTable>();
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const parsed = TableSchema.safeParse(resolver.resolve(resource.Properties ?? {}));
    if (!parsed.success)
      throw new InvalidTemplateError(`${id}: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
    const physical = resolver.physical(id);
    tables.set(id, {
      logicalId: id,
      name: physical.ref,
      arn: physical.attributes.Arn ?? '',
      attributeDefinitions: parsed.data.AttributeDefinitions,
      keySchema: parsed.data.KeySchema,
      globalIndexes: parsed.data.GlobalSecondaryIndexes,
      localIndexes: parsed.data.LocalSecondaryIndexes,
      kmsKeyArn: parsed.data.SSESpecification?.KMSMasterKeyId,
    });
  }
  return tables;
}
