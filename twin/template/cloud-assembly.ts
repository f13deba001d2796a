import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { InvalidTemplateError } from './errors.js';

/** The parts of `cdk.out/manifest.json` the twin reads (https://github.com/aws/aws-cdk-cli, cloud-assembly-schema). */
const ManifestSchema = z.object({
  artifacts: z.record(
    z.string(),
    z.object({
      type: z.string(),
      properties: z.object({ templateFile: z.string().optional(), file: z.string().optional() }).optional(),
    }),
  ),
});

const TemplateSchema = z.object({
  Resources: z.record(
    z.string(),
    z.object({
      Type: z.string(),
      Properties: z.record(z.string(), z.unknown()).optional(),
      Metadata: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  Parameters: z.record(z.string(), z.object({ Default: z.unknown().optional() })).optional(),
});
export type StackTemplate = z.infer<typeof TemplateSchema>;

/** The asset manifest (`<stack>.assets.json`): where each uploaded file asset comes from in the assembly. */
const AssetManifestSchema = z.object({
  files: z
    .record(
      z.string(),
      z.object({
        source: z.object({ path: z.string().optional() }),
        destinations: z.record(z.string(), z.object({ objectKey: z.string() })),
      }),
    )
    .default({}),
});

/** One stack of a cloud assembly: its template and the folder its assets (the function bundles) sit in. */
export interface AssemblyStack {
  stackName: string;
  directory: string;
  template: StackTemplate;
  /** The folder of each file asset by the S3 object key the template's `Code.S3Key` names. */
  assetFolders: ReadonlyMap<string, string>;
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

/**
 * Reads a stack of a cloud assembly (`cdk.out`, or the directory `app.synth()` returns). With several stacks,
 * `stackName` picks one; the twin runs exactly one stack, as one stage deploys one.
 */
export function readAssemblyStack(directory: string, stackName?: string): AssemblyStack {
  const manifestFile = path.join(directory, 'manifest.json');
  if (!existsSync(manifestFile))
    throw new InvalidTemplateError(
      `${directory} is not a cloud assembly (no manifest.json); run npx cdk synth`,
    );
  const manifest = ManifestSchema.safeParse(readJson(manifestFile));
  if (!manifest.success)
    throw new InvalidTemplateError(`${manifestFile}: ${z.prettifyError(manifest.error)}`, {
      cause: manifest.error,
    });
  const stacks = Object.entries(manifest.data.artifacts).filter(
    ([name, artifact]) =>
      artifact.type === 'aws:cloudformation:stack' && (stackName === undefined || name === stackName),
  );
  const [first, ...others] = stacks;
  if (first === undefined || others.length > 0) {
    throw new InvalidTemplateError(
      `${directory}: expected one stack${stackName === undefined ? '' : ` named ${stackName}`}, found ${stacks.length}`,
    );
  }
  const [name, artifact] = first;
  const templateFile = artifact.properties?.templateFile;
  if (templateFile === undefined)
    throw new InvalidTemplateError(`${name}: the manifest names no template file`);
  const template = TemplateSchema.safeParse(readJson(path.join(directory, templateFile)));
  if (!template.success)
    throw new InvalidTemplateError(`${templateFile}: ${z.prettifyError(template.error)}`, {
      cause: template.error,
    });
  return {
    stackName: name,
    directory,
    template: template.data,
    assetFolders: assetFolders(directory, manifest.data),
  };
}

function assetFolders(directory: string, manifest: z.infer<typeof ManifestSchema>): Map<string, string> {
  const folders = new Map<string, string>();
  for (const artifact of Object.values(manifest.artifacts)) {
    const file = artifact.properties?.file;
    if (artifact.type !== 'cdk:asset-manifest' || file === undefined) continue;
    const assets = AssetManifestSchema.safeParse(readJson(path.join(directory, file)));
    if (!assets.success)
      throw new InvalidTemplateError(`${file}: ${z.prettifyError(assets.error)}`, { cause: assets.error });
    for (const asset of Object.values(assets.data.files)) {
      if (asset.source.path === undefined) continue;
      for (const destination of Object.values(asset.destinations))
        folders.set(destination.objectKey, path.resolve(directory, asset.source.path));
    }
  }
  return folders;
}
