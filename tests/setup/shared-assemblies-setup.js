import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// One folder per jest run, the run's temporary folder: TMPDIR points into it, so every folder a test or a process it
// starts makes under os.tmpdir() (state folders, archives, stores, cdk.out) lands there, and the teardown removes it
// whole. Tests that leave their folders behind (a failed test, a killed child) then leave nothing after the run; a
// developer's /tmp had gathered thousands of them. Workers start after this hook, so they inherit the variables.
//
// Inside it, the cloud assemblies that test files share (tests/cloud/helpers/twin-stack.ts): the first file that
// needs a variant synthesizes it, the others load it instead of bundling the same functions again. A folder per run,
// never reused, so that an assembly is never older than the sources of the run that reads it.
// The name is also in tests/cloud/helpers/twin-stack.ts (SHARED_ASSEMBLIES).
export default function createRunFolders() {
  const run = mkdtempSync(path.join(tmpdir(), 'fleet-etl-test-run-'));
  process.env.FLEET_ETL_TEST_RUN_DIR = run;
  process.env.TMPDIR = run;
  const assemblies = path.join(run, 'shared-assemblies');
  mkdirSync(assemblies);
  process.env.FLEET_ETL_TEST_ASSEMBLIES = assemblies;
}
