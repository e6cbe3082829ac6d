#!/usr/bin/env node
// `pacspace-sandbox` / `npm start`: starts the stateful sandbox and prints where it is.
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel } from './logger.ts';
import { startSandbox } from './sandbox.ts';

const usage = `Usage: pacspace-sandbox [options]

  --host HOST           address to bind (default 127.0.0.1)
  --port N              production listener: Dashboard API + pk_live_ keys (default 4010)
  --sandbox-port N      sandbox listener: pk_test_ keys (default 4011)
  --seed N              create the deterministic demo account N (default 1; --seed none for none)
  --provisioning-ms N   how long provisioning an environment takes (default 5000)
  --confirmation-ms N   how long until a recorded delta is confirmed (default 2000)
  --free-plan-deltas N  verified deltas a month on the Free plan in the sandbox (default 100)
  --data DIR            keep an append-only journal in DIR; a restart replays it (default: memory only)
  --no-control          do not serve the /__sandbox/ control surface
  --log-level LEVEL     silent | error | warn | info | debug (default info; debug logs one line per request)
  -h, --help            show this help`;

function main() {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '4010' },
      'sandbox-port': { type: 'string', default: '4011' },
      seed: { type: 'string', default: '1' },
      'provisioning-ms': { type: 'string', default: '5000' },
      'confirmation-ms': { type: 'string', default: '2000' },
      'free-plan-deltas': { type: 'string', default: '100' },
      'no-control': { type: 'boolean', default: false },
      data: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const level = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const int = (name: string, value: string) => {
    if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a whole number, got "${value}"`);
    return Number(value);
  };
  return startSandbox({
    host: values.host,
    port: int('port', values.port!),
    sandboxPort: int('sandbox-port', values['sandbox-port']!),
    ...(values.seed === 'none' ? {} : { seed: int('seed', values.seed!) }),
    provisioningMs: int('provisioning-ms', values['provisioning-ms']!),
    confirmationMs: int('confirmation-ms', values['confirmation-ms']!),
    freePlanDeltas: int('free-plan-deltas', values['free-plan-deltas']!),
    control: !values['no-control'],
    ...(values.data ? { dataDir: values.data } : {}),
    logLevel: level,
  }).then((sandbox) => {
    if (values['log-level'] !== 'silent') {
      const lines = [
        'PacSpace sandbox is running',
        `  Dashboard API + production Balance API (pk_live_):  ${sandbox.productionUrl}`,
        `  Sandbox Balance API (pk_test_):                     ${sandbox.sandboxUrl}`,
        ...(sandbox.services.config.control ? [`  Control surface:                                    ${sandbox.productionUrl}/__sandbox/`] : []),
      ];
      if (sandbox.restoredDemo) {
        lines.push(
          '',
          `Demo account (restored from ${values.data}):`,
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
      console.log(lines.join('\n'));
    }
    const stop = () => sandbox.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

try {
  await main();
} catch (error) {
  console.error(`pacspace-sandbox: ${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}
