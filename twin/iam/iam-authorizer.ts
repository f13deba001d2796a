import { runSimulation, type SimulationIdentityPolicy } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from '../template/policy-document.js';
import type { StackModel, TwinRole } from '../template/stack-model.js';
import { TWIN_ACCOUNT, TWIN_PARTITION, TWIN_REGION } from '../twin-account.js';
import { AuthorizationInputError } from './errors.js';
import { resourcePolicyFor } from './resource-policies.js';

/** Who calls: a function's role, in the session Lambda opens for it (the session is named after the function). */
export interface Caller {
  role: TwinRole;
  sessionName: string;
  /**
   * The service that makes this request with the caller's credentials (forward access sessions), e.g.
   * `athena.amazonaws.com` reading a table's objects for a query the caller started.
   */
  calledVia?: string;
}

export type ContextValues = Record<string, string | string[]>;

export interface AuthorizationRequest {
  caller: Caller;
  /** `service:Action`, as IAM names it (HeadObject is `s3:GetObject`). */
  action: string;
  resource: string;
  /** Request-specific keys (`s3:prefix`, `kms:ViaService`); the transport and principal keys are added here. */
  context?: ContextValues;
}

/** A request a service principal makes on the stack's behalf, for a source of the stack (a rule, a bus). */
export interface ServiceAuthorizationRequest {
  service: string;
  action: string;
  resource: string;
  sourceArn: string;
  /** Request keys of the service's call (the encryption context of a KMS call). */
  context?: ContextValues;
}

export type Decision =
  | { allowed: true }
  | { allowed: false; result: 'ExplicitlyDenied' | 'ImplicitlyDenied'; message: string };

/** One request IAM allowed: which role, what, on which resource, and the identity statements that allowed it. */
export interface AllowedRequest {
  role: string;
  action: string;
  resource: string;
  /** The identity statements that allowed it: the policy's name and the statement's place in its list. */
  statements: readonly { policy: string; index: number }[];
  /** The service that made it with the role's credentials (Athena reading a table), if not the role itself. */
  calledVia?: string;
}

export interface IamAuthorizerOptions {
  /**
   * The transport the functions use in AWS: HTTPS with TLS 1.2 or later, whatever the loopback hop is. A test
   * turns it off to see the TLS-only resource policies refuse a plain-HTTP caller.
   */
  secureTransport?: boolean;
}

/** The session ARN STS gives a role assumed by Lambda: what `aws:PrincipalArn`-style matching sees as caller. */
const sessionArnOf = (caller: Caller) =>
  `arn:${TWIN_PARTITION}:sts::${TWIN_ACCOUNT}:assumed-role/${caller.role.name}/${caller.sessionName}`;

/**
 * Decides requests as IAM does for a caller and a resource in the same account: allowed when the role's identity
 * policies or the resource's policy allow it and nothing denies it explicitly; KMS keys only through their key
 * policy. The evaluation is @cloud-copilot/iam-simulate's, on the policies exactly as the template states them.
 * Every allowed request is recorded, so a test can tell which grants a night used and which it never did.
 */
export class IamAuthorizer {
  readonly #model: StackModel;
  readonly #secure: boolean;
  readonly #allowed = new Map<string, AllowedRequest>();

  constructor(model: StackModel, options: IamAuthorizerOptions = {}) {
    this.#model = model;
    this.#secure = options.secureTransport ?? true;
  }

  async authorize(request: AuthorizationRequest): Promise<Decision> {
    const { caller, action, resource } = request;
    const result = await this.#simulate(request, (document) => document);
    if (result.overallResult !== 'Allowed') {
      const denied = sessionArnOf(caller);
      const why =
        result.overallResult === 'ExplicitlyDenied'
          ? 'with an explicit deny in a resource-based policy or an identity-based policy'
          : 'because no identity-based policy allows the';
      // AWS's wording (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
      const message =
        result.overallResult === 'ExplicitlyDenied'
          ? `User: ${denied} is not authorized to perform: ${action} on resource: ${resource} ${why}`
          : `User: ${denied} is not authorized to perform: ${action} on resource: ${resource} ${why} ${action} action`;
      return { allowed: false, result: result.overallResult, message };
    }
    const analysis = result.resultType === 'single' ? result.result.analysis : result.results[0]?.analysis;
    const statements = (analysis?.identityAnalysis?.allowStatements ?? []).map((s) => ({
      policy: s.policyId,
      // iam-policy counts statements from 1; the policy document's list is 0-based.
      index: s.statement.index() - 1,
    }));
    const key = `${caller.role.logicalId}\u0000${action}\u0000${resource}\u0000${caller.calledVia ?? ''}`;
    this.#allowed.set(key, {
      role: caller.role.logicalId,
      action,
      resource,
      statements,
      ...(caller.calledVia === undefined ? {} : { calledVia: caller.calledVia }),
    });
    return { allowed: true };
  }

  /**
   * A service principal acting for the stack (EventBridge invoking a target, putting an event on a dead-letter
   * queue): only the resource's policy can allow it, with the source's ARN and account in the context
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourcearn).
   */
  async authorizeService(request: ServiceAuthorizationRequest): Promise<Decision> {
    const { service, action, resource } = request;
    const resourcePolicy = resourcePolicyFor(this.#model, resource);
    const now = new Date();
    const result = await runSimulation(
      {
        request: {
          principal: service,
          action,
          resource: { resource, accountId: TWIN_ACCOUNT },
          contextVariables: {
            'aws:SourceArn': request.sourceArn,
            'aws:SourceAccount': TWIN_ACCOUNT,
            'aws:SecureTransport': 'true',
            'aws:CurrentTime': now.toISOString(),
            'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
            ...request.context,
          },
        },
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
      },
      {},
    );
    if (result.resultType === 'error')
      throw new AuthorizationInputError(`${service} ${action} on ${resource}: ${result.errors.message}`, {
        cause: result.errors,
      });
    if (result.overallResult === 'Allowed') return { allowed: true };
    return {
      allowed: false,
      result: result.overallResult === 'ExplicitlyDenied' ? 'ExplicitlyDenied' : 'ImplicitlyDenied',
      message: `The service ${service} is not authorized to perform: ${action} on resource: ${resource} for ${request.sourceArn}: no resource-based policy allows it`,
    };
  }

  /**
   * Whether the request would be allowed if no policy had a condition on `keys`. Nothing is recorded. The front
   * asks it of a PutEvents entry IAM refused: allowed without the conditions on `events:detail-type`, the entry was
   * refused for its detail-type alone, which EventBridge answers for that entry only
   * (NotAuthorizedForDetailTypeException); refused anyway, the caller may not put events on the bus at all.
   */
  async allowsIgnoringConditionsOn(request: AuthorizationRequest, keys: readonly string[]): Promise<boolean> {
    const ignored = new Set(keys.map((key) => key.toLowerCase()));
    const result = await this.#simulate(request, (document) => withoutConditionsOn(document, ignored));
    return result.overallResult === 'Allowed';
  }

  async #simulate(request: AuthorizationRequest, policy: (document: PolicyDocument) => PolicyDocument) {
    const { caller, action, resource } = request;
    const identityPolicies: SimulationIdentityPolicy[] = caller.role.policies.map((p) => ({
      name: p.name,
      policy: policy(p.document),
    }));
    const resourcePolicy = resourcePolicyFor(this.#model, resource);
    const result = await runSimulation(
      {
        request: {
          principal: sessionArnOf(caller),
          action,
          resource: { resource, accountId: TWIN_ACCOUNT },
          contextVariables: { ...this.#context(caller, action), ...request.context },
        },
        identityPolicies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resourcePolicy === undefined ? {} : { resourcePolicy: policy(resourcePolicy) }),
      },
      {},
    );
    if (result.resultType === 'error')
      throw new AuthorizationInputError(`${action} on ${resource}: ${result.errors.message}`, {
        cause: result.errors,
      });
    return result;
  }

  /** Every distinct (role, action, resource) allowed so far, in the order first seen. */
  allowedRequests(): readonly AllowedRequest[] {
    return [...this.#allowed.values()];
  }

  /** The keys AWS puts in every request's context that the template's conditions read. */
  #context(caller: Caller, action: string): ContextValues {
    const now = new Date();
    const context: ContextValues = {
      'aws:SecureTransport': String(this.#secure),
      'aws:PrincipalArn': caller.role.arn,
      'aws:PrincipalAccount': TWIN_ACCOUNT,
      'aws:PrincipalType': 'AssumedRole',
      'aws:RequestedRegion': TWIN_REGION,
      'aws:CurrentTime': now.toISOString(),
      'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
    };
    // S3 adds the TLS version to its requests' context; the buckets deny anything older than 1.2.
    if (action.startsWith('s3:') && this.#secure) context['s3:TlsVersion'] = '1.3';
    // A service acting with the caller's credentials: AWS adds the service chain and marks the request
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-calledvia,
    // #condition-keys-viaawsservice). Services call each other over TLS.
    if (caller.calledVia !== undefined) {
      context['aws:CalledVia'] = [caller.calledVia];
      context['aws:CalledViaFirst'] = caller.calledVia;
      context['aws:CalledViaLast'] = caller.calledVia;
      context['aws:ViaAWSService'] = 'true';
      context['aws:SecureTransport'] = 'true';
      if (action.startsWith('s3:')) context['s3:TlsVersion'] = '1.3';
    }
    return context;
  }
}

/** The document with every condition on one of `keys` (lowercase: condition keys are case-insensitive) removed. */
function withoutConditionsOn(document: PolicyDocument, keys: ReadonlySet<string>): PolicyDocument {
  return {
    ...document,
    Statement: document.Statement.map(({ Condition, ...statement }) => {
      if (Condition === undefined) return statement;
      const kept = Object.entries(Condition).flatMap(([operator, values]) => {
        const left = Object.entries(values).filter(([key]) => !keys.has(key.toLowerCase()));
        return left.length === 0 ? [] : [[operator, Object.fromEntries(left)] as const];
      });
      return kept.length === 0 ? statement : { ...statement, Condition: Object.fromEntries(kept) };
    }),
  };
}
