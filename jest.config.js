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

/** @param {string} name @param {string} dir @param {number} timeout */
const project = (name, dir, timeout) => ({
  displayName: name,
  testEnvironment: 'node',
  testMatch: [`<rootDir>/tests/${dir}/**/*.test.ts`],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: timeout,
});

export default {
  projects: [
    project('unit', 'unit', 10_000),
    project('integration', 'integration', 60_000),
    project('e2e', 'e2e', 180_000),
  ],
};
