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

/** An action (or action pattern, `s3:GetObject*`) of an Allow statement that no allowed request matched. */
export interface UnusedAction {
  policy: string;
  index: number;
  action: string;
}

/** IAM action patterns: `*` and `?` wildcards, case-insensitive. */
const matchesAction = (pattern: string, action: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  ).test(action);

/**
 * Finer than unusedGrants: every action of the role's Allow statements that no request allowed by that statement
 * matched (CDK's grant methods bring whole groups: DescribeSecret with GetSecretValue, GetQueueUrl with
 * SendMessage). After a whole night, a list to narrow grants from; on a partial run, only a hint.
 */
export function unusedActions(role: TwinRole, allowed: readonly AllowedRequest[]): UnusedAction[] {
  const mine = allowed.filter((request) => request.role === role.logicalId);
  return role.policies.flatMap((policy) =>
    policy.document.Statement.flatMap((statement, index) => {
      if (statement.Effect !== 'Allow') return [];
      const byThis = mine.filter((request) =>
        request.statements.some((s) => s.policy === policy.name && s.index === index),
      );
      return list(statement.Action)
        .filter((pattern) => !byThis.some((request) => matchesAction(pattern, request.action)))
        .map((action) => ({ policy: policy.name, index, action }));
    }),
  );
}
