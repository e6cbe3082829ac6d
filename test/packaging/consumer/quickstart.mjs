// The quick start as an ES module consumer writes it (Node, Bun and Deno run this file).
import { PacSpace, PlanLimitExceededError, RateLimitError } from '@pacspace-io/sdk';
import * as sdk from '@pacspace-io/sdk';
import quickstart from './quickstart-steps.cjs';

const env = globalThis.process?.env ?? globalThis.Deno.env.toObject();
const result = await quickstart(sdk, { apiKey: env.PACSPACE_API_KEY, sandboxUrl: env.PACSPACE_SANDBOX_URL, runId: env.PACSPACE_RUN_ID });
const exported = [PacSpace, PlanLimitExceededError, RateLimitError].every((f) => typeof f === 'function');
console.log(JSON.stringify({ ...result, exported, module: 'esm' }));
