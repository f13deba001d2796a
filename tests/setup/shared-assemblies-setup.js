import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// One folder per jest run for the cloud assemblies that test files share (tests/cloud/helpers/twin-stack.ts): the
// first file that needs a variant synthesizes it, the others load it instead of bundling the same functions again.
// A folder per run, never reused, so that an assembly is never older than the sources of the run that reads it.
// Workers start after this hook, so they inherit the variable; the teardown removes the folder.
// The name is also in tests/cloud/helpers/twin-stack.ts (SHARED_ASSEMBLIES).
export default function createSharedAssemblies() {
  process.env.FLEET_ETL_TEST_ASSEMBLIES = mkdtempSync(path.join(tmpdir(), 'fleet-etl-test-assemblies-'));
}
