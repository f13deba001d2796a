import { SQL_SOURCE_VARIABLES } from '../../../services/adapters/sql-source-config.js';
import { environmentShapeOf } from '../../../services/service-environment.js';
import { resourcesNeeded, type ServiceDeclaration } from '../../../services/topology.js';

/** Set on every function by FleetFunction and read by Powertools itself, not by the Lambda entry. */
const HOUSE_VARIABLES = /^POWERTOOLS_/;

/**
 * What a service's Lambda entry parses (services/service-environment.ts; the SQL source's own variables for the
 * query runner): every name it may read, and the names it cannot start without.
 */
export function parsedVariables(declaration: ServiceDeclaration): { names: string[]; required: string[] } {
  const shape = environmentShapeOf(declaration);
  const names = [
    ...Object.keys(shape),
    ...(resourcesNeeded(declaration).includes('sqlSource') ? SQL_SOURCE_VARIABLES : []),
  ];
  const required = Object.entries(shape)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([name]) => name);
  return { names: names.sort(), required: required.sort() };
}

/** The variables a function's template sets for its entry to read: all but the house ones. */
export const entryVariables = (variables: Record<string, unknown>): string[] =>
  Object.keys(variables)
    .filter((name) => !HOUSE_VARIABLES.test(name))
    .sort();
