// `npm run test:unit`: the tests that need no Postgres, Redis, simulator, S3 server or trainer venv (every
// `*.int.test.ts` and everything under test/ does). No global setup: nothing to start.
const base = require("./jest.config");

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  globalSetup: undefined,
  globalTeardown: undefined,
  testSequencer: undefined,
  testPathIgnorePatterns: [...base.testPathIgnorePatterns, "\\.int\\.test\\.ts$", "<rootDir>/test/"],
};
