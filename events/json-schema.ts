import * as z from 'zod';
import type { DetailTypeName } from './bus.js';
import { wireDetailSchemas } from './claim-check.js';

/**
 * JSON Schema (draft 2020-12) per detail-type, for teams that consume our events without TypeScript. It states
 * what a consumer accepts (zod's input side), so objects stay open: our own consumers ignore unknown fields, and a
 * field added later as optional is then a compatible change for every consumer that validates with these schemas
 * (events/schema-compatibility.ts; the published copies are events/schemas/*.json, from `npm run schemas`).
 * They describe the detail as it travels: SqlFileExecuted and EtlDone are the full detail or, over 256 KB, a
 * reference to it (`anyOf`; events/claim-check.ts).
 */
export function detailJsonSchemas(): Record<DetailTypeName, unknown> {
  return Object.fromEntries(
    Object.entries(wireDetailSchemas).map(([name, schema]) => [
      name,
      z.toJSONSchema(schema, { io: 'input' }),
    ]),
  ) as Record<DetailTypeName, unknown>;
}

/**
 * The same contracts as the EventBridge schema registry takes them (`AWS::EventSchemas::Schema`, type
 * `JSONSchemaDraft4`): one schema per detail-type describing the whole event, envelope included, so the registry's
 * code bindings and the console's discovery show the detail at its place
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-schema.html).
 */
export function eventRegistrySchemas(source: string): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(wireDetailSchemas).map(([name, schema]) => [
      name,
      {
        $schema: 'http://json-schema.org/draft-04/schema#',
        title: name,
        type: 'object',
        required: [
          'version',
          'id',
          'detail-type',
          'source',
          'account',
          'time',
          'region',
          'resources',
          'detail',
        ],
        properties: {
          version: { type: 'string' },
          id: { type: 'string' },
          'detail-type': { type: 'string', enum: [name] },
          source: { type: 'string', enum: [source] },
          account: { type: 'string' },
          time: { type: 'string', format: 'date-time' },
          region: { type: 'string' },
          resources: { type: 'array', items: { type: 'string' } },
          'replay-name': { type: 'string' },
          detail: withoutDialect(z.toJSONSchema(schema, { io: 'input', target: 'draft-04' })),
        },
      },
    ]),
  );
}

function withoutDialect({ $schema: _dialect, ...schema }: Record<string, unknown>): Record<string, unknown> {
  return schema;
}
