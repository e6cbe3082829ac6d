// The installed conformance suite's programmatic API against a running deployment.
import { runConformance } from '@pacspace-io/conformance';

const env = process.env;
const report = await runConformance({
  baseUrl: env.PACSPACE_SANDBOX_URL,
  apiKey: env.PACSPACE_API_KEY,
  only: ['AUTH-001', 'AUTH-003', 'LEDGER-001'],
  skip: [],
  allowWrites: false,
  probeRateLimit: false,
});
console.log(JSON.stringify(report.results.map((r) => ({ id: r.id, status: r.status }))));
