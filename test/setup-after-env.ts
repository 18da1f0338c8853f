import { afterEach } from '@jest/globals';

// core.setFailed sets process.exitCode; a test that expects a failure must not fail the test run.
afterEach(() => {
  process.exitCode = undefined;
});
