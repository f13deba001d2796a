import type { DuckDBConnection } from '@duckdb/node-api';
import type { StatementResult } from '../../../ports/query-engine.js';
import type {
  BridgePlan,
  CreateExternalTablePlan,
  CreateTableAsPlan,
  DropTablePlan,
  InsertPlan,
} from './athena-bridge.js';
import { AthenaRuleError } from './bridge-errors.js';
import { assertWritable, type SqlSandbox } from './duckdb-sandbox.js';
import type { LocalCatalog } from './local-catalog.js';
import { localPathOf } from './local-locations.js';
import { toResultSet } from './result-set.js';
import { displayName, qualified, type TableName } from './sql-literals.js';
import type { TableDefinition } from './table-definition.js';
import type { ViewRefresher } from './table-views.js';
import {
  clearStaging,
  deleteRunFiles,
  filesBelow,
  MAX_PARTITIONS_PER_WRITE,
  writeRunFiles,
} from './table-writer.js';
import { migrateDeclaredTable } from './warehouse-migration.js';
import { ctasDefinition, describeQuery, insertSelect } from './write-rules.js';

/** Carries out bridge plans against DuckDB, the local catalog and the table folders. */
export class PlanExecutor {
  constructor(
    private readonly connection: DuckDBConnection,
    private readonly catalog: LocalCatalog,
    private readonly views: ViewRefresher,
    private readonly sandbox?: SqlSandbox,
    private readonly notice?: (line: string) => void,
  ) {}

  async run(plan: BridgePlan, runId: string): Promise<StatementResult['result']> {
    if (plan.kind === 'noop') {
      return undefined;
    }
    // Raw pages land between statements, and a location may have lost its last file: views first.
    await this.views.refreshAll();
    switch (plan.kind) {
      case 'ddl':
        await this.connection.run(plan.sql);
        return undefined;
      case 'query':
        return toResultSet(await this.connection.runAndReadAll(plan.sql));
      case 'createExternalTable':
        await this.createExternalTable(plan);
        return undefined;
      case 'createTableAs':
        await this.createTableAs(plan, runId);
        return undefined;
      case 'insert':
        await this.insert(plan, runId);
        return undefined;
      case 'dropTable':
        await this.dropTable(plan);
        return undefined;
    }
  }

  /** True when the table exists and the statement said IF NOT EXISTS; Athena's error when it did not. */
  private async skipExisting(plan: CreateExternalTablePlan | CreateTableAsPlan): Promise<boolean> {
    if (!(await this.catalog.get(plan.table))) {
      return false;
    }
    if (plan.ifNotExists) {
      return true;
    }
    throw new AthenaRuleError(`AlreadyExistsException: table ${displayName(plan.table)} already exists`);
  }

  private async createExternalTable(plan: CreateExternalTablePlan): Promise<void> {
    if (await this.skipExisting(plan)) {
      return;
    }
    // Refuses an s3:// location here rather than at the first query.
    localPathOf(plan.definition.location);
    // A table declared again over files of an older layout (the catalog was lost): moved first.
    await migrateDeclaredTable(this.connection, plan.table, plan.definition, {
      sandbox: this.sandbox,
      notice: this.notice,
    });
    await this.register(plan.table, plan.definition);
  }

  private async createTableAs(plan: CreateTableAsPlan, runId: string): Promise<void> {
    if (await this.skipExisting(plan)) {
      return;
    }
    assertWritable(this.sandbox, localPathOf(plan.location), `CTAS ${displayName(plan.table)}`);
    const definition = ctasDefinition(plan, await describeQuery(this.connection, plan.query));
    // Athena never writes a CTAS into a location that holds data, and never deletes data to make room.
    if ((await filesBelow(localPathOf(plan.location))).length > 0) {
      throw new AthenaRuleError(
        `HIVE_PATH_ALREADY_EXISTS: CTAS ${displayName(plan.table)}: ${plan.location} is not empty; ` +
          'delete its files or drop the WITH clause location',
      );
    }
    if (plan.withData) {
      await clearStaging(definition);
      try {
        await writeRunFiles(this.connection, definition, plan.query, runId, MAX_PARTITIONS_PER_WRITE);
      } catch (error) {
        await deleteRunFiles(definition, runId);
        throw error;
      }
    }
    await this.register(plan.table, definition);
  }

  private async insert(plan: InsertPlan, runId: string): Promise<void> {
    const definition = await this.writableTable(plan);
    assertWritable(this.sandbox, localPathOf(definition.location), `INSERT INTO ${displayName(plan.table)}`);
    const source = await describeQuery(this.connection, plan.query);
    const select = insertSelect(plan.table, definition, plan.query, source.length, plan.columns);
    // See table-writer.ts: the run's earlier files go first, so a re-run replaces rather than appends.
    await clearStaging(definition);
    await deleteRunFiles(definition, runId);
    await this.views.refresh({ table: plan.table, definition });
    await writeRunFiles(this.connection, definition, select, runId);
    await this.views.refresh({ table: plan.table, definition });
  }

  private async writableTable(plan: InsertPlan): Promise<TableDefinition> {
    const definition = await this.catalog.get(plan.table);
    if (!definition) {
      throw new AthenaRuleError(`TABLE_NOT_FOUND: ${displayName(plan.table)}`);
    }
    if (definition.format !== 'parquet') {
      throw new AthenaRuleError(
        `INSERT INTO ${displayName(plan.table)}: the local engine writes Parquet tables only`,
      );
    }
    return definition;
  }

  private async dropTable(plan: DropTablePlan): Promise<void> {
    if (!(await this.catalog.get(plan.table))) {
      if (plan.ifExists) {
        return;
      }
      throw new AthenaRuleError(`TABLE_NOT_FOUND: ${displayName(plan.table)}`);
    }
    // As in Athena, dropping an external table forgets it; its files stay where they are.
    await this.connection.run(`DROP VIEW IF EXISTS ${qualified(plan.table)}`);
    await this.catalog.remove(plan.table);
    this.views.forget(plan.table);
  }

  private async register(table: TableName, definition: TableDefinition): Promise<void> {
    // The view is created before the catalog entry so that a missing database fails without a trace.
    this.views.forget(table);
    await this.views.refresh({ table, definition });
    await this.catalog.put(table, definition);
  }
}
