import { rmSync } from 'node:fs';

// Removes the run's temporary folder (tests/setup/shared-assemblies-setup.js): what the tests made under TMPDIR, and
// the shared cloud assemblies, bundles included.
export default function removeRunFolders() {
  const folder = process.env.FLEET_ETL_TEST_RUN_DIR;
  if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
}
