import { rmSync } from 'node:fs';

// Removes the run's shared cloud assemblies (tests/setup/shared-assemblies-setup.js), bundles included.
export default function removeSharedAssemblies() {
  const folder = process.env.FLEET_ETL_TEST_ASSEMBLIES;
  if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
}
