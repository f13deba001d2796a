import { TWIN_ACCOUNT, TWIN_PARTITION, TWIN_REGION, TWIN_URL_SUFFIX } from '../twin-account.js';
import { UnresolvableTemplateValueError } from './errors.js';
import {
  type PhysicalResource,
  physicalResource,
  type ServiceEndpoints,
  type TemplateResourceLike,
} from './physical-names.js';

/** A template value with every intrinsic function replaced by what a deployment would give. */
export type Resolved = string | number | boolean | null | Resolved[] | { [key: string]: Resolved };

export interface TemplateLike {
  Resources: Record<string, TemplateResourceLike>;
  Parameters?: Record<string, { Default?: unknown }>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Resolves `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select` and `Fn::Split` against the twin's account
 * (twin/twin-account.ts). Anything else (conditions, imports, AZs) is refused with the value that used it:
 * the twin only runs what it can resolve exactly.
 */
export class IntrinsicResolver {
  readonly #template: TemplateLike;
  readonly #stackName: string;
  readonly #physical = new Map<string, PhysicalResource>();
  readonly #pseudo: Readonly<Record<string, string>>;
  readonly #endpoints: ServiceEndpoints;

  constructor(template: TemplateLike, stackName: string, endpoints: ServiceEndpoints = {}) {
    this.#template = template;
    this.#stackName = stackName;
    this.#endpoints = endpoints;
    this.#pseudo = {
      'AWS::AccountId': TWIN_ACCOUNT,
      'AWS::Region': TWIN_REGION,
      'AWS::Partition': TWIN_PARTITION,
      'AWS::URLSuffix': TWIN_URL_SUFFIX,
      'AWS::StackName': stackName,
      'AWS::NoValue': '',
    };
  }

  /** The physical identity of a logical id (computed once, names resolved through this resolver). */
  physical(logicalId: string): PhysicalResource {
    const cached = this.#physical.get(logicalId);
    if (cached !== undefined) return cached;
    const resource = this.#template.Resources[logicalId];
    if (resource === undefined) throw new UnresolvableTemplateValueError(`no resource ${logicalId}`);
    const found = physicalResource(
      this.#stackName,
      logicalId,
      resource,
      (value) => this.string(value),
      this.#endpoints,
    );
    this.#physical.set(logicalId, found);
    return found;
  }

  /** Resolves a value that must come out as one string (an ARN, a name, an environment variable). */
  string(value: unknown): string {
    const resolved = this.resolve(value);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new UnresolvableTemplateValueError(`expected a string, got ${JSON.stringify(value)}`);
  }

  /** Resolves every intrinsic inside a value (a policy document, properties). */
  resolve(value: unknown): Resolved {
    if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean'
    )
      return value;
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (!isRecord(value)) throw new UnresolvableTemplateValueError(`not a template value: ${String(value)}`);
    const keys = Object.keys(value);
    const [only] = keys;
    if (keys.length === 1 && only !== undefined && (only === 'Ref' || only.startsWith('Fn::')))
      return this.#intrinsic(only, value[only]);
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.resolve(item)]));
  }

  #intrinsic(name: string, argument: unknown): Resolved {
    switch (name) {
      case 'Ref':
        return this.#ref(argument);
      case 'Fn::GetAtt':
        return this.#getAtt(argument);
      case 'Fn::Join': {
        if (!Array.isArray(argument) || typeof argument[0] !== 'string')
          throw new UnresolvableTemplateValueError(`bad Fn::Join ${JSON.stringify(argument)}`);
        const items = this.resolve(argument[1]);
        if (!Array.isArray(items)) throw new UnresolvableTemplateValueError('Fn::Join needs a list');
        return items.map((item) => this.string(item)).join(argument[0]);
      }
      case 'Fn::Sub':
        return this.#sub(argument);
      case 'Fn::Select': {
        const [index, list] = Array.isArray(argument) ? argument : [];
        const items = this.resolve(list);
        const picked = Array.isArray(items) ? items[Number(this.string(index))] : undefined;
        if (picked === undefined)
          throw new UnresolvableTemplateValueError(`bad Fn::Select ${JSON.stringify(argument)}`);
        return picked;
      }
      case 'Fn::Split': {
        const [delimiter, source] = Array.isArray(argument) ? argument : [];
        if (typeof delimiter !== 'string')
          throw new UnresolvableTemplateValueError('Fn::Split needs a delimiter');
        return this.string(source).split(delimiter);
      }
      default:
        throw new UnresolvableTemplateValueError(
          `the twin does not resolve ${name}: ${JSON.stringify(argument)}`,
        );
    }
  }

  #ref(target: unknown): string {
    if (typeof target !== 'string')
      throw new UnresolvableTemplateValueError(`bad Ref ${JSON.stringify(target)}`);
    const pseudo = this.#pseudo[target];
    if (pseudo !== undefined) return pseudo;
    const parameter = this.#template.Parameters?.[target];
    if (parameter !== undefined) return this.string(parameter.Default);
    return this.physical(target).ref;
  }

  #getAtt(argument: unknown): string {
    const [logicalId, attribute] =
      typeof argument === 'string' ? argument.split('.', 2) : Array.isArray(argument) ? argument : [];
    if (typeof logicalId !== 'string' || typeof attribute !== 'string')
      throw new UnresolvableTemplateValueError(`bad Fn::GetAtt ${JSON.stringify(argument)}`);
    const value = this.physical(logicalId).attributes[attribute];
    if (value === undefined)
      throw new UnresolvableTemplateValueError(`the twin does not know ${logicalId}.${attribute}`);
    return value;
  }

  /** `Fn::Sub` in both forms; `${!Literal}` stays `${Literal}` as CloudFormation documents. */
  #sub(argument: unknown): string {
    const [text, variables] =
      typeof argument === 'string' ? [argument, {}] : Array.isArray(argument) ? argument : [];
    if (typeof text !== 'string' || !isRecord(variables))
      throw new UnresolvableTemplateValueError(`bad Fn::Sub ${JSON.stringify(argument)}`);
    return text.replace(/\$\{([^}]+)\}/g, (_match, expression: string) => {
      if (expression.startsWith('!')) return `\${${expression.slice(1)}}`;
      if (expression in variables) return this.string(variables[expression]);
      if (expression.includes('.')) return this.#getAtt(expression);
      return this.#ref(expression);
    });
  }
}
