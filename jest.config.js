// Jest runs the TypeScript sources as native ES modules (see package.json: --experimental-vm-modules);
// @swc/jest strips types only, so `npm run typecheck` is what checks them.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

/** @param {string} name @param {string} dir */
const project = (name, dir) => ({
  displayName: name,
  testEnvironment: 'node',
  testMatch: [`<rootDir>/tests/${dir}/**/*.test.ts`],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFiles: ['<rootDir>/tests/setup/quiet-aws-sdk.ts'],
});

export default {
  // Slow tests (servers, DuckDB, whole runs) pass their own timeouts: jest reads testTimeout only globally.
  projects: [
    project('unit', 'unit'),
    // One suite per port (tests/contracts/<port>.contract.ts), run against every adapter of the port.
    project('contracts', 'contracts'),
    project('integration', 'integration'),
    project('e2e', 'e2e'),
    project('infra', 'infra'),
    project('faults', 'faults'),
    // The cloud twin: the synthesized stack's bundles against IAM-enforcing emulators on loopback (twin/).
    project('cloud', 'cloud'),
  ],
};
