import type { PolicyStatement } from '../template/policy-document.js';

/** A request the front refused (the front's `Refusal`): the caller's role and session, what, on what, and why. */
export interface RefusedCall {
  role: string;
  session: string;
  action: string;
  resource: string;
  message: string;
}

/**
 * What a refusal means for the deployment:
 * - `missing-grant`: nothing allowed the call; `statement` is the Allow that would, for the identity policy of
 *   the caller's role (the resource's policy could say it too, but the role is where this stack grants);
 * - `explicit-deny`: a Deny refuses it (a TLS-only bucket policy, say): no Allow can fix it, the call must change;
 * - `undeclared-detail-type`: the role may put events on the bus, but not of this detail-type: the service sent one
 *   its topology entry does not publish (the grant's condition is derived from the entry); the entry or the call
 *   must change, not the grant;
 * - `not-emulated`: the twin refused because it does not emulate the service or operation, not because of IAM.
 */
export type RefusalFinding =
  | { kind: 'missing-grant'; call: RefusedCall; statement: PolicyStatement; note?: string }
  | { kind: 'explicit-deny'; call: RefusedCall }
  | { kind: 'undeclared-detail-type'; call: RefusedCall }
  | { kind: 'not-emulated'; call: RefusedCall };

/** The twin's answer for what it does not emulate (the front's NotImplemented: "does not emulate athena yet"). */
export const NOT_EMULATED = /does not emulate/i;

/** EventBridge's message for an entry refused for its detail-type (the front uses AWS's wording). */
const DETAIL_TYPE_REFUSED = /publish events with this detail type/i;

/** IAM's message for a refusal by an explicit Deny (the authorizer uses AWS's wording). */
const EXPLICIT_DENY = /with an explicit deny/i;

/** KMS keys are authorized by their key policy first: an identity grant works only where it lets IAM decide. */
const isKmsKey = (resource: string) => /^arn:[^:]+:kms:[^:]*:\d{12}:key\//.test(resource);

/**
 * The finding for one refused call. The statement is the narrowest one that allows exactly the refused call:
 * its action on its resource, as the front authorized it. A wider grant (a prefix of keys, CDK's grant groups) is
 * a design choice left to the reader; this one is what the night proved necessary.
 */
export function findingOf(call: RefusedCall): RefusalFinding {
  if (NOT_EMULATED.test(call.message)) return { kind: 'not-emulated', call };
  if (EXPLICIT_DENY.test(call.message)) return { kind: 'explicit-deny', call };
  if (DETAIL_TYPE_REFUSED.test(call.message)) return { kind: 'undeclared-detail-type', call };
  const statement: PolicyStatement = { Effect: 'Allow', Action: call.action, Resource: call.resource };
  return isKmsKey(call.resource)
    ? {
        kind: 'missing-grant',
        call,
        statement,
        note: "in the role's policy if the key policy lets IAM policies grant the key (this stack's does), else in the key policy",
      }
    : { kind: 'missing-grant', call, statement };
}

/** A refusal of a service principal's request (EventBridge invoking a target, sending to a dead-letter queue). */
export interface ServiceRefusal {
  service: string;
  action: string;
  resource: string;
  sourceArn: string;
  /** The statement for the resource's policy (a Lambda permission, a queue or key policy) that would allow it. */
  statement: PolicyStatement;
}

/**
 * The service refusals in a delivery's error message, in the twin's wording ("The service events.amazonaws.com
 * is not authorized to perform: lambda:InvokeFunction on resource: <arn> for <source>: ..."; a dead-letter
 * queue's own refusal is appended after "; "). Only a resource's policy can allow a service principal, so the
 * statement names the principal and, as AWS advises against the confused deputy, the source.
 */
export function serviceRefusalsIn(message: string): ServiceRefusal[] {
  const pattern =
    /The service (\S+) is not authorized to perform: (\S+) on resource: (\S+) for (arn:\S+?): no resource-based policy allows it/g;
  return [...message.matchAll(pattern)].flatMap((match) => {
    const [, service, action, resource, sourceArn] = match;
    if (service === undefined || action === undefined || resource === undefined || sourceArn === undefined)
      return [];
    return [
      {
        service,
        action,
        resource,
        sourceArn,
        statement: {
          Effect: 'Allow',
          Principal: { Service: service },
          Action: action,
          // In a key policy, "*" is the key itself.
          Resource: isKmsKey(resource) ? '*' : resource,
          Condition: { ArnEquals: { 'aws:SourceArn': sourceArn } },
        },
      },
    ];
  });
}
