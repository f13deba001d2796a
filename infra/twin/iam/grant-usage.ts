import type { TwinRole } from '../template/stack-model.js';
import type { AllowedRequest } from './iam-authorizer.js';

/** An Allow statement of a role that no allowed request needed. */
export interface UnusedGrant {
  policy: string;
  index: number;
  actions: readonly string[];
  resources: readonly string[];
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * The role's Allow statements that allowed none of the requests recorded: after a whole night, candidates for
 * removal (or grants the twin's emulation never exercised, such as logs and X-Ray, which the runtime uses).
 */
export function unusedGrants(role: TwinRole, allowed: readonly AllowedRequest[]): UnusedGrant[] {
  const used = new Set(
    allowed
      .filter((request) => request.role === role.logicalId)
      .flatMap((request) => request.statements.map((s) => `${s.policy}#${s.index}`)),
  );
  return role.policies.flatMap((policy) =>
    policy.document.Statement.flatMap((statement, index) =>
      statement.Effect === 'Allow' && !used.has(`${policy.name}#${index}`)
        ? [
            {
              policy: policy.name,
              index,
              actions: list(statement.Action),
              resources: list(statement.Resource),
            },
          ]
        : [],
    ),
  );
}
