import { afterAll, afterEach } from '@jest/globals';
import nock from 'nock';

// core.setFailed sets process.exitCode; a test that expects a failure must not fail the test run.
afterEach(() => {
  process.exitCode = undefined;
});

// Each test file loads its own nock, but they share Node's http module within a worker: take this
// file's interceptors away, or they would answer the next file's requests.
afterAll(() => {
  nock.cleanAll();
  nock.restore();
});
