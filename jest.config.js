/** @type {import('jest').Config} */
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)s$': swc },
  // Jest cannot require() ES modules; these ESM-only packages are compiled to CommonJS for it
  // (Node itself loads them natively, so this concerns the test runner only).
  transformIgnorePatterns: ['/node_modules/(?!(cookie|jose)/)'],
  setupFiles: ['<rootDir>/tests/setup-env.ts'],
  testTimeout: 20000,
};
