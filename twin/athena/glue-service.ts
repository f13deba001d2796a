import * as z from 'zod';
import { type FrontResponse, jsonError, jsonResponse } from '../front/aws-error-responses.js';
import type { Caller, IamAuthorizer } from '../iam/iam-authorizer.js';
import { TWIN_ACCOUNT } from '../twin-account.js';
import { type GlueCatalog, gluePartitionResponse, glueResources, glueTableResponse } from './glue-catalog.js';

const DatabaseSchema = z.object({ Name: z.string() });
const TableSchema = z.object({ DatabaseName: z.string(), Name: z.string() });
const TablesSchema = z.object({ DatabaseName: z.string() });
const PartitionsSchema = z.object({
  DatabaseName: z.string(),
  TableName: z.string(),
  Expression: z.string().optional(),
});

const notFound = (message: string) => jsonError(400, 'EntityNotFoundException', message);

/**
 * The Glue Data Catalog API a caller reaches directly (JSON 1.1, `AWSGlue.<Operation>`): reads of the catalog Athena
 * fills. Each action is authorized on the object and its ancestors, as Glue does
 * (https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html).
 */
export class TwinGlue {
  constructor(
    private readonly catalog: GlueCatalog,
    private readonly authorizer: IamAuthorizer,
  ) {}

  async #denied(caller: Caller, action: string, database?: string, table?: string) {
    for (const resource of glueResources(database, table)) {
      const decision = await this.authorizer.authorize({ caller, action, resource });
      if (!decision.allowed) return jsonError(400, 'AccessDeniedException', decision.message);
    }
    return undefined;
  }

  async handle(caller: Caller, operation: string, input: unknown): Promise<FrontResponse> {
    try {
      return await this.#handle(caller, operation, input);
    } catch (error) {
      if (error instanceof z.ZodError) return jsonError(400, 'InvalidInputException', z.prettifyError(error));
      throw error;
    }
  }

  async #handle(caller: Caller, operation: string, input: unknown): Promise<FrontResponse> {
    switch (operation) {
      case 'GetDatabase': {
        const name = DatabaseSchema.parse(input).Name.toLowerCase();
        const denied = await this.#denied(caller, 'glue:GetDatabase', name);
        if (denied !== undefined) return denied;
        const database = this.catalog.database(name);
        if (database === undefined) return notFound(`Database ${name} not found.`);
        return jsonResponse({
          Database: {
            Name: database.name,
            CatalogId: TWIN_ACCOUNT,
            CreateTime: database.createTime.getTime() / 1000,
            ...(database.description === undefined ? {} : { Description: database.description }),
          },
        });
      }
      case 'GetTable': {
        const { DatabaseName, Name } = TableSchema.parse(input);
        const database = DatabaseName.toLowerCase();
        const denied = await this.#denied(caller, 'glue:GetTable', database, Name.toLowerCase());
        if (denied !== undefined) return denied;
        const table = this.catalog.table(database, Name);
        if (table === undefined) return notFound(`Table ${Name.toLowerCase()} not found.`);
        return jsonResponse({ Table: glueTableResponse(table) });
      }
      case 'GetTables': {
        const database = TablesSchema.parse(input).DatabaseName.toLowerCase();
        const denied = await this.#denied(caller, 'glue:GetTables', database);
        if (denied !== undefined) return denied;
        if (this.catalog.database(database) === undefined) return notFound(`Database ${database} not found.`);
        return jsonResponse({ TableList: this.catalog.tables(database).map(glueTableResponse) });
      }
      case 'GetPartitions': {
        const { DatabaseName, TableName, Expression } = PartitionsSchema.parse(input);
        if (Expression !== undefined)
          return jsonError(400, 'NotImplemented', 'the twin does not evaluate GetPartitions expressions');
        const database = DatabaseName.toLowerCase();
        const denied = await this.#denied(caller, 'glue:GetPartitions', database, TableName.toLowerCase());
        if (denied !== undefined) return denied;
        const table = this.catalog.table(database, TableName);
        if (table === undefined) return notFound(`Table ${TableName.toLowerCase()} not found.`);
        return jsonResponse({
          Partitions: this.catalog
            .partitions(database, table.name)
            .map((partition) => gluePartitionResponse(table, partition)),
        });
      }
      default:
        return jsonError(400, 'NotImplemented', `the twin does not emulate Glue ${operation}`);
    }
  }
}
