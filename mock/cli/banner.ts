// What `pacspace-sandbox` prints once it is listening: both URLs and the demo account.
import type { RunningSandbox } from '../sandbox.ts';

export function banner(sandbox: RunningSandbox, dataDir: string | undefined): string {
  const lines = [
    'PacSpace sandbox is running',
    `  Dashboard API + production Balance API (pk_live_):  ${sandbox.productionUrl}`,
    `  Sandbox Balance API (pk_test_):                     ${sandbox.sandboxUrl}`,
    ...(sandbox.services.config.control
      ? [`  Control surface:                                    ${sandbox.productionUrl}/__sandbox/${sandbox.services.config.controlToken === undefined ? '' : ' (send X-Sandbox-Control-Token)'}`]
      : []),
    ...(sandbox.services.config.control && (sandbox.services.inspector?.capacity ?? 0) > 0
      ? [`${'  Request inspector (a web page):'.padEnd(54)}${sandbox.productionUrl}/__sandbox/inspector/`]
      : []),
    // Chaos makes the sandbox fail on purpose: say so, or its errors look like the sandbox's own.
    ...(sandbox.services.chaos?.state().active
      ? [`${'  Chaos:'.padEnd(54)}on, failures on purpose (seed ${sandbox.services.chaos.state().seed}; GET /__sandbox/chaos)`]
      : []),
  ];
  if (sandbox.restoredDemo) {
    lines.push(
      '',
      `Demo account (restored from ${dataDir}):`,
      `  email:     ${sandbox.restoredDemo.email}`,
      `  password:  ${sandbox.restoredDemo.password}`,
      '  (its API key was shown when it was created; create another in the dashboard API)',
    );
  }
  if (sandbox.demo) {
    lines.push(
      '',
      'Demo account (deterministic for this --seed):',
      `  email:     ${sandbox.demo.email}`,
      `  password:  ${sandbox.demo.password}`,
      `  API key:   ${sandbox.demo.apiKey}`,
      '  (the API key secret is shown only now; create more keys in the dashboard API)',
    );
  }
  return lines.join('\n');
}
