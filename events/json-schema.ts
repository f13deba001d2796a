import { z } from 'zod';
import type { DetailTypeName } from './bus.js';
import { detailSchemas } from './catalog.js';

/** JSON Schema (draft 2020-12) per detail-type, for teams that consume our events without TypeScript. */
export function detailJsonSchemas(): Record<DetailTypeName, unknown> {
  return Object.fromEntries(
    Object.entries(detailSchemas).map(([name, schema]) => [name, z.toJSONSchema(schema, { io: 'output' })]),
  ) as Record<DetailTypeName, unknown>;
}
