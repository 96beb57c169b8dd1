/** @type {import('jest').Config} */
// ts-jest in transpile-only mode (isolatedModules): `npm test` type-checks the whole project
// with tsc first, so the test runner only needs to strip types, which is fast.
const tsJest = ['ts-jest', { tsconfig: { isolatedModules: true, allowJs: true, module: 'commonjs', moduleResolution: 'node', esModuleInterop: true, resolveJsonModule: true } }];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)s$': tsJest },
  // Jest cannot require() ES modules; these ESM-only packages are compiled to CommonJS for it
  // (Node >= 20.19 loads them natively, so this concerns the test runner only).
  transformIgnorePatterns: ['/node_modules/(?!(cookie|jose|ai|@ai-sdk|zod|eventsource-parser|@standard-schema|@vercel|@opentelemetry|@workflow|ai-v5)/)'],
  setupFiles: ['<rootDir>/tests/setup-env.ts'],
  // jest shows nothing of a suite whose tests were all skipped; this one repeats why after the
  // summary (a tool from outside npm is missing, see docs/TESTING.md).
  reporters: ['default', '<rootDir>/scripts/jest-skip-reporter.mjs'],
  // The client package imports with ESM's explicit `.js` extensions; its sources are .ts.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 20000,
};
