import type { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledgeKeyGrant } from '../nag.js';
import type { FleetFunction } from './fleet-function.js';

export interface RunLedgerProps {
  key: IKey;
  removalPolicy: RemovalPolicy;
  /** Items carrying this epoch-seconds attribute expire; unset, nothing expires. */
  timeToLiveAttribute?: string;
}

/**
 * The calls of services/adapters/aws/dynamodb/run-ledger.ts: conditional puts, updates and deletes, also inside
 * TransactWriteItems (with a ConditionCheck), which IAM authorizes per contained action
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html); strongly
 * consistent queries of one run's items; BatchWriteItem deletes when a run is reset. No Scan, no GetItem.
 */
const LEDGER_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:Query',
  'dynamodb:BatchWriteItem',
];

/**
 * The run ledger: one table keyed by `pk` (the run id) and `sk` (PLAN#, PAGE#, DATASET#, DRAINED), on demand,
 * encrypted with the stage's key, with point-in-time recovery.
 */
export class RunLedger extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: RunLedgerProps) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: false,
      removalPolicy: props.removalPolicy,
      ...(props.timeToLiveAttribute === undefined ? {} : { timeToLiveAttribute: props.timeToLiveAttribute }),
    });
  }

  /** Exactly the ledger adapter's calls on this table, and the key to read and write its items. */
  grantLedger(fn: FleetFunction): void {
    this.table.grant(fn, ...LEDGER_ACTIONS);
    // Table.grant leaves the key to the caller (it is not one of the grant*Data helpers). CDK's encrypt/decrypt
    // group, as its grantReadWriteData gives: the cloud twin does not check DynamoDB's use of the table key, so
    // it cannot show which of these DynamoDB needs of the caller, and it lists them unused.
    this.table.encryptionKey?.grantEncryptDecrypt(fn);
    acknowledgeKeyGrant(fn.executionRole);
  }

  /**
   * The ledger adapter's `progress`, and nothing else: strongly consistent queries of one run's items, and the key
   * to decrypt them. For a reader of runs (the report of a failed night), which must not change the ledger.
   */
  grantProgressRead(fn: FleetFunction): void {
    this.table.grant(fn, 'dynamodb:Query');
    this.table.encryptionKey?.grantDecrypt(fn);
  }
}
