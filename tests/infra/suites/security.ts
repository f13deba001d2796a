import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { isClaimChecked } from '../../../events/claim-check.js';
import { UNSCOPED_ACTIONS } from '../../../infra/constructs/fleet-function.js';
import { flattenReference } from '../../../infra/nag.js';
import {
  type Resource,
  resourcesNeeded,
  type ServiceDeclaration,
  type ServiceName,
  serviceNames,
  type Trigger,
  topology,
} from '../../../services/topology.js';
import type { Synthesized } from '../helpers/synth.js';
import {
  asList,
  type CfnResource,
  identityStatements,
  idOf,
  onlyResource,
  type PolicyStatementJson,
  propertiesOf,
  resourcePolicyStatements,
  resourcesOf,
} from '../helpers/template.js';

/** The detail-types a service's rule receives that may come by reference (events/claim-check.ts). */
function consumedByReference(service: ServiceName): string[] {
  const trigger: Trigger = topology.services[service].trigger;
  if (trigger.kind !== 'rule') return [];
  const detailTypes = trigger.pattern['detail-type'];
  return (Array.isArray(detailTypes) ? detailTypes : []).filter(
    (t): t is string => typeof t === 'string' && isClaimChecked(t),
  );
}

/** Least privilege and cdk-nag over a synthesized stage (see tests/infra/default-stage.test.ts). */
export function securitySuite(stage: () => Synthesized): void {
  /** The services the issue names; KMS, DynamoDB, Logs and SNS are held to the same rule. */
  const SCOPED_SERVICES = [
    's3',
    'sqs',
    'events',
    'secretsmanager',
    'kms',
    'glue',
    'athena',
    'dynamodb',
    'logs',
    'sns',
  ];

  describe('least privilege', () => {
    it('grants nothing on Resource "*" but the documented unscoped actions', () => {
      const unscoped = identityStatements(stage().template).filter(({ statement }) =>
        asList(statement.Resource).some((resource) => resource === '*'),
      );
      expect(unscoped.length).toBeGreaterThan(0);
      for (const { owner, statement } of unscoped) {
        for (const action of asList(statement.Action)) {
          expect({ owner, action, documented: Object.hasOwn(UNSCOPED_ACTIONS, action) }).toEqual({
            owner,
            action,
            documented: true,
          });
        }
      }
    });

    it('never grants an action of S3, SQS, EventBridge, Secrets Manager, KMS, Glue or Athena on "*"', () => {
      for (const { owner, statement } of identityStatements(stage().template)) {
        const services = asList(statement.Action).map((action) => action.split(':')[0]);
        if (services.some((service) => service !== undefined && SCOPED_SERVICES.includes(service))) {
          expect({
            owner,
            resources: asList(statement.Resource).filter((resource) => resource === '*'),
          }).toEqual({
            owner,
            resources: [],
          });
        }
      }
    });

    it('never grants a whole service or everything', () => {
      for (const { statement } of identityStatements(stage().template)) {
        for (const action of asList(statement.Action)) expect(action).not.toMatch(/^\*$|:\*$/);
      }
    });

    it('lets no anonymous principal in through a bucket, queue or topic policy', () => {
      for (const { owner, statement } of resourcePolicyStatements(stage().template)) {
        if (statement.Effect !== 'Allow') continue;
        expect({ owner, principal: JSON.stringify(statement.Principal) }).not.toEqual({
          owner,
          principal: expect.stringMatching(/"\*"/),
        });
      }
    });

    it('lets AWS services use the key only under a condition', () => {
      const [, key] = onlyResource(stage().template, 'AWS::KMS::Key');
      const statements = (
        propertiesOf(key).KeyPolicy as { Statement: { Principal: unknown; Condition?: unknown }[] }
      ).Statement;
      const forServices = statements.filter((statement) =>
        JSON.stringify(statement.Principal).includes('"Service"'),
      );
      expect(forServices.length).toBeGreaterThan(0);
      for (const statement of forServices) expect(statement.Condition).toBeDefined();
    });

    it('gives each function the buckets its topology needs and nothing else', () => {
      const { stack, template } = stage();
      const buckets: Record<string, string> = {
        rawBucket: idOf(stack.lake.raw),
        warehouseBucket: idOf(stack.lake.warehouse),
        resultsBucket: idOf(stack.lake.results),
      };
      for (const service of serviceNames) {
        const fn = stack.services.functions.get(service);
        if (fn === undefined) throw new Error(service);
        const role = idOf(fn.executionRole);
        const policy = JSON.stringify(
          identityStatements(template)
            .filter(({ owner }) => owner.startsWith(role.replace(/[0-9A-F]{8}$/, '')))
            .map(({ statement }) => statement),
        );
        const needs = resourcesNeeded(topology.services[service]);
        for (const [need, bucketId] of Object.entries(buckets)) {
          expect({ service, need, granted: policy.includes(`"${bucketId}"`) }).toEqual({
            service,
            need,
            // A consumer of a detail-type sent by reference also reads its stored details (decision 60).
            granted:
              needs.includes(need as Resource) ||
              (need === 'resultsBucket' && consumedByReference(service).length > 0),
          });
        }
      }
    });

    it('lets a consumer that needs the results bucket only for details sent by reference read only those', () => {
      const { stack, template } = stage();
      const results = idOf(stack.lake.results);
      const readers = serviceNames.filter(
        (service) =>
          consumedByReference(service).length > 0 &&
          !resourcesNeeded(topology.services[service]).includes('resultsBucket'),
      );
      expect(readers).toEqual(['completionTracker']);
      for (const service of readers) {
        const fn = stack.services.functions.get(service);
        if (fn === undefined) throw new Error(service);
        const role = idOf(fn.executionRole);
        const onResults = identityStatements(template)
          .filter(({ owner }) => owner.startsWith(role.replace(/[0-9A-F]{8}$/, '')))
          .map(({ statement }) => statement)
          .filter((statement) => JSON.stringify(statement.Resource).includes(`"${results}"`));
        const objects = onResults
          .flatMap((statement) => asList(statement.Resource))
          .map((resource) => flattenReference(resource))
          .filter((resource) => resource.includes('/'));
        expect(objects).toEqual(
          consumedByReference(service).map((t) => `<${results}.Arn>/event-details/${t}/*`),
        );
        const actions = onResults.flatMap((statement) => asList(statement.Action));
        // GetObject of those objects, nothing of the bucket itself.
        expect(actions).toEqual(['s3:GetObject']);
        const environment = template.toJSON().Resources[idOf(fn)].Properties.Environment.Variables;
        expect(environment.RESULTS_BUCKET).toEqual({ Ref: results });
      }
    });

    it('gives the query runner, and no other function, the Glue actions of its statements, on its one database', () => {
      const { stack, template } = stage();
      const database = stack.analytics.databaseName;
      // What Athena asks Glue for, by statement (https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html):
      // CREATE DATABASE; CREATE TABLE, which CREATE EXTERNAL TABLE is; and adding partitions, as MSCK REPAIR
      // TABLE does and as INSERT INTO a partitioned table does for the partitions it writes (decision 76).
      const needed = {
        'CREATE DATABASE IF NOT EXISTS': ['glue:GetDatabase', 'glue:CreateDatabase'],
        'CREATE EXTERNAL TABLE IF NOT EXISTS': ['glue:GetDatabase', 'glue:GetTable', 'glue:CreateTable'],
        'INSERT INTO a partitioned table': [
          'glue:GetTable',
          'glue:GetPartitions',
          'glue:GetPartition',
          'glue:BatchCreatePartition',
        ],
      };
      const roleOf = (service: ServiceName) => {
        const fn = stack.services.functions.get(service);
        if (fn === undefined) throw new Error(service);
        return idOf(fn.executionRole).replace(/[0-9A-F]{8}$/, '');
      };
      const glueStatements = (service: ServiceName) =>
        identityStatements(template)
          .filter(({ owner }) => owner.startsWith(roleOf(service)))
          .map(({ statement }) => statement)
          .filter((statement) => asList(statement.Action).some((action) => action.startsWith('glue:')));
      for (const service of serviceNames.filter((name) => name !== 'queryRunner')) {
        expect({ service, glue: glueStatements(service) }).toEqual({ service, glue: [] });
      }
      const granted = glueStatements('queryRunner');
      const actions = new Set(granted.flatMap((statement) => asList(statement.Action)));
      for (const [statement, required] of Object.entries(needed)) {
        expect({ statement, missing: required.filter((action) => !actions.has(action)) }).toEqual({
          statement,
          missing: [],
        });
      }
      const resources = granted
        .flatMap((statement) => asList(statement.Resource))
        .map((resource) => flattenReference(resource));
      expect(
        resources.map((arn) => arn.replace(/^.*:glue:<AWS::Region>:<AWS::AccountId>:/, '')).sort(),
      ).toEqual(['catalog', `database/${database}`, `table/${database}/*`]);
    });

    it('lets only the completion tracker write the run ledger; the report may only query it', () => {
      const { stack, template } = stage();
      const table = `"${idOf(stack.ledger.table)}"`;
      for (const service of serviceNames) {
        const fn = stack.services.functions.get(service);
        if (fn === undefined) throw new Error(service);
        const role = idOf(fn.executionRole).replace(/[0-9A-F]{8}$/, '');
        const actions = identityStatements(template)
          .filter(
            ({ owner, statement }) =>
              owner.startsWith(role) && JSON.stringify(statement.Resource).includes(table),
          )
          .flatMap(({ statement }) => asList(statement.Action))
          .sort();
        const needs: readonly Resource[] = topology.services[service].needs;
        expect({ service, actions }).toEqual({
          service,
          actions: needs.includes('runLedger')
            ? expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'])
            : needs.includes('runProgress')
              ? ['dynamodb:Query']
              : [],
        });
      }
      expect(
        serviceNames.filter((s) => (topology.services[s].needs as readonly Resource[]).includes('runLedger')),
      ).toEqual(['completionTracker']);
      expect(
        serviceNames.filter((s) =>
          (topology.services[s].needs as readonly Resource[]).includes('runProgress'),
        ),
      ).toEqual(['report']);
    });

    it('lets each function put on the bus only the detail-types its topology entry publishes', () => {
      const { stack, template } = stage();
      const bus = `"${idOf(stack.bus.bus)}"`;
      for (const service of serviceNames) {
        const fn = stack.services.functions.get(service);
        if (fn === undefined) throw new Error(service);
        const role = idOf(fn.executionRole).replace(/[0-9A-F]{8}$/, '');
        const putEvents = identityStatements(template)
          .filter(({ owner }) => owner.startsWith(role))
          .map(({ statement }) => statement)
          .filter((statement) => asList(statement.Action).some((action) => action.startsWith('events:')));
        const publishes: readonly string[] = topology.services[service].publishes;
        expect({ service, putEvents }).toEqual({
          service,
          putEvents:
            publishes.length === 0
              ? []
              : [
                  {
                    Effect: 'Allow',
                    Action: 'events:PutEvents',
                    Resource: expect.anything(),
                    // Every entry of a call must carry one of them, and a call without the key is refused.
                    Condition: {
                      'ForAllValues:StringEquals': { 'events:detail-type': [...publishes] },
                      Null: { 'events:detail-type': 'false' },
                    },
                  },
                ],
        });
        for (const statement of putEvents) expect(JSON.stringify(statement.Resource)).toContain(bus);
      }
    });

    it('lets only the warehouse writer delete objects', () => {
      for (const service of serviceNames) {
        const declaration: ServiceDeclaration = topology.services[service];
        for (const [bucket, mode] of Object.entries(declaration.buckets ?? {})) {
          expect({ service, bucket, deletes: mode === 'readWriteDelete' }).toEqual({
            service,
            bucket,
            deletes: service === 'queryRunner' && bucket === 'warehouseBucket',
          });
        }
      }
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    /** Every acknowledgement recorded in the tree: rule id and reason, per construct path. */
    function acknowledgements(): { path: string; id: string; reason: string }[] {
      const found: { path: string; id: string; reason: string }[] = [];
      for (const construct of stage().stack.node.findAll()) {
        for (const entry of construct.node.metadata) {
          if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
          for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
            found.push({ path: construct.node.path, id, reason });
          }
        }
      }
      return found;
    }

    it('reports no finding that is not acknowledged', () => {
      // The synth in beforeAll would have thrown on an unacknowledged error; warnings would be in the report.
      const report = JSON.parse(
        readFileSync(path.join(stage().assemblyDir, 'validation-report.json'), 'utf8'),
      );
      const violations = (report.pluginReports as { violations?: unknown[] }[]).flatMap(
        (pluginReport) => pluginReport.violations ?? [],
      );
      expect(violations).toEqual([]);
    });

    it('acknowledges each finding with a reason a reviewer can check', () => {
      const all = acknowledgements();
      expect(all.length).toBeGreaterThan(0);
      for (const { id, reason } of all) {
        expect(id).toMatch(/^AwsSolutions::AwsSolutions-[A-Z0-9]+(\[.+\])?$/);
        expect(reason.length).toBeGreaterThan(60);
      }
    });

    it('ran over this stack and wrote each acknowledgement into the template for reviewers', () => {
      const suppressed = Object.values(
        stage().template.toJSON().Resources as Record<string, CfnResource>,
      ).flatMap((resource) => {
        const metadata = resource.Metadata?.cdk_nag as {
          rules_to_suppress?: { id: string; reason: string }[];
        };
        return metadata?.rules_to_suppress ?? [];
      });
      expect(suppressed.length).toBeGreaterThan(0);
      for (const { reason } of suppressed) expect(reason.length).toBeGreaterThan(60);
    });

    it('acknowledges exactly the wildcards each role has: no finding left out, no stale acknowledgement', () => {
      const { stack, template } = stage();
      const policies = resourcesOf(template, 'AWS::IAM::Policy');
      for (const fn of stack.services.functions.values()) {
        const roleId = idOf(fn.executionRole);
        const findings = new Set<string>();
        for (const [, policy] of policies) {
          if (!JSON.stringify(propertiesOf(policy).Roles).includes(`"${roleId}"`)) continue;
          const document = propertiesOf(policy).PolicyDocument as { Statement: PolicyStatementJson[] };
          for (const statement of document.Statement) {
            if (statement.Effect !== 'Allow') continue;
            for (const action of asList(statement.Action))
              if (action.includes('*')) findings.add(`Action::${action}`);
            for (const resource of asList(statement.Resource)) {
              const flat = flattenReference(resource);
              if (flat.includes('*')) findings.add(`Resource::${flat}`);
            }
          }
        }
        const acknowledged = acknowledgements()
          .filter(({ path: where }) => where === fn.executionRole.node.path)
          .map(({ id }) => /^AwsSolutions::AwsSolutions-IAM5\[(.+)\]$/.exec(id)?.[1])
          .filter((finding): finding is string => finding !== undefined);
        expect({ role: fn.node.id, findings: [...new Set(acknowledged)].sort() }).toEqual({
          role: fn.node.id,
          findings: [...findings].sort(),
        });
      }
    });

    it('acknowledges Resource "*" only for the X-Ray statement of the function roles', () => {
      const star = acknowledgements().filter(({ id }) => id.endsWith('[Resource::*]'));
      expect(star.map(({ path: where }) => where).sort()).toEqual(
        [...stage().stack.services.functions.values()].map((fn) => fn.executionRole.node.path).sort(),
      );
    });
  });
}
