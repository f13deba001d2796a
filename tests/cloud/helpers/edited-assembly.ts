import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import type { PolicyStatement } from '../../../twin/template/policy-document.js';

const ManifestSchema = z.object({
  artifacts: z.record(
    z.string(),
    z.object({ type: z.string(), properties: z.object({ templateFile: z.string() }).partial().optional() }),
  ),
});
const StatementSchema = z.looseObject({ Action: z.union([z.string(), z.array(z.string())]).optional() });
const PolicySchema = z.looseObject({
  Type: z.literal('AWS::IAM::Policy'),
  Properties: z.looseObject({
    Roles: z.array(z.unknown()),
    PolicyDocument: z.looseObject({ Statement: z.array(StatementSchema) }),
  }),
});
const TemplateSchema = z.looseObject({ Resources: z.record(z.string(), z.unknown()) });
type Template = z.infer<typeof TemplateSchema>;

/**
 * A copy of a cloud assembly (bundles included) whose stack template `edit` changed: a deployment as a hand edit
 * or a CDK change could leave it, for rehearsing a broken one. The copy sits in the temporary directory.
 */
export function editedAssembly(assemblyDir: string, edit: (template: Template) => void): string {
  const copy = mkdtempSync(path.join(tmpdir(), 'fleet-etl-edited-'));
  cpSync(assemblyDir, copy, { recursive: true });
  const manifest = ManifestSchema.parse(JSON.parse(readFileSync(path.join(copy, 'manifest.json'), 'utf8')));
  const stacks = Object.values(manifest.artifacts).filter((a) => a.type === 'aws:cloudformation:stack');
  const templateFile = stacks[0]?.properties?.templateFile;
  if (stacks.length !== 1 || templateFile === undefined)
    throw new Error(`${assemblyDir}: expected one stack`);
  const file = path.join(copy, templateFile);
  const template = TemplateSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  edit(template);
  writeFileSync(file, JSON.stringify(template));
  return copy;
}

type Statement = z.infer<typeof StatementSchema>;

/**
 * The statement lists of the identity policies (AWS::IAM::Policy) attached to the role whose logical id starts
 * with `rolePrefix`: the template's own arrays, so that changing them changes the template (zod's parse copies).
 */
function statementsOfRole(template: Template, rolePrefix: string): Statement[][] {
  const lists = Object.values(template.Resources).flatMap((resource) => {
    const policy = PolicySchema.safeParse(resource);
    if (!policy.success) return [];
    const attached = policy.data.Properties.Roles.some(
      (role) => z.object({ Ref: z.string().startsWith(rolePrefix) }).safeParse(role).success,
    );
    if (!attached) return [];
    // The template's own object, whose shape the parse above checked: zod's result is a copy.
    const raw = resource as { Properties: { PolicyDocument: { Statement: Statement[] } } };
    return [raw.Properties.PolicyDocument.Statement];
  });
  if (lists.length === 0) throw new Error(`no policy of a role ${rolePrefix}… in the template`);
  return lists;
}

/** Forgets a grant: the action leaves every statement of the role's policies (a statement left empty goes). */
export function withoutAction(rolePrefix: string, action: string): (template: Template) => void {
  return (template) => {
    let removed = 0;
    for (const statements of statementsOfRole(template, rolePrefix)) {
      const kept = statements.flatMap((statement) => {
        const actions = [statement.Action ?? []].flat();
        const others = actions.filter((a) => a !== action);
        removed += actions.length - others.length;
        if (others.length === actions.length) return [statement];
        return others.length === 0 ? [] : [{ ...statement, Action: others }];
      });
      statements.splice(0, statements.length, ...kept);
    }
    if (removed === 0) throw new Error(`no statement of ${rolePrefix}… grants ${action}`);
  };
}

/** Adds a statement to the role's first policy, as a fix would. */
export function withStatement(rolePrefix: string, statement: PolicyStatement): (template: Template) => void {
  return (template) => {
    statementsOfRole(template, rolePrefix)[0]?.push(statement);
  };
}

const FunctionSchema = z.looseObject({
  Type: z.literal('AWS::Lambda::Function'),
  Properties: z.looseObject({
    Environment: z.looseObject({ Variables: z.record(z.string(), z.unknown()) }).optional(),
  }),
});

/** Sets an environment variable of the function whose logical id starts with `functionPrefix`. */
export function withVariable(
  functionPrefix: string,
  name: string,
  value: string,
): (template: Template) => void {
  return (template) => {
    const [id, resource] =
      Object.entries(template.Resources).find(
        ([logicalId, r]) => logicalId.startsWith(functionPrefix) && FunctionSchema.safeParse(r).success,
      ) ?? [];
    if (id === undefined) throw new Error(`no function ${functionPrefix}… in the template`);
    // The template's own object, whose shape was checked: zod's result is a copy.
    const fn = resource as { Properties: { Environment?: { Variables: Record<string, unknown> } } };
    fn.Properties.Environment = { Variables: { ...fn.Properties.Environment?.Variables, [name]: value } };
  };
}
