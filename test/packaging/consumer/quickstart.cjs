// The quick start as a CommonJS consumer writes it.
const { PacSpace, PlanLimitExceededError, RateLimitError } = require('@pacspace-io/sdk');
const sdk = require('@pacspace-io/sdk');
const quickstart = require('./quickstart-steps.cjs');

quickstart(sdk, { apiKey: process.env.PACSPACE_API_KEY, sandboxUrl: process.env.PACSPACE_SANDBOX_URL, runId: process.env.PACSPACE_RUN_ID }).then((result) => {
  const exported = [PacSpace, PlanLimitExceededError, RateLimitError].every((f) => typeof f === 'function');
  console.log(JSON.stringify({ ...result, exported, module: 'cjs' }));
});
