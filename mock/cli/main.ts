// `pacspace-sandbox` / `npm start`: starts the stateful sandbox and prints where it is.
// Exit codes: 0 stopped by a signal (or --help, --version); 1 could not start (one line on
// stderr: a port in use, an address not available, …); 2 a usage error (with the usage).
import { banner } from './banner.ts';
import { parseCommandLine, usage, UsageError, type Command } from './command-line.ts';
import { listenFailure } from './listen-failure.ts';
import { stopOnSignals } from './shutdown.ts';
import { ListenError } from '../http/listener.ts';
import pkg from '../package.json' with { type: 'json' };
import { startSandbox } from '../sandbox.ts';

/** Writes `text` to stderr and exits once it is written (a pipe may be asynchronous). */
function exitWith(code: number, text: string): void {
  process.stderr.write(text, () => process.exit(code));
}

async function run(options: Extract<Command, { kind: 'start' }>['options']) {
  const starting = startSandbox(options);
  // Listening for signals from the start: one during start-up stops the sandbox once it is up.
  const shutdown = stopOnSignals(async () => (await starting).close());
  let sandbox;
  try {
    sandbox = await starting;
  } catch (error) {
    const message = error instanceof ListenError ? listenFailure(error) : (error as Error).message;
    return exitWith(1, `pacspace-sandbox: ${message}\n`);
  }
  if (options.logLevel !== 'silent' && !shutdown.stopping) console.log(banner(sandbox, options.dataDir));
  // A long-running server: Prism is loaded a moment after start, not by the first refused
  // request (which would hold every other request for about a second).
  setTimeout(() => void sandbox.warmUp().catch(() => {}), WARM_UP_AFTER_MS).unref();
}

const WARM_UP_AFTER_MS = 500;

async function main(): Promise<void> {
  let command: Command;
  try {
    command = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return exitWith(2, `pacspace-sandbox: ${error.message}\n\n${usage}\n`);
  }
  if (command.kind === 'help') console.log(usage);
  else if (command.kind === 'version') console.log(pkg.version);
  else await run(command.options);
}

await main();
