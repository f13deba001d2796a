import * as z from 'zod';

const StringOrList = z.union([z.string(), z.array(z.string())]);
const ConditionValue = z.union([z.string(), z.number(), z.boolean()]);

/** A statement after intrinsics are resolved: every ARN is a string the evaluator can match. */
export const PolicyStatementSchema = z.object({
  Sid: z.string().optional(),
  Effect: z.enum(['Allow', 'Deny']),
  Action: StringOrList.optional(),
  NotAction: StringOrList.optional(),
  Resource: StringOrList.optional(),
  NotResource: StringOrList.optional(),
  Principal: z.union([z.literal('*'), z.record(z.string(), StringOrList)]).optional(),
  NotPrincipal: z.union([z.literal('*'), z.record(z.string(), StringOrList)]).optional(),
  Condition: z
    .record(z.string(), z.record(z.string(), z.union([ConditionValue, z.array(ConditionValue)])))
    .optional(),
});
export type PolicyStatement = z.infer<typeof PolicyStatementSchema>;

export const PolicyDocumentSchema = z.object({
  Version: z.string().optional(),
  Statement: z
    .union([PolicyStatementSchema, z.array(PolicyStatementSchema)])
    .transform((s) => (Array.isArray(s) ? s : [s])),
});
export type PolicyDocument = z.infer<typeof PolicyDocumentSchema>;
