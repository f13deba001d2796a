import { CfnRegistry, CfnSchema } from 'aws-cdk-lib/aws-eventschemas';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../events/bus.js';
import { eventRegistrySchemas } from '../../events/json-schema.js';

export interface EventSchemasProps {
  registryName: string;
}

/**
 * The event contracts in an EventBridge schema registry, generated from the same zod schemas that validate every
 * publish and every consumer: other teams download code bindings from the registry instead of reading ours
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-schema-registry.html). The registry takes
 * JSON Schema draft 4 for whole events, which `eventRegistrySchemas` produces.
 */
export class EventSchemas extends Construct {
  readonly registry: CfnRegistry;
  readonly schemas: CfnSchema[];

  constructor(scope: Construct, id: string, props: EventSchemasProps) {
    super(scope, id);
    this.registry = new CfnRegistry(this, 'Registry', {
      registryName: props.registryName,
      description: `Domain events of ${EVENT_SOURCE}, one schema per detail-type`,
    });
    this.schemas = Object.entries(eventRegistrySchemas(EVENT_SOURCE)).map(([detailType, content]) => {
      const schema = new CfnSchema(this, detailType, {
        registryName: props.registryName,
        schemaName: `${EVENT_SOURCE}@${detailType}`,
        type: 'JSONSchemaDraft4',
        content: JSON.stringify(content),
        description: `${detailType} events on the ${EVENT_SOURCE} bus`,
      });
      schema.node.addDependency(this.registry);
      return schema;
    });
  }
}
