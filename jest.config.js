/** @type {import('jest').Config} */
const swc = [
  "@swc/jest",
  { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } },
];

module.exports = {
  testEnvironment: "node",
  transform: { "^.+\\.(t|j)s$": swc },
  moduleNameMapper: {
    "^@trainpod/core$": "<rootDir>/packages/core/src/index.ts",
    "^@trainpod/(api|worker)$": "<rootDir>/apps/$1/src/index.ts",
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  testMatch: ["<rootDir>/{apps,packages,scripts,test,pod-agent}/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
  globalSetup: "<rootDir>/test/global-setup.ts",
  globalTeardown: "<rootDir>/test/global-teardown.ts",
  testSequencer: "<rootDir>/test/slow-first-sequencer.js",
  testTimeout: 30000,
  maxWorkers: 2,
};
